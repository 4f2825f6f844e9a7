"""Text as the toolkit keeps it (normalised, with a stable id), the checks on raw bytes, and
the ``.txt`` reader: one article per file, in one of two layouts (``input.txt_format``).

``seed`` (default): the first line begins (after any leading whitespace) with an
optional ``date YYYY-MM-DD`` followed directly by the first paragraph::

    date 2024-04-27 Secretary of State Antony Blinken warned ...

    President Joe Biden's top diplomat has warned ...

``headline``: the first line is the headline, the text follows (BBC News layout)::

    Ad sales boost Time Warner profit

    Quarterly profits at US media giant TimeWarner jumped 76% ...
"""

from __future__ import annotations

import codecs
import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path

from toolkit.config import InputConfig
from toolkit.preannotate.readers.stats import BadInputError
from toolkit.records import Article

# How much of a file is sniffed for NUL bytes: text never holds them, binary nearly always
# does in its first few kilobytes.
SNIFF_BYTES = 8192
# Text saved as UTF-16 or UTF-32 (Windows' "Unicode") starts with its byte-order mark;
# UTF-32's little-endian mark begins with UTF-16's, so it is tried first.
WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)

# "date" and something shaped like a date; the shape is checked strictly afterwards so
# that "date 27.04.2024" is an error rather than a paragraph starting with "date".
_DATE_PREFIX = re.compile(r"\A\s*date[ \t]+(\d{1,4}[-./]\d{1,2}[-./]\d{1,4})(?:[ \t]+|\Z)")
ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


def normalise_text(text: str) -> str:
    """Remove a BOM, turn CRLF and CR into LF, drop trailing whitespace."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip()


def text_id(text: str) -> str:
    """A stable id for an article that came without one: a hash of its normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


# --- checks on the raw bytes of a file -------------------------------------------


def check_wide_bom(path: Path | str, head: bytes) -> None:
    for bom, name in WIDE_BOMS:
        if head.startswith(bom):
            raise BadInputError(
                "invalid UTF-8", f"{path}: {name} text (it starts with a {name} byte-order mark); save it as UTF-8"
            )


def sniff_text_file(path: Path) -> None:
    """Refuse a file whose first bytes show it is not UTF-8 text, or that holds nothing."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise BadInputError("unreadable", f"{path}: cannot read ({error.strerror})") from None
    sniff_head(path, head)


def sniff_head(path: Path | str, head: bytes) -> None:
    """The checks of :func:`sniff_text_file` on a file's first ``SNIFF_BYTES`` bytes, however read."""
    check_wide_bom(path, head)
    if b"\x00" in head:
        raise BadInputError("binary file", f"{path}: looks like a binary file (it contains NUL bytes), not text")
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise BadInputError("empty file", f"{path}: empty file")


def first_invalid_utf8_line(path: Path) -> int:
    """The number of the first line of a file that is not valid UTF-8 (0 if none)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def invalid_utf8(path: Path, data: bytes, error: UnicodeDecodeError) -> BadInputError:
    line = data.count(b"\n", 0, error.start) + 1
    return BadInputError("invalid UTF-8", f"{path}:{line}: not valid UTF-8 (byte offset {error.start})")


def _decode(path: Path, data: bytes) -> str:
    check_wide_bom(path, data)
    if b"\x00" in data:
        raise BadInputError("binary file", f"{path}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid_utf8(path, data, error) from None


def check_length(text: str, where: str, options: InputConfig) -> None:
    if len(text) > options.max_chars:
        raise BadInputError(
            "too long",
            f"{where}: article of {len(text):,} characters is longer than input.max_chars ({options.max_chars:,})",
        )


# --- .txt ------------------------------------------------------------------------


def _checked_seed_date(value: str, where: str) -> str:
    if not ISO_DATE.match(value):
        raise BadInputError("bad date", f"{where}: date {value!r} is not in the form YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise BadInputError("bad date", f"{where}: date {value!r} is not a real calendar date") from None
    return value


def _read_bytes(path: Path, options: InputConfig) -> bytes:
    try:
        size = path.stat().st_size
        # A file four times over the limit cannot fit even in one-byte characters:
        # refuse it without reading it into memory.
        if size > 4 * options.max_chars:
            raise BadInputError(
                "too long", f"{path}: file of {size:,} bytes is longer than input.max_chars ({options.max_chars:,})"
            )
        return path.read_bytes()
    except OSError as error:
        raise BadInputError("unreadable", f"{path}: cannot read ({error.strerror})") from None


def read_text_article(path: Path, options: InputConfig | None = None) -> Article:
    """Read one ``.txt`` article (seed or headline layout)."""
    options = options or InputConfig()
    data = _read_bytes(path, options)
    if not data.strip():
        raise BadInputError("empty file", f"{path}: empty file")
    raw = normalise_text(_decode(path, data))
    date = title = None
    if options.txt_format == "headline":
        first, _, rest = raw.lstrip().partition("\n")
        title = first.strip() or None
        text = rest.strip("\n").lstrip()
        if not text:
            raise BadInputError("empty article", f"{path}: empty article (no text after the headline)")
    else:
        match = _DATE_PREFIX.match(raw)
        if match:
            date = _checked_seed_date(match.group(1), f"{path}:1")
            raw = raw[match.end() :]
        text = raw.lstrip()
        if not text:
            raise BadInputError("empty article", f"{path}: empty article (no text{' after the date' if date else ''})")
    check_length(text, str(path), options)
    return Article(id=text_id(text), text=text, title=title, date=date, source=str(path))


def read_txt(path: Path, options: InputConfig) -> Iterator[Article]:
    """``.txt``: the file is one article."""
    yield read_text_article(path, options)
