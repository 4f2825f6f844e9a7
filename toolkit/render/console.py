"""A document on a terminal through rich: the full view, a table per ``Table``, a rule per heading.

The console is the caller's (the CLI's ``SafeConsole``, which shows control characters
from the data as visible escapes, with markup off so that text in brackets stays text).
Plots are for the HTML page and are left out here.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console
from rich.table import Table as RichTable

from toolkit.render.document import Bullets, Document, Line, Listing, Plot, Section, Table

STYLES = {"overall": "bold", "flagged": "yellow"}


def rich_table(table: Table) -> RichTable:
    title = table.title[:1].upper() + table.title[1:] if table.title else None
    drawn = RichTable(title=title, title_justify="left", show_header=True, header_style="bold")
    for column in table.header:
        if column in table.words:
            drawn.add_column(column, justify="left", overflow="fold")  # wrapped, never cut to `models/ne…`
        else:
            drawn.add_column(column, justify="right")
    for row in table.rows:
        drawn.add_row(*row.cells, style=STYLES.get(row.emphasis))
    return drawn


def print_line(console: Console, line: Line, indent: str = "") -> None:
    console.print(f"{indent}{line.text}", style="yellow" if line.note else None)


def print_sections(console: Console, sections: Iterable[Section], *, rules: bool = True) -> None:
    """Print the full view of ``sections``: under a rule, prose is indented by two spaces."""
    indent = "  " if rules else ""
    for section in sections:
        if section.heading is not None:
            if rules:
                console.rule(section.heading)
            else:
                console.print(section.heading)
        for block in section.blocks:
            if not block.full or isinstance(block, Plot):
                continue
            if isinstance(block, Table):
                console.print(rich_table(block))
            elif isinstance(block, Bullets):
                for item in block.items:
                    print_line(console, item, f"{indent}- ")
            elif isinstance(block, Listing):
                console.print(block.text)
            else:
                print_line(console, block, indent)


def print_document(console: Console, document: Document) -> None:
    console.print(document.title, style="bold")
    print_sections(console, document.sections, rules=document.rules)
