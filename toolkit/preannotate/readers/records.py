"""Structured inputs, one article per record: JSONL, JSON arrays, CSV, Parquet, saved HF datasets.

A record's parts are named by ``input.fields`` (``text`` required; ``id``, ``title``,
``date`` optional); a dotted name reaches into nested objects (``attrs.newid``). Each
reader yields articles and :class:`BadInput`s, one per bad record, and raises
:class:`BadInputError` for a file that cannot be read at all.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from toolkit.config import InputConfig
from toolkit.io.jsonl import BadLine, json_lines
from toolkit.preannotate.readers.stats import BadInput, BadInputError
from toolkit.preannotate.readers.text import (
    ISO_DATE,
    check_length,
    first_invalid_utf8_line,
    invalid_utf8,
    normalise_text,
    sniff_text_file,
    text_id,
)
from toolkit.records import Article

Item = Article | BadInput

# Parquet rows read at a time: memory stays flat on large files.
PARQUET_BATCH = 1024

_MISSING = object()


def normalise_date(value: str, formats: Sequence[str] = ()) -> str | None:
    """ISO 8601 for a date string, or None when it does not parse.

    ISO 8601 is tried first, then each ``strptime`` format. A time of day is kept
    (to the millisecond) when the input has one.
    """
    value = value.strip()
    if not value:
        return None
    if ISO_DATE.match(value):
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


# --- one article from one record ---------------------------------------------------


def field_value(record: dict[str, Any], name: str) -> Any:
    """A field by name, or by dotted path into nested objects; ``_MISSING`` when absent."""
    if name in record:
        return record[name]
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return value


def _check_unicode(value: str | None, name: str, where: str) -> None:
    """JSON's \\u escapes can carry half of a surrogate pair (an emoji cut in two by a
    scraper), which is not a character: no UTF-8 text, so no output, can hold it."""
    if value is None:
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise BadInputError(
            "lone surrogate",
            f"{where}: field {name!r} holds a lone surrogate ({value[error.start]!r} at character {error.start + 1}), "
            "not text",
        ) from None


def _optional_string(record: dict[str, Any], name: str | None, where: str) -> str | None:
    """An optional field as a string (numbers and dates written out), None when absent or empty."""
    if name is None:
        return None
    value = field_value(record, name)
    if value is _MISSING or value is None:
        return None
    if isinstance(value, float) and value != value:  # NaN: pandas/Parquet's "no value"
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise BadInputError("bad field", f"{where}: field {name!r} must be a string, got {type(value).__name__}")
    text = str(value)
    _check_unicode(text, name, where)
    return text


def _record_text(record: dict[str, Any], name: str, where: str, options: InputConfig) -> str:
    raw_text = field_value(record, name)
    if raw_text is _MISSING:
        raise BadInputError("missing text field", f"{where}: missing field {name!r} (input.fields.text)")
    if raw_text is None:
        raw_text = ""
    if not isinstance(raw_text, str):
        raise BadInputError("bad field", f"{where}: field {name!r} must be a string, got {type(raw_text).__name__}")
    text = normalise_text(raw_text).lstrip()
    if not text:
        raise BadInputError("empty article", f"{where}: empty article (field {name!r} holds no text)")
    check_length(text, where, options)
    _check_unicode(text, name, where)
    return text


def article_from_record(record: Any, where: str, options: InputConfig) -> Article:
    """Build an article from one structured record, with the config's field mapping."""
    fields = options.fields
    if not isinstance(record, dict):
        raise BadInputError("not an object", f"{where}: expected an object, got {type(record).__name__}")
    text = _record_text(record, fields.text, where, options)
    article_id = _optional_string(record, fields.id, where)
    if article_id is not None and not article_id.strip():
        raise BadInputError("bad field", f"{where}: field {fields.id!r} is empty")
    title = _optional_string(record, fields.title, where)
    original = _optional_string(record, fields.date, where)
    date = date_original = None
    if original is not None and original.strip():
        date = normalise_date(original, options.date_formats)
        if date != original:
            date_original = original
    return Article(
        id=article_id.strip() if article_id else text_id(text),
        text=text,
        title=normalise_text(title).strip() or None if title else None,
        date=date,
        date_original=date_original,
        source=where,
    )


def _articles(rows: Iterable[tuple[str, Any]], options: InputConfig) -> Iterator[Item]:
    for where, row in rows:
        try:
            yield article_from_record(row, where, options)
        except BadInputError as bad:
            yield bad.bad


# --- one reader per format ---------------------------------------------------------


def read_jsonl(path: Path, options: InputConfig) -> Iterator[Item]:
    """``.jsonl``: one object per line; a bad line is one bad record, the next lines go on."""
    sniff_text_file(path)
    with path.open("rb") as handle:
        for number, value in json_lines(handle):
            where = f"{path}:{number}"
            if isinstance(value, BadLine):
                yield BadInput(value.reason, f"{where}: {value.detail}")
            else:
                yield from _articles([(where, value)], options)


def read_json(path: Path, options: InputConfig) -> Iterator[Item]:
    """``.json``: an array of objects (or one object); records are named ``file record N``."""
    sniff_text_file(path)
    data = path.read_bytes()
    try:
        value = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise invalid_utf8(path, data, error) from None
    except json.JSONDecodeError as error:
        message = f"{path}:{error.lineno}: broken JSON ({error.msg} at column {error.colno})"
        raise BadInputError("broken JSON", message) from None
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise BadInputError("not an object", f"{path}: expected a JSON array of objects, got {type(value).__name__}")
    if not value:
        raise BadInputError("empty file", f"{path}: empty file (an empty JSON array)")
    yield from _articles(((f"{path} record {n}", row) for n, row in enumerate(value, start=1)), options)


def read_csv(path: Path, options: InputConfig) -> Iterator[Item]:
    """``.csv``: a header row names the fields; rows are named by their first line."""
    sniff_text_file(path)
    with path.open("rb") as binary:
        reader = csv.DictReader(io.TextIOWrapper(binary, encoding="utf-8-sig", newline=""))
        rows = 0
        try:
            if reader.fieldnames is None:  # reads the header row
                raise BadInputError("empty file", f"{path}: empty file")
            while True:
                start = reader.line_num + 1  # a quoted field may span lines: name the row's first
                try:
                    row = next(reader)
                except StopIteration:
                    break
                rows += 1
                # Values beyond the header land under None; they are not article fields.
                row.pop(None, None)
                yield from _articles([(f"{path}:{start}", row)], options)
        except UnicodeDecodeError:
            # The text layer decodes ahead in blocks, so the reader's line is not where the bad bytes are.
            raise BadInputError("invalid UTF-8", f"{path}:{first_invalid_utf8_line(path)}: not valid UTF-8") from None
        except csv.Error as error:
            raise BadInputError("unreadable", f"{path}:{reader.line_num}: broken CSV ({error})") from None
        if rows == 0:
            raise BadInputError("empty file", f"{path}: empty file (no rows under the header)")


def read_parquet(path: Path, options: InputConfig) -> Iterator[Item]:
    """``.parquet``: one record per row, read in batches so memory stays flat."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ...: all mean "not Parquet"
        raise BadInputError("binary file", f"{path}: not a readable Parquet file ({error})") from None
    if parquet.metadata.num_rows == 0:
        raise BadInputError("empty file", f"{path}: empty file (no rows)")
    number = 0
    for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
        rows = []
        for row in batch.to_pylist():
            number += 1
            rows.append((f"{path} row {number}", row))
        yield from _articles(rows, options)


def read_hf_dataset(path: Path, options: InputConfig) -> Iterator[Item]:
    """A dataset saved with ``save_to_disk``: every split, rows named ``folder [split] row N``."""
    import datasets

    try:
        loaded = datasets.load_from_disk(str(path))
    except Exception as error:  # datasets raises FileNotFoundError, ValueError, ...
        raise BadInputError("unreadable", f"{path}: not a readable saved Hugging Face dataset ({error})") from None
    splits = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    total = 0
    for split, dataset in splits:
        label = f" [{split}]" if split is not None else ""
        for number, row in enumerate(dataset, start=1):
            total += 1
            yield from _articles([(f"{path}{label} row {number}", row)], options)
    if total == 0:
        raise BadInputError("empty file", f"{path}: empty dataset (no rows)")
