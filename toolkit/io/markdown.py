"""Text from the data written into markdown (the dataset card, the report) so that it shows
as it is: no live HTML, no table cell split by a ``|``."""

from __future__ import annotations

import re

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
