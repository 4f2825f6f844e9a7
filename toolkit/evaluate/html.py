"""Evaluate's figures as one self-contained HTML page in the report's style: tables and plots."""

from __future__ import annotations

from html import escape
from pathlib import Path

from toolkit.evaluate.run import EvaluateResult
from toolkit.io.atomic import atomic_output
from toolkit.io.plots import STYLE, bars, image
from toolkit.io.text import plural
from toolkit.metrics.edits import EDIT_KINDS
from toolkit.metrics.spans import OVERALL


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def render_html(result: EvaluateResult) -> str:
    labels = [*result.labels, OVERALL]
    names = [model.spec for model in result.models]
    # A label whose F1 is n/a for every model (no span of it anywhere) is left out of the
    # plot, and said so; an n/a bar among others is drawn empty, and said so.
    everywhere, some = result.f1_not_plotted()
    plotted = [label for label in labels if label not in everywhere]
    f1 = {model.spec: [model.exact.prf(label).f1 or 0.0 for label in plotted] for model in result.models}
    shown = ["micro" if label == OVERALL else label for label in plotted]
    not_plotted = []
    if everywhere:
        not_plotted.append(f"Not plotted, F1 n/a (no gold and no predicted span): {escape(', '.join(everywhere))}.")
    if some:
        pairs = ", ".join(f"{spec} on {label}" for spec, label in some)
        not_plotted.append(f"Drawn as an empty bar, F1 n/a (no gold and no predicted span): {escape(pairs)}.")
    kinds = [*EDIT_KINDS]
    edits = {model.spec: [model.edits_per_article()[kind] for kind in kinds] for model in result.models}
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>Model evaluation</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>Model evaluation</h1>",
        f"<p>{escape(result.split)} split of <code>{escape(result.export)}</code>: {result.articles:,} human-annotated "
        f"{'article' if result.articles == 1 else 'articles'}, {plural(result.gold_spans, 'span')}; "
        f"tokens: {escape(result.tokenizer)}.</p>",
        *([f"<p class='note'>Note: {escape(note)}.</p>"] if (note := result.small_note) else []),
        image("F1 per label", bars("F1 per label (exact spans)", shown, f1, "F1", counts=False)),
        *(f"<p>{line}</p>" for line in not_plotted),
        image("edits per article", bars("Edits an annotator would need, per article", kinds, edits, "per article")),
    ]
    for model in result.models:
        parts.append(f"<h2>{escape(model.spec)} <small>({escape(model.model.model_version)})</small></h2>")
        parts.append("<table><tr><th>label</th><th>P</th><th>R</th><th>F1</th>")
        parts.append("<th>strict P</th><th>strict R</th><th>strict F1</th><th>gold</th></tr>")
        for label in labels:
            exact, strict = model.exact.prf(label), model.strict.prf(label)
            row = "overall" if label == OVERALL else ""
            cells = [exact.precision, exact.recall, exact.f1, strict.precision, strict.recall, strict.f1]
            parts.append(
                f"<tr class='{row}'><td>{escape('micro' if label == OVERALL else label)}</td>"
                + "".join(f"<td>{_f(value)}</td>" for value in cells)
                + f"<td>{exact.gold:,}</td></tr>"
            )
        parts.append("</table>")
    if result.comparisons:
        parts.append("<h2>Differences</h2><table><tr><th>model</th><th>reference</th><th>micro F1</th>")
        parts.append("<th>95% interval</th></tr>")
        for c in result.comparisons:
            interval = f"[{c.low:+.3f}, {c.high:+.3f}]" if c.low is not None else escape(c.note or "n/a")
            difference = "n/a" if c.difference is None else f"{c.difference:+.3f}"
            parts.append(
                f"<tr><td>{escape(c.model)}</td><td>{escape(c.reference)}</td><td>{difference}</td>"
                f"<td>{interval}</td></tr>"
            )
        parts.append(
            f"</table><p>Paired bootstrap over articles ({result.comparisons[0].resamples:,} resamples, "
            "percentile interval).</p>"
        )
    parts.append(f"<p>Models: {escape(', '.join(names))}. P/R/F1: exact character spans; strict: seqeval ")
    parts.append("strict IOB2 entities on the export's tokens.</p></body></html>")
    return "\n".join(parts) + "\n"


def write_html(result: EvaluateResult, path: Path) -> None:
    page = render_html(result)
    with atomic_output(path) as handle:
        handle.write(page)
    path.chmod(0o644)
