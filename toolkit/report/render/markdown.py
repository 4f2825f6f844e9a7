"""The report's brief view as markdown, for the dataset card.

Names from the data (model versions, labels, annotator ids) are escaped with
``markdown_text``: the card is rendered as markdown with HTML on the Hub.
"""

from __future__ import annotations

from toolkit.io.markdown import markdown_text
from toolkit.report.model import Report
from toolkit.report.tables import Code, Data, Line, Table, report_tables


def _line(line: Line) -> str:
    return "".join(markdown_text(piece) if isinstance(piece, (Data, Code)) else piece for piece in line.pieces)


def _table(table: Table) -> list[str]:
    table = table.brief_view()
    if len(table.rows) == 1 and table.title is None and not table.words:
        # One row of counts reads better as a line of facts.
        (row,) = table.rows
        return ["- " + "; ".join(f"{header} {markdown_text(cell)}" for header, cell in zip(table.header, row.cells))]
    lines = ["| " + " | ".join(table.header) + " |", "| " + " | ".join("---" for _ in table.header) + " |"]
    lines += ["| " + " | ".join(markdown_text(cell) for cell in row.cells) + " |" for row in table.rows]
    return lines


def report_markdown(report: Report) -> str:
    """A compact markdown of the report's figures, with its own ``##`` heading."""
    lines = ["## Annotation report", ""]
    for section in report_tables(report).sections:
        lines += [f"### {section.heading}", ""]
        for block in section.blocks:
            if isinstance(block, Table) and block.brief:
                lines += [*_table(block), ""]
            elif isinstance(block, Line) and block.brief:
                lines += [_line(block), ""]
    return "\n".join(lines)
