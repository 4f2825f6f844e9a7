"""A document as one self-contained HTML page: the full view's tables and prose, plots as PNG data URIs.

Headings are ``<h2>``, table titles ``<h3>``; every piece of text is escaped, ``Code``
pieces shown as ``<code>``. Numbers are right-aligned (the stylesheet's default), word
columns left.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from pathlib import Path

from toolkit.io.atomic import atomic_output
from toolkit.render.document import Bullets, Code, Document, Line, Listing, Plot, Section, Table

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


def html_text(line: Line) -> str:
    return "".join(f"<code>{escape(p)}</code>" if isinstance(p, Code) else escape(p) for p in line.pieces)


def html_line(line: Line) -> str:
    return f'<p class="note">{html_text(line)}</p>' if line.note else f"<p>{html_text(line)}</p>"


def html_heading(title: str) -> str:
    """A table's caption as a heading, capitalized."""
    return f"<h3>{escape(title[:1].upper() + title[1:])}</h3>"


def html_table(table: Table, *, title: bool = True) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in table.header)
    opening = ['<td class="text">' if column in table.words else "<td>" for column in table.header]
    body = "".join(
        f'<tr class="{row.emphasis}">'
        + "".join(f"{td}{escape(cell).replace(chr(10), '<br>')}</td>" for td, cell in zip(opening, row.cells))
        + "</tr>"
        for row in table.rows
    )
    caption = html_heading(table.title) if table.title and title else ""
    return f"{caption}<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def html_image(alt: str, uri: str) -> str:
    return f'<img alt="{escape(alt)}" src="{uri}">'


def html_plot(plot: Plot) -> list[str]:
    uri = plot.draw()
    return [html_image(plot.alt, uri), *(html_line(note) for note in plot.notes)] if uri else []


def html_block(block: object) -> list[str]:
    if isinstance(block, Table):
        return [html_table(block)]
    if isinstance(block, Plot):
        return html_plot(block)
    if isinstance(block, Bullets):
        return ["<ul>" + "".join(f"<li>{html_text(item)}</li>" for item in block.items) + "</ul>"]
    if isinstance(block, Listing):
        return [f"<pre><code>{escape(block.text)}</code></pre>"]
    assert isinstance(block, Line)
    return [html_line(block)]


def html_sections(sections: Iterable[Section]) -> list[str]:
    parts = []
    for section in sections:
        if section.heading is not None:
            parts.append(f"<h2>{escape(section.heading)}</h2>")
        for block in section.blocks:
            if block.full:
                parts += html_block(block)
    return parts


def html_page(title: str, body: Iterable[str], *, tab: str | None = None) -> str:
    """A page of ``body`` (HTML parts) under ``title``; ``tab``: the browser tab's title if not ``title``."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(tab or title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        *body,
        "</body></html>\n",
    ]
    return "\n".join(part for part in parts if part)


def html_document(document: Document, *, tab: str | None = None) -> str:
    return html_page(document.title, html_sections(document.sections), tab=tab)


def write_page(page: str, path: Path) -> None:
    """Write the page atomically (a half-written page never replaces a good one)."""
    with atomic_output(Path(path)) as handle:
        handle.write(page)
    # The temporary file was private (0600); the page is for people to open.
    Path(path).chmod(0o644)
