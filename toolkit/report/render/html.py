"""The report as one self-contained HTML page: the full view's tables, and plots (PNG data URIs).

People would rather look at the plots than read the tables: label distribution (human
against predicted), edit types, agreement per label. matplotlib renders them through its
Agg canvas without pyplot, so no display and no global state are involved.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from pathlib import Path

from toolkit.io.atomic import atomic_output

# The page's style and plots are shared with `toolkit evaluate`'s page.
from toolkit.io.plots import STYLE
from toolkit.io.plots import bars as _bars
from toolkit.io.plots import image as _image
from toolkit.report.model import Report
from toolkit.report.tables import Code, Line, Table, report_tables


def _label_plot(report: Report) -> str:
    counts = report.label_counts
    used = [label for label, c in counts.items() if c["human"] or c["predicted"]]
    if not used:
        return ""
    series = {side: [counts[label][side] for label in used] for side in ("human", "predicted")}
    return _image("label distribution", _bars("Spans per label", used, series, "spans"))


def _edit_plot(report: Report) -> str:
    edits = report.model.edits
    return _image("edit types", _bars("Edit types", list(edits), {"spans": list(edits.values())}, "spans"))


def _agreement_plot(report: Report) -> str:
    rows = report.agreement.per_label
    series = {
        "span F1": [row.span_f1 or 0.0 for row in rows],
        "Cohen's kappa": [row.cohen_kappa or 0.0 for row in rows],
        "Krippendorff's alpha": [row.krippendorff_alpha or 0.0 for row in rows],
    }
    labels = [row.label for row in rows]
    uri = _bars("Agreement per label (n/a shown as 0)", labels, series, "", counts=False)
    return _image("agreement per label", uri)


# Plots drawn before the table of that key.
PLOTS = {"edits": _edit_plot, "agreement": _agreement_plot}


def _line(line: Line) -> str:
    text = "".join(f"<code>{escape(p)}</code>" if isinstance(p, Code) else escape(p) for p in line.pieces)
    return f'<p class="note">{text}</p>' if line.note else f"<p>{text}</p>"


def _heading(title: str) -> str:
    return f"<h3>{escape(title[:1].upper() + title[1:])}</h3>"


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    # Numbers right (the stylesheet's default), words left.
    opening = ['<td class="text">' if column in table.words else "<td>" for column in table.header]
    body = "".join(
        f'<tr class="{row.emphasis}">'
        + "".join(f"{td}{escape(cell).replace(chr(10), '<br>')}</td>" for td, cell in zip(opening, row.cells))
        + "</tr>"
        for row in table.rows
    )
    title = _heading(table.title) if table.title else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    tables = report_tables(report)
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Annotation report: {escape(tables.source)}</title><style>{STYLE}</style></head><body>",
        "<h1>Annotation report</h1>",
        *(_line(line) for line in tables.intro),
    ]
    for section in tables.sections:
        parts.append(f"<h2>{escape(section.heading)}</h2>")
        for block in section.blocks:
            if not block.full:
                continue
            if isinstance(block, Table):
                if block.key in PLOTS:
                    if block.title:
                        parts.append(_heading(block.title))
                        block = replace(block, title=None)  # the plot goes between the title and the table
                    parts.append(PLOTS[block.key](report))
                parts.append(_table(block))
            else:
                parts.append(_line(block))
        if section.key == "progress":
            parts.append(_label_plot(report))
    parts.append("</body></html>\n")
    return "\n".join(part for part in parts if part)


def write_html(report: Report, path: Path) -> None:
    """Write the page atomically (a half-written page never replaces a good one)."""
    page = render_html(report)
    with atomic_output(Path(path)) as handle:
        handle.write(page)
    # The temporary file was private (0600); the page is for people to open.
    Path(path).chmod(0o644)
