"""The report on a terminal: rich tables under a rule per section (the full view)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table as RichTable

from toolkit.report.model import Report
from toolkit.report.tables import Line, Table, report_tables

STYLES = {"overall": "bold", "flagged": "yellow"}


def _table(table: Table) -> RichTable:
    drawn = RichTable(title=table.title, show_header=True, header_style="bold")
    for column in table.header:
        drawn.add_column(column, justify="left" if column in table.words else "right")
    for row in table.rows:
        drawn.add_row(*row.cells, style=STYLES.get(row.emphasis))
    return drawn


def _line(console: Console, line: Line) -> None:
    console.print(f"  {line.text}", style="yellow" if line.note else None)


def print_report(report: Report, console: Console) -> None:
    """Print every section of the report on ``console`` (which should not read markup)."""
    tables = report_tables(report)
    console.print(f"Report on {tables.source}", style="bold")
    for line in tables.intro[1:]:  # the source is in the title
        _line(console, line)
    for section in tables.sections:
        console.rule(section.heading)
        for block in section.blocks:
            if not block.full:
                continue
            if isinstance(block, Table):
                console.print(_table(block))
            else:
                _line(console, block)
