"""The report's view: its sections (progress, model against human, agreement, annotators,
adjudication) as render blocks, built once from the ``Report``; ``toolkit.render`` draws
them on a terminal, as the markdown section of the dataset card (the ``brief`` view) and
on the report's page (``toolkit.report.page``, with plots).
"""

from __future__ import annotations

from pathlib import Path

from toolkit.render import Block, Code, Data, Document, Line, Row, Section, Table, count, number, percent, plural
from toolkit.report.model import NOT_ENOUGH_DATA, OVERALL, AlignmentModes, Report, Scores

TITLE = "Annotation report"


def alignment_text(alignment: AlignmentModes) -> str:
    """How spans were aligned to tokens, in the words of the config."""
    then = "no fallback" if alignment.fallback == "none" else f"else {alignment.fallback} mode"
    return f"spans aligned as the export aligns them: Doc.char_span in {alignment.mode} mode, {then}"


# Stale decisions named in the adjudication section; the pull output has them all (decision.stale).
STALE_SHOWN = 20


def _all(header: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((column, column) for column in header)


def _not_enough(reason: str | None) -> Line:
    return Line((f"{NOT_ENOUGH_DATA.capitalize()}: {reason}.",), note=True, brief=True)


def _scores_table(key: str, title: str, rows: list[Scores]) -> Table:
    header = ("label", "precision", "recall", "F1", "matched", "predicted", "human")
    return Table(
        key=key,
        title=title,
        header=header,
        words=frozenset({"label"}),
        rows=tuple(
            Row(
                (
                    Data(r.label),
                    number(r.precision),
                    number(r.recall),
                    number(r.f1),
                    count(r.true_positives),
                    count(r.predicted),
                    count(r.gold),
                ),
                "overall" if r.label == OVERALL else "",
            )
            for r in rows
        ),
    )


def progress(report: Report) -> Section:
    p = report.progress
    header = ("tasks", "annotated", "not annotated", "only skipped", "skipped annotations", "drafts")
    cells = (p.tasks_total, p.annotated, p.not_annotated, p.only_skipped, p.skipped_annotations, p.drafts)
    shown = [count(c) for c in cells]
    if p.tasks_total is None:
        shown[0] = "unknown (no pull ledger)"
    blocks: list[Block] = [Table("progress", None, header, (Row(tuple(shown)),), brief=_all(header))]
    if p.tasks_total is None:
        where = (" next to ", Code(report.source)) if report.source else ()
        unknown = ": tasks nobody annotated or only skipped are unknown."
        blocks.append(Line(("No pull ledger", *where, unknown), brief=True))
    if p.spans_dropped or p.spans_repaired:
        dropped = ", ".join(f"{reason} {n:,}" for reason, n in p.spans_dropped.items())
        blocks.append(
            Line(
                (
                    f"Pull left out {plural(sum(p.spans_dropped.values()), 'human span')}",
                    *((" (", Data(dropped), ")") if dropped else ()),
                    f" and kept {p.spans_repaired:,} after a fix (see ",
                    Code(p.ledger or ""),
                    ").",
                ),
                note=True,
            )
        )
    return Section("progress", "Progress", tuple(blocks))


def model(report: Report) -> Section:
    m = report.model
    if m.status != "ok":
        return Section("model", "Model against human", (_not_enough(m.reason),))
    exact = {row.label: row for row in m.exact_span}
    blocks: list[Block] = [
        Line(
            (
                "Pre-annotations of ",
                Data(", ".join(m.model_versions)),
                f" against the final human spans of {plural(m.tasks, 'task')} "
                f"({plural(m.tasks_without_predictions, 'annotated task')} without predictions left out).",
            ),
            brief=True,
        ),
        _scores_table("strict", "entity level, seqeval strict mode, IOB2 scheme", m.strict_iob2),
    ]
    if m.tokens_lost:
        blocks.append(
            Line(
                (
                    f"{plural(m.tokens_lost, 'span')} {'overlaps' if m.tokens_lost == 1 else 'overlap'} another or "
                    "are not alignable: not in the token tags.",
                ),
                note=True,
            )
        )
    blocks += [
        _scores_table("exact", "exact span match (same start, end and label)", m.exact_span),
        Line(
            (
                "Strict: seqeval, mode=strict, scheme=IOB2 on ",
                Data(report.tokenizer or ""),
                f" tokens ({alignment_text(report.alignment)}). Exact: identical character offsets and label.",
            ),
            full=False,
            brief=True,
        ),
    ]
    header = ("label", "strict P", "strict R", "strict F1", "exact P", "exact R", "exact F1", "human spans")
    rows = []
    for row in m.strict_iob2:
        e = exact.get(row.label)
        rows.append(
            Row(
                (
                    Data(row.label),
                    number(row.precision),
                    number(row.recall),
                    number(row.f1),
                    number(e.precision if e else None),
                    number(e.recall if e else None),
                    number(e.f1 if e else None),
                    count(e.gold if e else row.gold),
                ),
                "overall" if row.label == OVERALL else "",
            )
        )
    blocks.append(Table("comparison", None, header, tuple(rows), frozenset({"label"}), full=False, brief=_all(header)))
    blocks.append(
        Table(
            "edits",
            "edits: predicted span -> human span",
            ("edit", "count", "examples"),
            tuple(
                Row(
                    (
                        kind,
                        count(n),
                        Data(
                            "\n".join(
                                f"{e.before or '-'} -> {e.after or '-'} (task {e.task_id})"
                                for e in m.examples.get(kind, [])
                            )
                        ),
                    )
                )
                for kind, n in m.edits.items()
            ),
            frozenset({"edit", "examples"}),
        )
    )
    edits = ", ".join(f"{kind} {n:,}" for kind, n in m.edits.items())
    blocks.append(Line((f"Edits: {edits}",), full=False, brief=True))
    return Section("model", "Model against human", tuple(blocks))


def agreement(report: Report) -> Section:
    a = report.agreement
    if a.status != "ok":
        return Section("agreement", "Agreement", (_not_enough(a.reason),))
    header = ("label", "tasks", "pairs", "span F1", "Cohen's kappa", "Krippendorff's alpha", "note")
    rows = tuple(
        Row(
            (
                Data(r.label),
                count(r.tasks),
                count(r.pairs),
                number(r.span_f1),
                number(r.cohen_kappa),
                number(r.krippendorff_alpha),
                r.reason or "",
            ),
            "overall" if r.label == OVERALL else "",
        )
        for r in a.per_label
    )
    brief = tuple((c, c) for c in header if c not in ("pairs", "note"))
    return Section(
        "agreement",
        "Agreement",
        (
            Line(
                (
                    f"{plural(a.tasks, 'task')} submitted by several annotators ({plural(a.annotators, 'annotator')}, "
                    f"{plural(a.pairs, 'pair')}, {plural(a.tokens, 'token')}).",
                ),
                brief=True,
            ),
            Line(
                (
                    "Span F1 pairwise on exact spans; Cohen's kappa on IOB2 token tags pooled over pairs; "
                    "Krippendorff's alpha (nominal) on the same tags.",
                )
            ),
            Table("agreement", None, header, rows, frozenset({"label", "note"}), brief=brief),
        ),
    )


def annotators(report: Report) -> Section:
    if not report.annotators:
        return Section("annotators", "Per annotator", (_not_enough("no annotator in the input"),))
    t = report.thresholds
    header = (
        "annotator",
        "tasks",
        "skipped",
        "drafts",
        "median lead time (s)",
        "predicted spans",
        "accepted unchanged",
        "share",
        "flag",
    )
    rows = tuple(
        Row(
            (
                Data(r.annotator),
                count(r.tasks),
                count(r.skipped),
                count(r.drafts),
                number(r.median_lead_time, 1),
                count(r.predicted_spans),
                count(r.accepted_unchanged),
                percent(r.accepted_share),
                "fast, accepts nearly all" if r.flagged else "",
            ),
            "flagged" if r.flagged else "",
        )
        for r in report.annotators
    )
    brief = (
        ("annotator", "annotator"),
        ("tasks", "tasks"),
        ("median lead time (s)", "median lead time (s)"),
        ("share", "accepted unchanged"),
        ("flag", "flag"),
    )
    blocks: list[Block] = [
        Table("annotators", None, header, rows, frozenset({"annotator", "flag"}), brief=brief),
        Line(
            (
                f"Flagged: accepts at least {t.accept_share:.0%} of predicted spans unchanged with a median lead "
                f"time of at most {t.fast_lead_time:g} s over at least {t.min_tasks} tasks (",
                Code("report.*"),
                " in the config).",
            )
        ),
    ]
    blocks += [Line((Data(r.annotator), f": {r.flag_reason}"), note=True) for r in report.annotators if r.flagged]
    return Section("annotators", "Per annotator", tuple(blocks))


def adjudication(report: Report) -> Section:
    a = report.adjudication
    lines: list[Block] = [
        Line(
            (
                f"{plural(a.articles, 'article')} with several annotators: {a.agreed:,} agreed (auto-accepted), "
                f"{plural(a.found, 'dispute')} found: {a.resolved:,} resolved, "
                f"{a.pending:,} pending in the review project, "
                f"{a.not_sent:,} not sent yet (",
                Code("toolkit adjudicate"),
                ").",
            ),
            brief=True,
        ),
        Line(
            (
                f"Pairwise span F1 among the annotators: {number(a.agreement_before)} before adjudication, "
                f"{number(a.agreement_after)} after (each adjudicated answer standing for every annotator).",
            ),
            brief=True,
        ),
    ]
    if a.stale:
        shown = a.stale_articles[:STALE_SHOWN]
        more = f" and {a.stale - len(shown):,} more" if a.stale > len(shown) else ""
        pieces: list[str] = [
            f"{plural(a.stale, 'adjudicated article')} changed by an annotator after adjudication "
            "(the decision stands, decision.stale): "
        ]
        for index, article_id in enumerate(shown):
            pieces += [", "] if index else []
            pieces.append(Data(article_id))
        lines.append(Line((*pieces, f"{more}."), True))
    if a.sided_with:
        header = ("label", "annotator", "disputed spans", "kept by the adjudicator", "share")
        rows = tuple(
            Row((Data(r.label), Data(r.annotator), count(r.disputed_spans), count(r.kept), percent(r.share)))
            for r in a.sided_with
        )
        lines.append(
            Table("sided_with", "whom the adjudicator sided with", header, rows, frozenset({"label", "annotator"}))
        )
    return Section("adjudication", "Adjudication", tuple(lines))


def intro(report: Report) -> Section:
    lines = [Line(("Source: ", Code(report.source)))]
    if report.tokenizer:
        lines.append(Line(("Tokens: ", Data(report.tokenizer), f"; {alignment_text(report.alignment)}.")))
    return Section("intro", None, tuple(lines))


def report_sections(report: Report) -> tuple[Section, ...]:
    return (progress(report), model(report), agreement(report), annotators(report)) + (
        (adjudication(report),) if report.adjudication.articles else ()
    )


def report_document(report: Report) -> Document:
    """The whole report (console, page)."""
    return Document(TITLE, (intro(report), *report_sections(report)))


def report_markdown(report: Report) -> str:
    """A compact markdown of the report's figures (the brief view), with its own ``##`` heading."""
    from toolkit.render.markdown import markdown_document

    return markdown_document(Document(TITLE, report_sections(report)), level=2, brief=True)


def page_written(path: Path) -> Section:
    """What ``toolkit report --html`` says once the page is written."""
    return Section("written", None, (Line(("Wrote the HTML report to ", Code(str(path)))),))
