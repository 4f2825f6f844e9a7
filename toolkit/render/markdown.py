"""A document as markdown (the dataset card, the report's section of it, TRAINING.md).

Text from the data (``Data``, ``Code`` pieces, every table cell) is written so that it
shows as it is: no live HTML, no table cell split by a ``|``. The view's own words
(plain ``str`` pieces) are written as they are, so they may hold markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from toolkit.render.document import Bullets, Code, Data, Document, Line, Listing, Plot, Section, Table

# Characters that start markup in running text (CommonMark, GFM tables and strikethrough,
# the Hub's $ math). Characters that act only at the start of a line need nothing: the
# data never starts a line once its line breaks are written as \n. An underscore between
# two letters or digits cannot open or close emphasis (CommonMark), so en_core_web_sm
# stays as it is.
_MARKDOWN_ACTIVE = re.compile(r"[\\`*_\[\]|~$]")


def _escape_markup(match: re.Match[str]) -> str:
    text, at = match.string, match.start()
    if match.group() == "_" and 0 < at < len(text) - 1 and text[at - 1].isalnum() and text[at + 1].isalnum():
        return "_"
    return "\\" + match.group()


def _one_line(value: object) -> str:
    return str(value).replace("\r", "\\r").replace("\n", "\\n")


def markdown_text(value: object) -> str:
    """Text from the data (ids, span text, annotator ids) as markdown that shows it as it is.

    The card is rendered by the Hub, so a tag in an article id would otherwise be live
    HTML there, and a ``|`` would split a table cell.
    """
    text = _one_line(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MARKDOWN_ACTIVE.sub(_escape_markup, text)


def markdown_code(value: object) -> str:
    """A name as an inline code span, literal inside whatever backticks it holds.

    Only for names that cannot hold ``<>&`` (labels): inside a code span an entity would
    be shown as it is written.
    """
    text = _one_line(value)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def markdown_line(line: Line) -> str:
    return "".join(markdown_text(piece) if isinstance(piece, (Data, Code)) else piece for piece in line.pieces)


def markdown_table(table: Table) -> str:
    """A GFM table: word columns left, numbers right; the label of an overall row in bold."""
    lines = [
        "| " + " | ".join(table.header) + " |",
        "| " + " | ".join("---" if column in table.words else "---:" for column in table.header) + " |",
    ]
    for row in table.rows:
        cells = [markdown_text(cell) for cell in row.cells]
        if row.emphasis == "overall" and cells and cells[0]:
            cells[0] = f"**{cells[0]}**"
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _facts(table: Table) -> str:
    """One row of counts without a title reads better as a line of facts."""
    (row,) = table.rows
    return "- " + "; ".join(f"{header} {markdown_text(cell)}" for header, cell in zip(table.header, row.cells))


def _block(block: object, brief: bool) -> str | None:
    if isinstance(block, Plot):
        return None
    if isinstance(block, Table):
        if brief:
            if not block.brief:
                return None
            block = block.brief_view()
            if len(block.rows) == 1 and block.title is None and not block.words:
                return _facts(block)
        elif not block.full:
            return None
        title = f"{block.title[:1].upper()}{block.title[1:]}:\n\n" if block.title else ""
        return title + markdown_table(block)
    if not (block.brief if brief else block.full):  # type: ignore[attr-defined]
        return None
    if isinstance(block, Bullets):
        return "\n".join(f"- {markdown_line(item)}" for item in block.items)
    if isinstance(block, Listing):
        return f"```{block.language}\n{block.text.rstrip()}\n```"
    assert isinstance(block, Line)
    return markdown_line(block)


def markdown_sections(sections: Iterable[Section], *, level: int = 2, brief: bool = False) -> str:
    """The sections, each under a heading of ``level`` (``##``); the ``brief`` view or the full one."""
    parts = []
    for section in sections:
        blocks = [text for block in section.blocks if (text := _block(block, brief)) is not None]
        if section.heading is not None:
            parts.append(f"{'#' * level} {section.heading}")
        parts += blocks
    return "\n\n".join(parts)


def markdown_document(document: Document, *, level: int = 1, brief: bool = False) -> str:
    """The document under its title at ``level``, its sections one level below."""
    body = markdown_sections(document.sections, level=level + 1, brief=brief)
    return f"{'#' * level} {document.title}\n\n{body}\n"
