"""Evaluate's view: an ``EvaluateResult`` as a render ``Document`` (``toolkit.render``).

One document for every medium: ``toolkit evaluate`` prints it (``render.console``) and
writes it as a page with ``--html`` (``render.html``; the two plots are drawn there only).
The per-label table (``label_table``) is built once, here.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.metrics.edits import EDIT_KINDS
from toolkit.metrics.spans import OVERALL
from toolkit.render import Code, Data, Document, Line, Plot, Row, Section, Table, count, number, plural, signed

if TYPE_CHECKING:
    from toolkit.evaluate.evaluation import EvaluateResult, ModelScores

TITLE = "Model evaluation"
NOT_PLOTTED = "F1 n/a (no gold and no predicted span)"


def _label(label: str) -> str:
    return "micro" if label == OVERALL else label


def label_table(model: ModelScores) -> Table:
    """P/R/F1 per label and micro, by exact character span and by seqeval strict IOB2 entity."""
    rows = []
    for label in [*model.labels, OVERALL]:
        exact, strict = model.exact.prf(label), model.strict.prf(label)
        cells = (exact.precision, exact.recall, exact.f1, strict.precision, strict.recall, strict.f1)
        emphasis = "overall" if label == OVERALL else ""
        rows.append(Row((Data(_label(label)), *map(number, cells), count(exact.gold)), emphasis))
    header = ("label", "P", "R", "F1", "strict P", "strict R", "strict F1", "gold")
    return Table("labels", None, header, tuple(rows), frozenset({"label"}))


def _f1_plot(result: EvaluateResult) -> Plot:
    # A label whose F1 is n/a for every model (no span of it anywhere) is left out of the
    # plot, and said so; an n/a bar among others is drawn empty, and said so.
    everywhere, some = result.f1_not_plotted()
    plotted = [label for label in [*result.labels, OVERALL] if label not in everywhere]

    def draw() -> str:
        from toolkit.render.plots import bars

        f1 = {model.spec: [model.exact.prf(label).f1 or 0.0 for label in plotted] for model in result.models}
        return bars("F1 per label (exact spans)", [_label(label) for label in plotted], f1, "F1", counts=False)

    notes = []
    if everywhere:
        notes.append(Line((f"Not plotted, {NOT_PLOTTED}: ", Data(", ".join(everywhere)), ".")))
    if some:
        pairs = ", ".join(f"{spec} on {label}" for spec, label in some)
        notes.append(Line((f"Drawn as an empty bar, {NOT_PLOTTED}: ", Data(pairs), ".")))
    return Plot("F1 per label", draw, tuple(notes))


def _edits_plot(result: EvaluateResult) -> Plot:
    def draw() -> str:
        from toolkit.render.plots import bars

        edits = {model.spec: [model.edits_per_article()[kind] for kind in EDIT_KINDS] for model in result.models}
        return bars("Edits an annotator would need, per article", [*EDIT_KINDS], edits, "per article")

    return Plot("edits per article", draw)


def summary(result: EvaluateResult) -> Section:
    said = (
        f": {plural(result.articles, 'human-annotated article')}, {plural(result.gold_spans, 'span')}; tokens: ",
        Data(result.tokenizer),
        ".",
    )
    blocks = [Line((f"{result.split} split of ", Code(result.export), *said))]
    blocks.extend(left_out(result))
    if note := result.small_note:
        blocks.append(Line((f"Note: {note}.",), note=True))
    return Section("summary", None, (*blocks, _f1_plot(result), _edits_plot(result)))


def left_out(result: EvaluateResult) -> list[Line]:
    """One line on the articles left out because a model saw them in training (none when no
    model has a record), and a note per model whose record is missing (an older toolkit's)."""
    out = result.left_out
    lines = []
    if out.checked:
        counts = ", ".join(f"{spec} saw {count(out.by_model[spec] or 0)}" for spec in out.checked)
        if out.articles:
            said = (
                f"Left out: {count(out.articles)} of the split's {plural(out.split_articles, 'article')}, "
                f"seen in training, train or validation split ({counts}); "
                f"scored on the other {count(out.split_articles - out.articles)}."
            )
        else:
            said = f"Left out: none; no article of the split was seen in training ({counts})."
        lines.append(Line((said,)))
    for spec in out.unchecked:
        note = (
            f"Note: {spec} was trained by an older toolkit that did not record its articles: whether it saw "
            "any of these in training cannot be checked; train it again to record them."
        )
        lines.append(Line((note,), note=True))
    return lines


def model_section(model: ModelScores) -> Section:
    # The name as a heading of its own: a table title is cut to the table's width.
    return Section(f"model {model.spec}", f"{model.spec} ({model.model.model_version})", (label_table(model),))


def edits(result: EvaluateResult) -> Section:
    kinds = (*EDIT_KINDS, "edits")
    rows = []
    for model in result.models:
        per = model.edits_per_article()
        rows.append(Row((Data(model.spec), *(number(per[kind], 2) for kind in kinds))))
    header = ("model", *kinds)
    table = Table("edits", "edits an annotator would need, per article", header, tuple(rows), frozenset({"model"}))
    return Section("edits", None, (table, Line(("edits: every kind but accepted unchanged.",))))


def differences(result: EvaluateResult) -> Section:
    rows = []
    for c in result.comparisons:
        interval = f"[{signed(c.low)}, {signed(c.high)}]" if c.low is not None else (c.note or "n/a")
        rows.append(Row((Data(c.model), Data(c.reference), signed(c.difference), interval)))
    header = ("model", "reference", "micro F1", "95% interval")
    table = Table("differences", None, header, tuple(rows), frozenset({"model", "reference", "95% interval"}))
    method = (
        "Micro F1 (exact spans) minus the reference's; paired bootstrap over articles "
        f"({result.comparisons[0].resamples:,} resamples, percentile interval)."
    )
    return Section("differences", "Differences", (table, Line((method,))))


def evaluation(result: EvaluateResult) -> Document:
    """Everything ``toolkit evaluate`` shows of ``result``."""
    scores = Line(("P/R/F1: exact character spans; strict: seqeval strict IOB2 entities on the export's tokens.",))
    sections = [summary(result), *map(model_section, result.models), Section("scores", None, (scores,))]
    sections.append(edits(result))
    if result.comparisons:
        sections.append(differences(result))
    return Document(TITLE, tuple(sections), rules=False)


def notes(result: EvaluateResult) -> Section:
    """How the model arguments were taken (said on stderr when stdout is JSON)."""
    return Section("notes", None, tuple(Line((f"Note: {note}",), note=True) for note in result.notes))


def page_written(path: Path) -> Section:
    return Section("written", None, (Line(("Wrote the HTML page to ", Code(str(path)))),))
