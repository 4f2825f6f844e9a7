"""The report as one self-contained HTML page (``toolkit.render.html``): the full view, and plots.

People would rather look at the plots than read the tables: label distribution (human
against predicted), edit types, agreement per label. matplotlib renders them through its
Agg canvas without pyplot, so no display and no global state are involved.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from toolkit.render.document import Table
from toolkit.render.html import html_block, html_heading, html_image, html_page, html_table, write_page
from toolkit.render.plots import bars as _bars
from toolkit.report.model import Report
from toolkit.report.view import TITLE, report_document


def _label_plot(report: Report) -> str:
    counts = report.label_counts
    used = [label for label, c in counts.items() if c["human"] or c["predicted"]]
    if not used:
        return ""
    series = {side: [counts[label][side] for label in used] for side in ("human", "predicted")}
    return html_image("label distribution", _bars("Spans per label", used, series, "spans"))


def _edit_plot(report: Report) -> str:
    edits = report.model.edits
    return html_image("edit types", _bars("Edit types", list(edits), {"spans": list(edits.values())}, "spans"))


def _agreement_plot(report: Report) -> str:
    rows = report.agreement.per_label
    series = {
        "span F1": [row.span_f1 or 0.0 for row in rows],
        "Cohen's kappa": [row.cohen_kappa or 0.0 for row in rows],
        "Krippendorff's alpha": [row.krippendorff_alpha or 0.0 for row in rows],
    }
    labels = [row.label for row in rows]
    uri = _bars("Agreement per label (n/a shown as 0)", labels, series, "", counts=False)
    return html_image("agreement per label", uri)


# Plots drawn before the table of that key.
PLOTS = {"edits": _edit_plot, "agreement": _agreement_plot}


def render_html(report: Report) -> str:
    parts = []
    for section in report_document(report).sections:
        if section.heading is not None:
            parts.append(f"<h2>{escape(section.heading)}</h2>")
        for block in section.blocks:
            if not block.full:
                continue
            if isinstance(block, Table) and block.key in PLOTS:
                # The plot goes between the table's title and the table.
                parts += [html_heading(block.title) if block.title else "", PLOTS[block.key](report)]
                parts.append(html_table(block, title=False))
            else:
                parts += html_block(block)
        if section.key == "progress":
            parts.append(_label_plot(report))
    return html_page(TITLE, parts, tab=f"{TITLE}: {report.source}")


def write_html(report: Report, path: Path) -> None:
    write_page(render_html(report), path)
