"""The render layer: one document drawn on a terminal, as markdown and as a page, each escaping the data its way."""

from __future__ import annotations

from rich.console import Console

from toolkit.render import Bullets, Code, Data, Document, Line, Listing, Plot, Row, Section, Table, number, plural
from toolkit.render.console import print_document
from toolkit.render.html import html_document
from toolkit.render.markdown import markdown_document

TABLE = Table(
    "scores",
    "scores per label",
    ("label", "F1", "gold"),
    (Row((Data("PER|<b>"), number(0.5), "1,200")), Row((Data("micro"), number(None), "1,201"), "overall")),
    frozenset({"label"}),
)


def _document(rules: bool = True) -> Document:
    drawn = []
    plot = Plot("a plot", lambda: drawn.append(1) or "data:image/png;base64,AA", (Line(("under the plot",)),))
    blocks = (Line(("Read ", Code("a_file.jsonl"), " of ", Data("<script>"), ".")), TABLE, plot)
    more = (Bullets((Line(("one",)), Line(("two",)))), Listing("x = 1", "python"), Line(("careful",), note=True))
    return Document("Title", (Section("first", "First", blocks), Section("second", None, more)), rules=rules)


def test_markdown_escapes_the_data_aligns_numbers_and_leaves_plots_to_the_page():
    text = markdown_document(_document())
    assert text.startswith("# Title\n\n## First\n\nRead a_file.jsonl of &lt;script&gt;.\n\n")
    assert "Scores per label:\n\n| label | F1 | gold |\n| --- | ---: | ---: |\n" in text
    assert "| PER\\|&lt;b&gt; | 0.500 | 1,200 |\n| **micro** | n/a | 1,201 |" in text
    assert "- one\n- two\n\n```python\nx = 1\n```\n\ncareful\n" in text and "plot" not in text


def test_the_page_escapes_the_data_and_draws_the_plot():
    page = html_document(_document())
    assert "<h1>Title</h1>" in page and "<h2>First</h2>" in page and "<h3>Scores per label</h3>" in page
    assert "<code>a_file.jsonl</code>" in page and "&lt;script&gt;" in page and "<script>" not in page
    assert '<td class="text">PER|&lt;b&gt;</td><td>0.500</td>' in page and '<tr class="overall">' in page
    assert '<img alt="a plot" src="data:image/png;base64,AA">\n<p>under the plot</p>' in page
    assert "<ul><li>one</li><li>two</li></ul>" in page and '<p class="note">careful</p>' in page


def test_the_console_draws_the_full_view_and_names_whole():
    console = Console(record=True, width=40, markup=False)
    print_document(console, _document(rules=False))
    text = "\n".join(line.rstrip() for line in console.export_text().splitlines()) + "\n"
    assert text.startswith("Title\nFirst\nRead a_file.jsonl of <script>.\nScores per label\n")
    assert "PER|<b>" in text and "…" not in text and "plot" not in text
    assert "  - one" not in text and "- one\n- two\nx = 1\ncareful\n" in text
    console = Console(record=True, width=40, markup=False)
    print_document(console, _document(rules=True))
    assert "\n  Read a_file.jsonl" in console.export_text()  # prose under a rule is indented


def test_one_number_formatter_and_one_plural():
    assert (number(0.12345), number(1234.5, 1), number(None)) == ("0.123", "1,234.5", "n/a")
    assert (plural(1, "article"), plural(2000, "entry", "entries")) == ("1 article", "2,000 entries")
