"""Read news articles from files into :class:`~toolkit.records.Article` records.

Supported inputs (files, folders read recursively, and glob patterns such as
``'corpus/**/*.json'``):

- ``.txt``, one article per file, in one of two layouts (``input.txt_format``):

  ``seed`` (default): the first line begins (after any leading whitespace) with an
  optional ``date YYYY-MM-DD`` followed directly by the first paragraph::

      date 2024-04-27 Secretary of State Antony Blinken warned ...

      President Joe Biden's top diplomat has warned ...

  ``headline``: the first line is the headline, the text follows (BBC News layout)::

      Ad sales boost Time Warner profit

      Quarterly profits at US media giant TimeWarner jumped 76% ...

- structured records, one article each, with the fields named in ``input.fields``
  (``text`` required; ``id``, ``title``, ``date`` optional; dotted names reach into
  nested objects, e.g. ``attrs.newid``):

  - ``.jsonl`` / ``.ndjson``: one JSON object per line;
  - ``.json``: a JSON array of objects (Reuters-21578 as distributed here);
  - ``.csv``: a header row, then one article per row;
  - ``.parquet``: one article per row;
  - a Hugging Face dataset saved with ``save_to_disk`` (a folder holding
    ``dataset_info.json`` or ``dataset_dict.json``), every split.

Text is normalised so that offsets stay honest downstream: a byte-order mark is
removed, CRLF and CR become LF, and trailing whitespace is dropped. The article id is
the one given in the input, else a hash of the normalised text, so ids do not depend
on the order of the inputs. Dates are normalised to ISO 8601 where they parse (ISO
first, then ``input.date_formats``); the original string is kept in ``date_original``.

Bad input (a binary file, invalid UTF-8 or a UTF-16/32 file, an empty file or record,
broken JSON, a lone surrogate in a JSON string, a missing text field, an article longer
than ``input.max_chars``, an id reused for another text, a symlink loop, a dangling
symlink or a FIFO) is reported as a :class:`BadInput` naming the file and line or record.
``read_articles`` raises it as an :class:`InputError` (``on_error="fail"``) or counts it
by reason and goes on (``on_error="skip"``).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import errno
import glob
import hashlib
import io
import json
import os
import re
import stat
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from toolkit.config import InputConfig
from toolkit.errors import InputError
from toolkit.records import Article

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}
CSV_SUFFIXES = {".csv"}
PARQUET_SUFFIXES = {".parquet"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | JSONL_SUFFIXES | JSON_SUFFIXES | CSV_SUFFIXES | PARQUET_SUFFIXES
SUPPORTED_LIST = ".txt, .jsonl, .json, .csv, .parquet or a saved Hugging Face dataset"
# Files of a saved Hugging Face dataset (Dataset / DatasetDict) that mark its folder.
HF_MARKERS = ("dataset_info.json", "dataset_dict.json")
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
_ISO_DATE = re.compile(r"\A\d{4}-\d{2}-\d{2}\Z")
_GLOB_CHARS = re.compile(r"[*?\[]")

# Short reasons, the keys of the skip counts.
Reason = Literal[
    "binary file",
    "invalid UTF-8",
    "empty file",
    "empty article",
    "broken JSON",
    "lone surrogate",
    "not an object",
    "missing text field",
    "bad field",
    "too long",
    "bad date",
    "id reused",
    "unreadable",
]


def normalise_text(text: str) -> str:
    """Remove a BOM, turn CRLF and CR into LF, drop trailing whitespace."""
    return text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").rstrip()


def text_id(text: str) -> str:
    """A stable id for an article that came without one: a hash of its normalised text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def normalise_date(value: str, formats: Sequence[str] = ()) -> str | None:
    """ISO 8601 for a date string, or None when it does not parse.

    ISO 8601 is tried first, then each ``strptime`` format. A time of day is kept
    (to the millisecond) when the input has one.
    """
    value = value.strip()
    if not value:
        return None
    if _ISO_DATE.match(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            return None
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        for fmt in formats:
            try:
                parsed = dt.datetime.strptime(value, fmt)
                break
            except ValueError:
                continue
        else:
            return None
        if not any(code in fmt for code in ("%H", "%I", "%M", "%S")):
            return parsed.date().isoformat()
    return parsed.isoformat(timespec="milliseconds" if parsed.microsecond else "seconds")


@dataclass(frozen=True)
class BadInput:
    """One input that cannot become an article: where it is, why, and the message."""

    reason: Reason
    message: str  # names the file and line or record, e.g. "a.jsonl:7: broken JSON (...)"


class _Bad(InputError):
    """A bad input inside a reader; an InputError, should it ever reach a caller."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.bad = BadInput(reason, message)


@dataclass
class ReadStats:
    """What reading saw besides the articles it yielded."""

    files: int = 0
    articles: int = 0
    duplicates: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)
    skipped_examples: list[str] = field(default_factory=list)
    dates_not_parsed: int = 0

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    def skipped_reasons(self) -> str:
        """``binary file 2, broken JSON 1``: the skips by reason, most first."""
        by_count = sorted(self.skipped.items(), key=lambda item: (-item[1], item[0]))
        return ", ".join(f"{reason} {count:,}" for reason, count in by_count)


# --- finding the files -------------------------------------------------------------


def is_hf_dataset(path: Path) -> bool:
    return path.is_dir() and any((path / marker).is_file() for marker in HF_MARKERS)


def _walk(folder: Path) -> list[Path]:
    """Supported files and saved datasets under a folder, sorted; a dataset is not entered."""
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        keep_dirs = []
        for name in sorted(dirs):
            if name.startswith("."):
                continue  # .git, .cache, ... never hold articles
            if is_hf_dataset(root_path / name):
                found.append(root_path / name)
            else:
                keep_dirs.append(name)
        dirs[:] = keep_dirs
        found.extend(root_path / name for name in files if Path(name).suffix.lower() in SUPPORTED_SUFFIXES)
    return sorted(found)


def _check_file(path: Path) -> Path:
    if path.suffix.lower() not in SUPPORTED_SUFFIXES:
        raise InputError(f"{path}: unsupported file type {path.suffix or '(none)'!r}; use {SUPPORTED_LIST}")
    return path


def expand_inputs(inputs: Sequence[Path | str]) -> list[Path]:
    """Files (and saved datasets) to read, in order: as given, folders and globs sorted.

    A path that does not exist but holds ``*``, ``?`` or ``[`` is a glob pattern
    (``**`` matches folders recursively). A file found twice is read once.
    """
    files: list[Path] = []
    for given in inputs:
        path = Path(given)
        if not path.exists() and _GLOB_CHARS.search(str(given)):
            matches = sorted(Path(m) for m in glob.glob(str(given), recursive=True))
            if not matches:
                raise InputError(f"{given}: the pattern matches no file")
            before = len(files)
            for match in matches:
                if is_hf_dataset(match):
                    files.append(match)
                elif match.is_dir():
                    files.extend(_walk(match))
                elif match.suffix.lower() in SUPPORTED_SUFFIXES:
                    files.append(match)
            if len(files) == before:
                raise InputError(f"{given}: the pattern matches no {SUPPORTED_LIST} file")
        elif is_hf_dataset(path):
            files.append(path)
        elif path.is_dir():
            found = _walk(path)
            if not found:
                raise InputError(f"{path}: folder holds no {SUPPORTED_LIST} file")
            files.extend(found)
        elif path.is_file():
            files.append(_check_file(path))
        elif path.is_symlink() or path.exists():
            # A symlink loop or to nothing, a FIFO, ...: with a supported suffix it is
            # read like any file, and reading names it as bad input (fail or skip).
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise InputError(f"{path}: {odd_entry(path) or 'not a regular file or folder'}")
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    seen: set[str] = set()
    ordered = []
    for path in files:
        # realpath, unlike Path.resolve, does not raise on a symlink loop.
        key = os.path.realpath(path)
        if key not in seen:
            seen.add(key)
            ordered.append(path)
    return ordered


def odd_entry(path: Path) -> str | None:
    """What is wrong with a path that is neither a regular file nor a folder, else None.

    Checked before a file is opened: opening a FIFO would wait for a writer forever.
    """
    try:
        mode = path.stat().st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "a symlink loop, not a file"
        if path.is_symlink():
            try:
                target = os.readlink(path)
            except OSError:
                target = "?"
            return f"a symlink to a missing file ({target})"
        return f"cannot read ({error.strerror})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    return f"not a regular file ({kind}), not read"


# --- one article from its parts ----------------------------------------------------


def _check_wide_bom(path: Path, head: bytes) -> None:
    for bom, name in WIDE_BOMS:
        if head.startswith(bom):
            raise _Bad(
                "invalid UTF-8", f"{path}: {name} text (it starts with a {name} byte-order mark); save it as UTF-8"
            )


def _first_invalid_utf8_line(path: Path) -> int:
    """The number of the first line of a file that is not valid UTF-8 (0 if none)."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _check_unicode(value: str | None, name: str, where: str) -> None:
    """JSON's \\u escapes can carry half of a surrogate pair (an emoji cut in two by a
    scraper), which is not a character: no UTF-8 text, so no output, can hold it."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise _Bad(
            "lone surrogate",
            f"{where}: field {name!r} holds a lone surrogate ({value[error.start]!r} at character {error.start + 1}), "
            "not text",
        ) from None


def _decode(path: Path, data: bytes) -> str:
    _check_wide_bom(path, data)
    if b"\x00" in data:
        raise _Bad("binary file", f"{path}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _Bad("invalid UTF-8", f"{path}:{line}: not valid UTF-8 (byte offset {error.start})") from None


def _checked_seed_date(value: str, where: str) -> str:
    if not _ISO_DATE.match(value):
        raise _Bad("bad date", f"{where}: date {value!r} is not in the form YYYY-MM-DD")
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise _Bad("bad date", f"{where}: date {value!r} is not a real calendar date") from None
    return value


def _check_length(text: str, where: str, options: InputConfig) -> None:
    if len(text) > options.max_chars:
        raise _Bad(
            "too long",
            f"{where}: article of {len(text):,} characters is longer than input.max_chars ({options.max_chars:,})",
        )


def read_text_article(path: Path, options: InputConfig | None = None) -> Article:
    """Read one ``.txt`` article (seed or headline layout)."""
    options = options or InputConfig()
    try:
        size = path.stat().st_size
        # A file four times over the limit cannot fit even in one-byte characters:
        # refuse it without reading it into memory.
        if size > 4 * options.max_chars:
            raise _Bad(
                "too long", f"{path}: file of {size:,} bytes is longer than input.max_chars ({options.max_chars:,})"
            )
        data = path.read_bytes()
    except OSError as error:
        raise _Bad("unreadable", f"{path}: cannot read ({error.strerror})") from None
    if not data.strip():
        raise _Bad("empty file", f"{path}: empty file")
    raw = normalise_text(_decode(path, data))
    date = title = None
    if options.txt_format == "headline":
        first, _, rest = raw.lstrip().partition("\n")
        title = first.strip() or None
        text = rest.strip("\n").lstrip()
        if not text:
            raise _Bad("empty article", f"{path}: empty article (no text after the headline)")
    else:
        match = _DATE_PREFIX.match(raw)
        if match:
            date = _checked_seed_date(match.group(1), f"{path}:1")
            raw = raw[match.end() :]
        text = raw.lstrip()
        if not text:
            raise _Bad("empty article", f"{path}: empty article (no text{' after the date' if date else ''})")
    _check_length(text, str(path), options)
    return Article(id=text_id(text), text=text, title=title, date=date, source=str(path))


def _get(record: dict[str, Any], name: str) -> Any:
    """A field by name, or by dotted path into nested objects; None when absent."""
    if name in record:
        return record[name]
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _has(record: dict[str, Any], name: str) -> bool:
    if name in record:
        return True
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return True


def _optional_string(value: Any, name: str, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN: pandas/Parquet's "no value"
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise _Bad("bad field", f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    return str(value)


def article_from_record(record: Any, where: str, options: InputConfig, stats: ReadStats | None = None) -> Article:
    """Build an article from one structured record, with the config's field mapping."""
    fields = options.fields
    if not isinstance(record, dict):
        raise _Bad("not an object", f"{where}: expected an object, got {type(record).__name__}")
    if not _has(record, fields.text):
        raise _Bad("missing text field", f"{where}: missing field {fields.text!r} (input.fields.text)")
    raw_text = _get(record, fields.text)
    if raw_text is None:
        raw_text = ""
    if not isinstance(raw_text, str):
        raise _Bad("bad field", f"{where}: field {fields.text!r} must be a string, got {type(raw_text).__name__}")
    text = normalise_text(raw_text).lstrip()
    if not text:
        raise _Bad("empty article", f"{where}: empty article (field {fields.text!r} holds no text)")
    _check_length(text, where, options)
    _check_unicode(text, fields.text, where)
    article_id = _optional_string(_get(record, fields.id), fields.id, where) if fields.id else None
    if article_id is not None and not article_id.strip():
        raise _Bad("bad field", f"{where}: field {fields.id!r} is empty")
    _check_unicode(article_id, fields.id or "id", where)
    title = _optional_string(_get(record, fields.title), fields.title, where) if fields.title else None
    _check_unicode(title, fields.title or "title", where)
    original = _optional_string(_get(record, fields.date), fields.date, where) if fields.date else None
    _check_unicode(original, fields.date or "date", where)
    date = date_original = None
    if original is not None and original.strip():
        date = normalise_date(original, options.date_formats)
        if date != original:
            date_original = original
        if date is None and stats is not None:
            stats.dates_not_parsed += 1
    return Article(
        id=article_id.strip() if article_id else text_id(text),
        text=text,
        title=normalise_text(title).strip() or None if title else None,
        date=date,
        date_original=date_original,
        source=where,
    )


# --- one reader per format: each yields articles and BadInputs ----------------------

Item = Article | BadInput


def _sniff_binary(path: Path) -> None:
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        raise _Bad("unreadable", f"{path}: cannot read ({error.strerror})") from None
    _check_wide_bom(path, head)
    if b"\x00" in head:
        raise _Bad("binary file", f"{path}: looks like a binary file (it contains NUL bytes), not text")
    if not head.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _Bad("empty file", f"{path}: empty file")


def _records(path: Path, rows: Iterable[tuple[str, Any]], options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    for where, row in rows:
        try:
            yield article_from_record(row, where, options, stats)
        except _Bad as bad:
            yield bad.bad


def read_jsonl(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """``.jsonl``: one object per line; a bad line is one bad record, the next lines go on."""
    _sniff_binary(path)
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                yield BadInput("invalid UTF-8", f"{where}: not valid UTF-8 (byte {error.start + 1} of the line)")
                continue
            if not line.strip():
                continue
            try:
                value = json.loads(line.rstrip("\r\n"))
            except json.JSONDecodeError as error:
                yield BadInput("broken JSON", f"{where}: broken JSON ({error.msg} at column {error.colno})")
                continue
            yield from _records(path, [(where, value)], options, stats)


def read_json(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """``.json``: an array of objects (or one object); records are named ``file record N``."""
    _sniff_binary(path)
    data = path.read_bytes()
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise _Bad("invalid UTF-8", f"{path}:{line}: not valid UTF-8 (byte offset {error.start})") from None
    except json.JSONDecodeError as error:
        raise _Bad("broken JSON", f"{path}:{error.lineno}: broken JSON ({error.msg} at column {error.colno})") from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise _Bad("not an object", f"{path}: expected a JSON array of objects, got {type(value).__name__}")
    if not value:
        raise _Bad("empty file", f"{path}: empty file (an empty JSON array)")
    yield from _records(path, ((f"{path} record {n}", row) for n, row in enumerate(value, start=1)), options, stats)


def read_csv(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """``.csv``: a header row names the fields; rows are named by their first line."""
    _sniff_binary(path)
    with path.open("rb") as binary:
        reader = csv.DictReader(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        rows = 0
        try:
            if reader.fieldnames is None:  # reads the header row
                raise _Bad("empty file", f"{path}: empty file")
            while True:
                start = reader.line_num + 1  # a quoted field may span lines: name the row's first
                try:
                    row = next(reader)
                except StopIteration:
                    break
                rows += 1
                # Values beyond the header land under None; they are not article fields.
                row.pop(None, None)
                yield from _records(path, [(f"{path}:{start}", row)], options, stats)
        except UnicodeDecodeError:
            # The text layer decodes ahead in blocks, so the reader's line is not where the bad bytes are.
            raise _Bad("invalid UTF-8", f"{path}:{_first_invalid_utf8_line(path)}: not valid UTF-8") from None
        except csv.Error as error:
            raise _Bad("unreadable", f"{path}:{reader.line_num}: broken CSV ({error})") from None
        if rows == 0:
            raise _Bad("empty file", f"{path}: empty file (no rows under the header)")


def read_parquet(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """``.parquet``: one record per row, read in batches so memory stays flat."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ...: all mean "not Parquet"
        raise _Bad("binary file", f"{path}: not a readable Parquet file ({error})") from None
    if parquet.metadata.num_rows == 0:
        raise _Bad("empty file", f"{path}: empty file (no rows)")
    number = 0
    for batch in parquet.iter_batches(batch_size=1024):
        rows = []
        for row in batch.to_pylist():
            number += 1
            rows.append((f"{path} row {number}", row))
        yield from _records(path, rows, options, stats)


def read_hf_dataset(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """A dataset saved with ``save_to_disk``: every split, rows named ``folder [split] row N``."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:  # datasets raises FileNotFoundError, ValueError, ...
        raise _Bad("unreadable", f"{path}: not a readable saved Hugging Face dataset ({error})") from None
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    total = 0
    for split, dataset in splits:
        label = f" [{split}]" if split is not None else ""
        for number, row in enumerate(dataset, start=1):
            total += 1
            yield from _records(path, [(f"{path}{label} row {number}", row)], options, stats)
    if total == 0:
        raise _Bad("empty file", f"{path}: empty dataset (no rows)")


def _read_txt(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    yield read_text_article(path, options)


def read_file(path: Path, options: InputConfig, stats: ReadStats) -> Iterator[Item]:
    """Articles and bad inputs of one file (or saved dataset), never raising for bad input."""
    suffix = path.suffix.lower()
    if is_hf_dataset(path):
        reader = read_hf_dataset
    elif suffix in JSONL_SUFFIXES:
        reader = read_jsonl
    elif suffix in JSON_SUFFIXES:
        reader = read_json
    elif suffix in CSV_SUFFIXES:
        reader = read_csv
    elif suffix in PARQUET_SUFFIXES:
        reader = read_parquet
    else:
        reader = _read_txt
    odd = odd_entry(path)
    if odd is not None:
        yield BadInput("unreadable", f"{path}: {odd}")
        return
    try:
        yield from reader(path, options, stats)
    except _Bad as bad:
        yield bad.bad
    except OSError as error:
        yield BadInput("unreadable", f"{path}: cannot read ({error.strerror or error})")


def read_articles(
    inputs: Sequence[Path | str],
    stats: ReadStats | None = None,
    *,
    options: InputConfig | None = None,
    on_error: Literal["fail", "skip"] | None = None,
) -> Iterator[Article]:
    """Yield every article of the inputs once.

    Identical normalised text is an exact duplicate: it is listed in
    ``stats.duplicates`` and kept once (the first seen). The same id with another text
    is bad input, since downstream the id must name one text. Bad input raises
    :class:`InputError` with ``on_error="fail"`` and is counted in ``stats.skipped``
    (by reason) with ``on_error="skip"``.
    """
    options = options or InputConfig()
    on_error = on_error or options.on_error
    stats = stats if stats is not None else ReadStats()
    by_id: dict[str, tuple[bytes, str | None]] = {}
    by_text: dict[bytes, str | None] = {}
    for path in expand_inputs(inputs):
        stats.files += 1
        for item in read_file(path, options, stats):
            if isinstance(item, Article):
                digest = hashlib.sha256(item.text.encode("utf-8")).digest()
                previous = by_id.get(item.id)
                if previous is not None and previous[0] != digest:
                    item = BadInput(
                        "id reused", f"{item.source}: id {item.id!r} is already used by {previous[1]} for another text"
                    )
                elif digest in by_text:
                    stats.duplicates.append(f"{item.source} repeats {by_text[digest]}")
                    continue
                else:
                    by_id[item.id] = (digest, item.source)
                    by_text[digest] = item.source
                    stats.articles += 1
                    yield item
                    continue
            if on_error == "fail":
                raise InputError(item.message, hint="fix or remove it, or pass --on-error skip to skip bad input")
            stats.skipped[item.reason] += 1
            if len(stats.skipped_examples) < 20:
                stats.skipped_examples.append(item.message)
