"""Reading JSON Lines: errors that name the file and line; records checked against their model.

One way of reading a line, for every JSONL file the toolkit reads: only ``\\n`` ends a
line (a JSON string may hold a raw U+2028 or U+0085, which ``str.splitlines`` would cut
at), the first line may start with a UTF-8 byte-order mark, and blank lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from toolkit.errors import InputError, validation_errors
from toolkit.records import record_mismatch

RecordT = TypeVar("RecordT", bound=BaseModel)


@dataclass(frozen=True)
class BadLine:
    """A line that is not JSON: why (a short reason) and what, without the file's name."""

    reason: Literal["invalid UTF-8", "broken JSON"]
    detail: str  # "broken JSON (Expecting value at column 10)"


def json_lines(lines: Iterable[bytes]) -> Iterator[tuple[int, Any]]:
    """``(line_number, value)`` for each non-blank line of a file opened in binary mode.

    A line that does not decode or parse gives a :class:`BadLine` as its value, so that
    a caller may go on with the next line.
    """
    for number, raw in enumerate(lines, start=1):
        value = json_line(number, raw)
        if value is not BLANK:
            yield number, value


# What :func:`json_line` returns for a line that holds only whitespace.
BLANK: Any = object()


def json_line(number: int, raw: bytes) -> Any:
    """The value of line ``number`` of a JSONL file (its raw bytes), a :class:`BadLine`, or
    :data:`BLANK`; a reader that gets a file's lines one by one (a cluster's) reads them so."""
    try:
        line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        return BadLine("invalid UTF-8", f"not valid UTF-8 (byte {error.start + 1} of the line)")
    if not line.strip():
        return BLANK
    try:
        # Without its line end, so that a value cut short is named at its own line's end.
        return json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as error:
        return BadLine("broken JSON", f"broken JSON ({error.msg} at column {error.colno})")


def read_json_lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; bad lines raise InputError."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except OSError as error:
        raise InputError(f"{path}: cannot read ({error.strerror})") from None
    with handle:
        for number, value in json_lines(handle):
            if isinstance(value, BadLine):
                raise InputError(f"{path}:{number}: {value.detail}")
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
            message, hint = record_mismatch(f"{path}:{number}", value, record_type.__name__, validation_message(error))
            raise InputError(message, hint=hint) from None
