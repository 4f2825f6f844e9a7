"""JSON Lines in and out: errors that name the file and line, writes that are atomic."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

from pydantic import BaseModel, ValidationError

from toolkit.errors import InputError, OutputError

RecordT = TypeVar("RecordT", bound=BaseModel)


def read_json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; bad lines raise InputError."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as error:
                raise InputError(f"{path}:{number}: not valid UTF-8 (byte {error.start + 1} of the line)") from None
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputError(f"{path}:{number}: broken JSON ({error.msg} at column {error.colno})") from None
            if not isinstance(value, dict):
                raise InputError(f"{path}:{number}: expected a JSON object, got {type(value).__name__}")
            yield number, value


def validation_message(error: ValidationError) -> str:
    """One line out of pydantic's errors: ``field: what`` for each."""
    parts = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        message = item["msg"].removeprefix("Value error, ")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def read_records(path: Path, record_type: type[RecordT]) -> Iterator[RecordT]:
    """Read a JSONL file of ``record_type`` records written by an earlier stage."""
    for number, value in read_json_lines(path):
        try:
            yield record_type.model_validate(value)
        except ValidationError as error:
            from toolkit.records import record_mismatch

            message, hint = record_mismatch(f"{path}:{number}", value, record_type.__name__, validation_message(error))
            raise InputError(message, hint=hint) from None


@contextmanager
def atomic_output(path: Path, *, force: bool = True) -> Iterator[IO[str]]:
    """Write a text file under a temporary name and rename it into place on success.

    A failure or a kill half-way leaves the previous file (or no file), never half of one.
    """
    if path.exists() and not force:
        raise OutputError(f"{path}: already exists", hint="pass --force to overwrite it")
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as error:
        raise OutputError(f"{path}: cannot write ({error.strerror})") from None
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_records(path: Path, records: Iterable[BaseModel], *, force: bool = True) -> int:
    """Write records as JSON Lines atomically; returns how many were written."""
    count = 0
    with atomic_output(path, force=force) as handle:
        for record in records:
            data = record.to_json_dict() if hasattr(record, "to_json_dict") else record.model_dump(mode="json")
            handle.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
    return count
