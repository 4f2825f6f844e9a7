"""Predictions files: the JSONL file, or a Parquet dataset folder written in parts by a cluster.

A Parquet predictions folder holds ``part-RUN-NNNNNNNNN.parquet`` files, each written
whole (to a hidden temporary name in the folder, then renamed), so a part is either
complete or absent: a reader never sees half a part, and an interrupted run leaves only
whole parts (and hidden leftovers, which readers ignore). Every part has the columns of
a :class:`~toolkit.records.PredictedArticle` (:data:`SCHEMA`); parts sort in the order
they were planned: by run, then by the position of their first article.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from toolkit.errors import InputError, OutputError
from toolkit.records import PredictedArticle

PART_GLOB = "part-*.parquet"
# Hidden files of the folder: a part being written, and a worker's part that waits for the driver.
TEMPORARY_PREFIX = ".tmp-"
PENDING_PREFIX = ".tmp-pending-"


def schema() -> Any:
    """The Arrow schema of a part (pyarrow is imported only where parquet is used)."""
    import pyarrow as pa

    span = pa.struct(
        [("start", pa.int64()), ("end", pa.int64()), ("label", pa.string()), ("text", pa.string()),
         ("score", pa.float64())]
    )  # fmt: skip
    return pa.schema(
        [
            ("id", pa.string()),
            ("text", pa.string()),
            ("title", pa.string()),
            ("date", pa.string()),
            ("date_original", pa.string()),
            ("source", pa.string()),
            ("model", pa.struct([("name", pa.string()), ("version", pa.string()), ("scoring", pa.string())])),
            ("score", pa.float64()),
            ("spans", pa.list_(span)),
        ]
    )


def is_parquet_folder(path: Path) -> bool:
    return path.is_dir()


def new_run_id() -> str:
    """A name for this run's parts that sorts after earlier runs' (time to the microsecond first, so
    that a rerun a moment later still sorts after; then chance)."""
    from datetime import datetime, timezone

    return f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%f')}{uuid.uuid4().hex[:6]}"


def write_part(folder: Path, name: str, records: Iterable[PredictedArticle]) -> Path:
    """Write one part whole: a hidden temporary file in ``folder``, then renamed to ``name``
    (written again under the same name, as a re-run batch is, it replaces the earlier copy)."""
    import pyarrow as pa

    rows = [record.to_json_dict() for record in records]
    for row in rows:
        for span in row["spans"]:
            span.setdefault("text", None)
            span.setdefault("score", None)
    return write_table(folder, name, pa.Table.from_pylist(rows, schema=schema()))


def write_table(folder: Path, name: str, table: Any) -> Path:
    """Write an Arrow table of records as the part ``name``, whole (see :func:`write_part`)."""
    import pyarrow.parquet as pq

    target = folder / name
    temporary = folder / f"{TEMPORARY_PREFIX}{os.getpid()}-{uuid.uuid4().hex[:8]}-{name}"
    try:
        pq.write_table(table, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise OutputError(f"{target}: cannot write ({error.strerror or error})") from None
    return target


def pending_name(run_id: str, file: int, position: int) -> str:
    """A part a worker wrote before the driver has seen its batch: hidden (readers and resume skip
    it, the next run removes it) until the driver makes it a part. Named by the batch's first row,
    so a batch run again writes the same name."""
    return f"{PENDING_PREFIX}{run_id}-{file:06d}-{position:012d}.parquet"


def part_name(run_id: str, first: int) -> str:
    """A part's name: its run, then the position of its first record, so that parts sort in order."""
    return f"part-{run_id}-{first:09d}.parquet"


def parts(folder: Path) -> list[Path]:
    """The folder's complete parts, in order."""
    return sorted(folder.glob(PART_GLOB))


def read_part_columns(folder: Path, columns: list[str]) -> Iterator[tuple[Path, int, dict[str, Any]]]:
    """``(part, row, {column: value})`` for each row of each part, reading only ``columns``."""
    import pyarrow.parquet as pq

    for part in parts(folder):
        try:
            reader = pq.ParquetFile(part)
            row = 0
            for batch in reader.iter_batches(columns=columns, batch_size=1024):
                for values in batch.to_pylist():
                    row += 1
                    yield part, row, values
        except Exception as error:  # pyarrow raises ArrowInvalid, OSError, KeyError, ...
            raise InputError(f"{part}: not a predictions part ({error})") from None


def _clean(value: Any) -> Any:
    """A parquet row as the JSONL record would be: no null fields (spans' included)."""
    if isinstance(value, dict):
        return {key: _clean(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


def read_predictions(path: Path) -> Iterator[PredictedArticle]:
    """The predicted articles of a JSONL file or of a Parquet predictions folder, in order."""
    from pydantic import ValidationError

    from toolkit.io.jsonl import read_records, validation_message

    if not is_parquet_folder(path):
        yield from read_records(path, PredictedArticle)
        return
    if not parts(path):
        raise InputError(f"{path}: a folder without predictions parts ({PART_GLOB})")
    names = [field.name for field in schema()]
    for part, row, values in read_part_columns(path, names):
        try:
            yield PredictedArticle.model_validate(_clean(values))
        except ValidationError as error:
            raise InputError(f"{part} row {row}: not a prediction record ({validation_message(error)})") from None
