"""Read news articles from files into :class:`~toolkit.records.Article` records.

Supported inputs:

- ``.txt`` in the seed format: the first line begins (after any leading whitespace)
  with ``date YYYY-MM-DD`` followed directly by the first paragraph::

      date 2024-04-27 Secretary of State Antony Blinken warned ...

      President Joe Biden's top diplomat has warned ...

  The date becomes metadata and the rest is the text. A first line without the
  prefix is simply the first paragraph.
- ``.jsonl``: one object per line with ``text`` and optional ``id``, ``title``, ``date``.
- folders, read recursively for the two kinds above, in sorted order.

Text is normalised so that offsets stay honest downstream: a byte-order mark is
removed, CRLF and CR become LF, and trailing whitespace is dropped. The article id
is the one given in the input, else a hash of the normalised text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.errors import InputError
from toolkit.jsonl import read_json_lines
from toolkit.records import Article

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES
# spaCy's default nlp.max_length: NER needs about 1 GB of memory per 100,000 characters,
# so a longer text is a wrong input (a concatenated dump), not an article.
MAX_ARTICLE_CHARS = 1_000_000

# "date" and something shaped like a date; the shape is checked strictly afterwards so
# that "date 27.04.2024" is an error rather than a paragraph starting with "date".
_DATE_PREFIX = re.compile(r"\A\s*date[ \t]+(\d{1,4}[-./]\d{1,2}[-./]\d{1,4})(?:[ \t]+|\Z)")
_ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")


def normalise_text(text: str) -> str:
    """Remove a BOM, turn CRLF and CR into LF, drop trailing whitespace."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip()


def text_id(text: str) -> str:
    """A stable id for an article that came without one: a hash of its normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass
class ReadStats:
    """What reading saw besides the articles it yielded."""

    files: int = 0
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)


def expand_inputs(inputs: Sequence[Path]) -> list[Path]:
    """Files to read, in order: each file as given, each folder's supported files sorted."""
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
            if not found:
                raise InputError(f"{path}: folder holds no .txt or .jsonl files")
            files.extend(found)
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; use .txt or .jsonl")
            files.append(path)
        elif path.exists():
            raise InputError(f"{path}: not a regular file or folder")
        else:
            raise InputError(f"{path}: no such file or folder")
    return files


def _decode(path: Path, data: bytes) -> str:
    if b"\x00" in data:
        raise InputError(f"{path}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise InputError(f"{path}:{line}: not valid UTF-8 (byte offset {error.start})") from None


def _checked_length(text: str, where: str) -> str:
    if len(text) > MAX_ARTICLE_CHARS:
        raise InputError(
            f"{where}: article of {len(text):,} characters is longer than the {MAX_ARTICLE_CHARS:,} an article may have",
            hint="split it into one article per story",
        )
    return text


def _checked_date(value: str, where: str) -> str:
    if not _ISO_DATE.match(value):
        raise InputError(f"{where}: date {value!r} is not in the form YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise InputError(f"{where}: date {value!r} is not a real calendar date") from None
    return value


def read_text_article(path: Path) -> Article:
    """Read one ``.txt`` article in the seed format."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    raw = normalise_text(_decode(path, data))
    date = None
    match = _DATE_PREFIX.match(raw)
    if match:
        date = _checked_date(match.group(1), f"{path}:1")
        raw = raw[match.end() :]
    text = raw.lstrip()
    if not text:
        raise InputError(f"{path}: empty article (no text{' after the date' if date else ''})")
    _checked_length(text, str(path))
    return Article(id=text_id(text), text=text, date=date, source=str(path))


def _optional_string(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InputError(f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    return str(value)


def read_jsonl_articles(path: Path) -> Iterator[Article]:
    """Read ``.jsonl`` articles: ``text`` required, ``id``, ``title``, ``date`` optional."""
    for number, record in read_json_lines(path):
        where = f"{path}:{number}"
        if "text" not in record:
            raise InputError(f"{where}: missing field 'text'")
        if not isinstance(record["text"], str):
            raise InputError(f"{where}: field 'text' must be a string, got {type(record['text']).__name__}")
        text = normalise_text(record["text"])
        if not text.strip():
            raise InputError(f"{where}: empty article (field 'text' holds no text)")
        _checked_length(text, where)
        article_id = _optional_string(record.get("id"), "id", where)
        if article_id is not None and not article_id.strip():
            raise InputError(f"{where}: field 'id' is empty")
        date = _optional_string(record.get("date"), "date", where)
        yield Article(
            id=article_id or text_id(text),
            text=text,
            title=_optional_string(record.get("title"), "title", where),
            date=_checked_date(date, where) if date else None,
            source=f"{path}:{number}",
        )


def read_articles(inputs: Sequence[Path], stats: ReadStats | None = None) -> Iterator[Article]:
    """Yield every article of the inputs once.

    An article seen again with the same id and the same text is an exact duplicate: it
    is counted in ``stats.duplicates`` and kept once. The same id with another text is
    an error, since downstream the id must name one text.
    """
    stats = stats if stats is not None else ReadStats()
    seen: dict[str, tuple[bytes, str | None]] = {}
    for path in expand_inputs(inputs):
        stats.files += 1
        articles: Iterable[Article]
        if path.suffix.lower() in JSONL_SUFFIXES:
            articles = read_jsonl_articles(path)
        else:
            articles = [read_text_article(path)]
        for article in articles:
            digest = hashlib.sha256(article.text.encode("utf-8")).digest()
            previous = seen.get(article.id)
            if previous is not None:
                if previous[0] == digest:
                    stats.duplicates.append(f"{article.source} repeats {previous[1]}")
                    continue
                raise InputError(
                    f"{article.source}: id {article.id!r} is already used by {previous[1]} for another text"
                )
            seen[article.id] = (digest, article.source)
            stats.articles += 1
            yield article
