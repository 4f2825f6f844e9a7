"""Text from the data, made safe to print on a terminal.

Article ids, titles, span text and labels come from files anyone may have written, and
the commands print them (errors naming an article, lost spans, skipped duplicates, pull's
ledger lines). A terminal acts on control characters: ESC starts sequences that set the
window title, move the cursor, recolour or clear the screen; BEL rings; CR and backspace
overwrite what was printed. They are printed as visible escapes instead, the way
Python's ``repr`` shows them (ESC as ``\\x1b``), so a message still says exactly what
the data holds. Newline and tab are kept. Bidirectional overrides and isolates
(U+202A-U+202E, U+2066-U+2069), which reorder what the reader sees, are escaped too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, RenderableType
from rich.segment import Segment
from rich.text import Text

# C0 controls except tab and newline, DEL, C1 controls, bidirectional controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """``text`` with every character a terminal would act on written as a visible escape."""
    return UNSAFE.sub(_visible, text) if UNSAFE.search(text) else text


def json_text(value: Any, **kwargs: Any) -> str:
    """``json.dumps(value, ensure_ascii=False)``, safe to print and still valid JSON.

    ``json.dumps`` escapes C0 controls itself but leaves DEL, C1 and bidirectional
    controls raw; they can only sit inside JSON strings, where ``\\uXXXX`` is a valid
    escape of the same character.
    """
    return UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False, **kwargs))


class SafeConsole(Console):
    """A rich Console that prints control characters in text as visible escapes (``safe``).

    Strings are made safe before rich measures them (so tables keep their widths); every
    segment is checked again on its way out, which covers ``Text`` objects and anything
    else rendered. Rich's own control segments (cursor moves of a progress bar) and its
    styles (added when the buffer is written) are left alone.
    """

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(safe(text), **kwargs)

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        for segment in super().render(renderable, options):
            if segment.control is None and UNSAFE.search(segment.text):
                yield Segment(safe(segment.text), segment.style)
            else:
                yield segment


# The commands' two consoles. Markup off: messages carry paths, labels and "[where] what"
# lines that rich would otherwise take for style tags. stdout is for results (and
# ``--json``); errors and progress go to stderr.
console: Console = SafeConsole(highlight=False, markup=False, soft_wrap=True)
err_console: Console = SafeConsole(stderr=True, highlight=False, markup=False, soft_wrap=True)
