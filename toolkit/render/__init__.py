"""One render layer: what a stage found, drawn on a terminal, as markdown, as an HTML page or as JSON.

A shared layer: every stage and the CLI may import it; it imports no stage.

- ``document``: the model. A ``Document`` is a title and ``Section``s of blocks:
  ``Line`` (prose), ``Table`` (formatted cells), ``Bullets``, ``Listing`` (code),
  ``Plot`` (HTML only, drawn lazily). Text from the data is marked ``Data``/``Code``.
- ``format``: the one home of ``number``, ``signed``, ``percent``, ``count``, ``plural``.
- ``console`` (rich), ``markdown``, ``html`` (a self-contained page; ``plots`` draws its
  bar charts): the renderers. ``terminal``: the console that prints data safely and
  ``json_text``, the JSON medium (a stage's typed result's ``to_json()``, printed safely).

The pattern, for every command (``toolkit evaluate`` is the model):

1. The stage returns a typed result (``evaluate.evaluation.evaluate`` -> ``EvaluateResult``),
   with a ``to_json()`` for scripts. It prints nothing.
2. The stage has a view module (``toolkit/evaluate/view.py``) of pure functions from that
   result to a ``Document`` (or ``Section``s): which sections, which tables, every number
   formatted with ``format``. It imports no renderer and nothing heavy (a ``Plot``'s
   ``draw`` loads matplotlib when the page calls it). Everything a command says about the
   result (notes, "wrote the page") is built there too.
3. The CLI command parses its options, calls the stage, and hands the view to a renderer:
   ``print_document(console, view(result))``, ``json_text(result.to_json())`` for
   ``--json``, ``write_page(html_document(view(result)), path)`` for ``--html``. It builds
   no text of its own.

A file the toolkit writes (the dataset card, TRAINING.md, the report's page) is built the
same way: a view, then ``markdown_document``/``markdown_sections`` or ``html_document``.
"""

from toolkit.render.document import (
    Block,
    Bullets,
    Code,
    Data,
    Document,
    Line,
    Listing,
    Plot,
    Row,
    Section,
    Table,
)
from toolkit.render.format import count, number, percent, plural, signed

__all__ = [
    "Block",
    "Bullets",
    "Code",
    "Data",
    "Document",
    "Line",
    "Listing",
    "Plot",
    "Row",
    "Section",
    "Table",
    "count",
    "number",
    "percent",
    "plural",
    "signed",
]
