"""Reading JSON Lines: errors that name the file and line; records checked against their model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from toolkit.errors import InputError, validation_errors

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
    return "; ".join(f"{where}: {what}" if where else what for where, what, _ in validation_errors(error))


def read_records(path: Path, record_type: type[RecordT]) -> Iterator[RecordT]:
    """Read a JSONL file of ``record_type`` records written by an earlier stage."""
    for number, value in read_json_lines(path):
        try:
            yield record_type.model_validate(value)
        except ValidationError as error:
            from toolkit.records import record_mismatch

            message, hint = record_mismatch(f"{path}:{number}", value, record_type.__name__, validation_message(error))
            raise InputError(message, hint=hint) from None
