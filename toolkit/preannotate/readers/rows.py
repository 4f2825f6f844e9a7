"""JSONL and Parquet inputs as rows, for a cluster whose read tasks cut the files and whose workers
turn each row into an article.

A read task (which sees only the file, through a filesystem that may be remote) yields raw rows:
``(position, nbytes, kind, raw)``, where ``kind`` is :data:`LINE` (a JSONL line's bytes),
:data:`RECORD` (a pickled Parquet row), :data:`BAD` (a pickled :class:`BadInput` for the whole
rest of the file: binary, empty, unreadable) or :data:`END` (the file was read to its end, so a
lost tail would be noticed; the last row of every file). ``nbytes`` add up to the file's size, which lets a reader that
has seen part of the input estimate how much is left.

A worker turns each row into what :func:`~toolkit.preannotate.readers.read_file` yields for it
(:func:`row_item`), with the same functions and messages, so skips and their reasons are the
local reader's. Duplicates and ids reused are decided over all inputs where the rows come
together (the driver), not here.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import IO, Any, Literal

from toolkit.config import InputConfig
from toolkit.io.jsonl import BLANK, BadLine, json_line
from toolkit.preannotate.readers.inputs import JSONL_SUFFIXES, PARQUET_SUFFIXES
from toolkit.preannotate.readers.records import PARQUET_BATCH, _articles
from toolkit.preannotate.readers.stats import BadInput, BadInputError
from toolkit.preannotate.readers.text import SNIFF_BYTES, sniff_head
from toolkit.records import Article

Kind = Literal["line", "record", "bad", "end"]
LINE: Kind = "line"
RECORD: Kind = "record"
BAD: Kind = "bad"
END: Kind = "end"
Row = tuple[int, int, Kind, bytes]  # (position, nbytes, kind, raw)

# The suffixes a cluster reads itself; other inputs are read by the driver.
ROW_SUFFIXES = JSONL_SUFFIXES | PARQUET_SUFFIXES
# Bytes read from a stream at a time.
CHUNK = 1 << 20


def _bad(position: int, nbytes: int, bad: BadInput) -> Row:
    return position, nbytes, BAD, pickle.dumps(bad, protocol=5)


def jsonl_rows(stream: IO[bytes], name: str, size: int) -> Iterator[Row]:
    """The lines of a JSONL file read from ``stream`` (``read(n)``), named ``name`` in messages:
    one row per line (split at ``\\n`` only, as Python's binary files are), then :data:`END`."""
    consumed = 0
    position = 0
    try:
        buffer = b""
        while len(buffer) < SNIFF_BYTES and (chunk := stream.read(CHUNK)):
            buffer += chunk
        try:
            sniff_head(name, buffer[:SNIFF_BYTES])
        except BadInputError as error:
            yield _bad(0, size, error.bad)
            yield 1, 0, END, b""
            return
        while True:
            start = 0
            while (end := buffer.find(b"\n", start)) >= 0:
                yield position, end + 1 - start, LINE, buffer[start : end + 1]
                consumed += end + 1 - start
                position += 1
                start = end + 1
            buffer = buffer[start:]
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            buffer += chunk
        if buffer:
            yield position, len(buffer), LINE, buffer
            consumed += len(buffer)
            position += 1
    except OSError as error:
        yield _bad(position, max(0, size - consumed), BadInput("unreadable", f"{name}: cannot read ({error})"))
        position += 1
    yield position, 0, END, b""


def parquet_rows(source: Any, name: str, size: int) -> Iterator[Row]:
    """The rows of a Parquet file (``source``: a seekable file), in batches so memory stays flat."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(source)
    except Exception as error:  # pyarrow raises ArrowInvalid, OSError, ...: all mean "not Parquet"
        yield _bad(0, size, BadInput("binary file", f"{name}: not a readable Parquet file ({error})"))
        yield 1, 0, END, b""
        return
    total = parquet.metadata.num_rows
    if total == 0:
        yield _bad(0, size, BadInput("empty file", f"{name}: empty file (no rows)"))
        yield 1, 0, END, b""
        return
    position = 0
    try:
        for batch in parquet.iter_batches(batch_size=PARQUET_BATCH):
            for row in batch.to_pylist():
                # Each row's share of the file's bytes, the shares adding up to its size.
                nbytes = size * (position + 1) // total - size * position // total
                yield position, nbytes, RECORD, pickle.dumps(row, protocol=5)
                position += 1
    except OSError as error:
        done = size * position // total
        yield _bad(position, size - done, BadInput("unreadable", f"{name}: cannot read ({error})"))
        position += 1
    yield position, 0, END, b""


def is_parquet(name: str) -> bool:
    return any(name.lower().endswith(suffix) for suffix in PARQUET_SUFFIXES)


def row_source(name: str, position: int) -> str:
    """How articles and messages name the row at ``position`` of file ``name``: its line
    (``a.jsonl:7``) or its row (``b.parquet row 7``), as the local reader does."""
    return f"{name} row {position + 1}" if is_parquet(name) else f"{name}:{position + 1}"


def row_item(kind: Kind, position: int, raw: bytes, name: str, options: InputConfig) -> Article | BadInput | None:
    """What the local reader yields for this row of file ``name``: an article, a bad input, or
    nothing (a blank line, the end of the file)."""
    if kind == LINE:
        number = position + 1
        value = json_line(number, raw)
        if value is BLANK:
            return None
        where = row_source(name, position)
        if isinstance(value, BadLine):
            return BadInput(value.reason, f"{where}: {value.detail}")
        return next(_articles([(where, value)], options))
    if kind == RECORD:
        return next(_articles([(row_source(name, position), pickle.loads(raw))], options))
    if kind == BAD:
        return pickle.loads(raw)
    return None
