"""The document model: what a stage's view builds and every renderer draws.

A ``Document`` is a title and ``Section``s; a section is an optional heading and blocks:
``Line`` (a sentence of prose), ``Table`` (already formatted cells), ``Bullets``,
``Listing`` (a block of code) and ``Plot`` (a picture, drawn by the HTML page only).
Every number is formatted by the view (``toolkit.render.format``) before it gets here,
so each medium shows the same figures. Text from the data (labels, annotator ids, model
versions, file names) is marked ``Data`` or ``Code`` so that each medium escapes it its
own way; a plain ``str`` piece is the view's own words, written as they are (in
markdown too: a view may use backticks there).

A block is in the ``full`` view (console, HTML page) and/or the ``brief`` one (a
markdown section inside another document, e.g. the report in the dataset card); a
table's brief view may show fewer columns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace


class Data(str):
    """Text from the data: escaped by each medium."""


class Code(str):
    """A name shown as code (a file, a config key, a command)."""


@dataclass(frozen=True)
class Line:
    """A sentence of prose; a ``note`` is a warning (or a figure that cannot be computed)."""

    pieces: tuple[str, ...]
    note: bool = False
    full: bool = True
    brief: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True)
class Row:
    cells: tuple[str, ...]
    emphasis: str = ""  # "overall" or "flagged"


@dataclass(frozen=True)
class Table:
    key: str
    title: str | None  # in lower case, as a caption; a medium may capitalize it as a heading
    header: tuple[str, ...]
    rows: tuple[Row, ...]
    words: frozenset[str] = frozenset()  # columns of words, drawn left (the others hold numbers, right)
    full: bool = True
    brief: tuple[tuple[str, str], ...] = ()  # (column, its header) in the brief view; () leaves it out

    def brief_view(self) -> Table:
        """The table with only the brief view's columns, under their brief headers."""
        index = [self.header.index(column) for column, _ in self.brief]
        rows = tuple(Row(tuple(row.cells[i] for i in index), row.emphasis) for row in self.rows)
        shown = tuple(header for _, header in self.brief)
        words = frozenset(header for column, header in self.brief if column in self.words)
        return replace(self, header=shown, rows=rows, words=words)


@dataclass(frozen=True)
class Bullets:
    """A list of items, each a line."""

    items: tuple[Line, ...]
    full: bool = True
    brief: bool = False


@dataclass(frozen=True)
class Listing:
    """A block of code shown as it is (e.g. how to load a dataset)."""

    text: str
    language: str = ""
    full: bool = True
    brief: bool = False


@dataclass(frozen=True)
class Plot:
    """A picture for the HTML page: ``draw`` returns its PNG data URI, or "" when there is
    nothing to draw. It is called only by the page, so building a view loads no matplotlib.
    ``notes`` are said under it (what it leaves out)."""

    alt: str
    draw: Callable[[], str]
    notes: tuple[Line, ...] = ()
    full: bool = True
    brief: bool = False


Block = Line | Table | Bullets | Listing | Plot


@dataclass(frozen=True)
class Section:
    key: str
    heading: str | None  # None: the blocks follow the previous section without a heading
    blocks: tuple[Block, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Document:
    title: str
    sections: tuple[Section, ...]
    # On a terminal, a heading is a rule across it and the prose under it is indented; a rule
    # cuts a heading longer than the terminal, so a view whose headings are names (model
    # folders) asks for plain lines.
    rules: bool = True
