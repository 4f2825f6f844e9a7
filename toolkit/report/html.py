"""The report as one self-contained HTML page: tables and plots (PNG embedded as data URIs).

People would rather look at the plots than read the tables: label distribution (human
against predicted), edit types, agreement per label. matplotlib renders them through its
Agg canvas without pyplot, so no display and no global state are involved.
"""

from __future__ import annotations

import base64
import io
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.io.atomic import atomic_output
from toolkit.report.build import NOT_ENOUGH_DATA, OVERALL, Report, Scores

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
th { text-align: left; }
tr.overall td { font-weight: bold; }
tr.flagged td { background: #fff3cd; }
td.text { text-align: left; }
.note { color: #8a6d3b; }
img { max-width: 100%; }
"""


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _bars(
    title: str, categories: list[str], series: dict[str, list[float]], ylabel: str, *, counts: bool = True
) -> str:
    """A grouped bar chart as a data URI; counts get whole-number ticks, scores a [min(0, ...), 1] axis."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    figure = Figure(figsize=(max(5.0, 1.1 * len(categories) + 3), 3.4))
    axes = figure.add_subplot()
    width = 0.8 / max(1, len(series))
    for number, (name, values) in enumerate(series.items()):
        positions = [i + (number - (len(series) - 1) / 2) * width for i in range(len(categories))]
        axes.bar(positions, values, width=width, label=name)
    axes.set_xticks(range(len(categories)), categories, rotation=25, ha="right")
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    if counts:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        axes.set_ylim(min(0.0, *(v for values in series.values() for v in values)), 1.0)
        axes.axhline(0, color="#444", linewidth=0.8)
    if len(series) > 1:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _png(figure)


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _align(cell: str) -> str:
    """Numbers right (the stylesheet's default), words left."""
    number = cell.replace(",", "").replace(".", "").replace("%", "").replace("-", "")
    return "" if number.isdigit() or cell in ("n/a", "unknown") else ' class="text"'


def _table(header: list[str], rows: list[tuple[list[str], str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join(
        f'<tr class="{css}">'
        + "".join(f"<td{_align(cell)}>{escape(cell).replace(chr(10), '<br>')}</td>" for cell in cells)
        + "</tr>"
        for cells, css in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _scores(rows: list[Scores]) -> str:
    return _table(
        ["label", "precision", "recall", "F1", "matched", "predicted", "human"],
        [
            (
                [
                    r.label,
                    _number(r.precision),
                    _number(r.recall),
                    _number(r.f1),
                    str(r.true_positives),
                    str(r.predicted),
                    str(r.gold),
                ],
                "overall" if r.label == OVERALL else "",
            )
            for r in rows
        ],
    )


def _not_enough(reason: str | None) -> str:
    return f'<p class="note">{escape(NOT_ENOUGH_DATA.capitalize())}: {escape(reason or "")}.</p>'


def render_html(report: Report) -> str:
    p = report.progress
    unknown = "unknown"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Annotation report: {escape(report.source)}</title><style>{STYLE}</style></head><body>",
        f"<h1>Annotation report</h1><p>Source: <code>{escape(report.source)}</code></p>",
        f"<p>Tokens: {escape(report.tokenizer)}; spans aligned with Doc.char_span (expand mode).</p>"
        if report.tokenizer
        else "",
        "<h2>Progress</h2>",
        _table(
            ["tasks", "annotated", "not annotated", "only skipped", "skipped annotations", "drafts"],
            [
                (
                    [
                        unknown if p.tasks_total is None else str(p.tasks_total),
                        str(p.annotated),
                        unknown if p.not_annotated is None else str(p.not_annotated),
                        unknown if p.only_skipped is None else str(p.only_skipped),
                        str(p.skipped_annotations),
                        str(p.drafts),
                    ],
                    "",
                )
            ],
        ),
    ]
    if p.tasks_total is None:
        parts.append('<p class="note">No pull ledger was found: tasks nobody annotated are unknown.</p>')
    if p.spans_dropped or p.spans_repaired:
        dropped = ", ".join(f"{reason} {count}" for reason, count in p.spans_dropped.items())
        parts.append(
            f'<p class="note">Pull left out {sum(p.spans_dropped.values())} human spans'
            + (f" ({escape(dropped)})" if dropped else "")
            + f" and kept {p.spans_repaired} after a fix (see the pull ledger).</p>"
        )
    counts = report.label_counts
    used = [label for label, c in counts.items() if c["human"] or c["predicted"]]
    if used:
        parts.append(
            f'<img alt="label distribution" src="{_bars("Spans per label", used, {"human": [counts[l]["human"] for l in used], "predicted": [counts[l]["predicted"] for l in used]}, "spans")}">'
        )
    m = report.model
    parts.append("<h2>Model against human</h2>")
    if m.status != "ok":
        parts.append(_not_enough(m.reason))
    else:
        parts += [
            (
                f"<p>Pre-annotations of {escape(', '.join(m.model_versions))} against the final human spans of "
                f"{m.tasks} tasks ({m.tasks_without_predictions} annotated tasks without predictions left out).</p>"
            ),
            "<h3>Entity level, seqeval strict mode, IOB2 scheme</h3>",
            _scores(m.strict_iob2),
            "<h3>Exact span match (same start, end and label)</h3>",
            _scores(m.exact_span),
            "<h3>Edits</h3>",
            f'<img alt="edit types" src="{_bars("Edit types", list(m.edits), {"spans": list(m.edits.values())}, "spans")}">',
            _table(
                ["edit", "count", "examples"],
                [
                    (
                        [
                            kind,
                            str(count),
                            "\n".join(
                                f"{e.before or '-'} -> {e.after or '-'} (task {e.task_id})"
                                for e in m.examples.get(kind, [])
                            ),
                        ],
                        "",
                    )
                    for kind, count in m.edits.items()
                ],
            ),
        ]
    a = report.agreement
    parts.append("<h2>Agreement</h2>")
    if a.status != "ok":
        parts.append(_not_enough(a.reason))
    else:
        parts.append(
            f"<p>{a.tasks} tasks submitted by several annotators ({a.annotators} annotators, {a.pairs} pairs, "
            f"{a.tokens} tokens). Span F1: exact spans, pairwise. Cohen's kappa: IOB2 token tags pooled over pairs. "
            "Krippendorff's alpha: nominal, the same tags.</p>"
        )
        labels = [row.label for row in a.per_label]
        series = {
            "span F1": [row.span_f1 or 0.0 for row in a.per_label],
            "Cohen's kappa": [row.cohen_kappa or 0.0 for row in a.per_label],
            "Krippendorff's alpha": [row.krippendorff_alpha or 0.0 for row in a.per_label],
        }
        parts.append(
            f'<img alt="agreement per label" src="{_bars("Agreement per label (n/a shown as 0)", labels, series, "", counts=False)}">'
        )
        parts.append(
            _table(
                ["label", "tasks", "pairs", "span F1", "Cohen's kappa", "Krippendorff's alpha", "note"],
                [
                    (
                        [
                            r.label,
                            str(r.tasks),
                            str(r.pairs),
                            _number(r.span_f1),
                            _number(r.cohen_kappa),
                            _number(r.krippendorff_alpha),
                            r.reason or "",
                        ],
                        "overall" if r.label == OVERALL else "",
                    )
                    for r in a.per_label
                ],
            )
        )
    parts.append("<h2>Per annotator</h2>")
    if not report.annotators:
        parts.append(_not_enough("no annotator in the input"))
    else:
        t = report.thresholds
        parts.append(
            _table(
                [
                    "annotator",
                    "tasks",
                    "skipped",
                    "drafts",
                    "median lead time (s)",
                    "predicted spans",
                    "accepted unchanged",
                    "share",
                    "flag",
                ],
                [
                    (
                        [
                            r.annotator,
                            str(r.tasks),
                            str(r.skipped),
                            str(r.drafts),
                            _number(r.median_lead_time, 1),
                            str(r.predicted_spans),
                            str(r.accepted_unchanged),
                            "n/a" if r.accepted_share is None else f"{r.accepted_share:.0%}",
                            r.flag_reason or "",
                        ],
                        "flagged" if r.flagged else "",
                    )
                    for r in report.annotators
                ],
            )
        )
        parts.append(
            f"<p>Flagged: accepts at least {t.accept_share:.0%} of predicted spans unchanged with a median lead time "
            f"of at most {t.fast_lead_time:g} s over at least {t.min_tasks} tasks (<code>report.*</code> in the config).</p>"
        )
    parts.append("</body></html>\n")
    return "\n".join(parts)


def write_html(report: Report, path: Path) -> None:
    """Write the page atomically (a half-written page never replaces a good one)."""
    page = render_html(report)
    with atomic_output(Path(path)) as handle:
        handle.write(page)
    # The temporary file was private (0600); the page is for people to open.
    Path(path).chmod(0o644)
