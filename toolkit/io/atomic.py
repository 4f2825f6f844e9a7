"""Outputs written safely: atomically (under a temporary name, renamed into place on success),
and private files (only their owner can read them).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from toolkit.errors import OutputError


@contextmanager
def atomic_output(path: Path) -> Iterator[IO[str]]:
    """Write a text file under a temporary name and rename it into place on success.

    A failure or a kill half-way leaves the previous file (or no file), never half of one.
    The temporary file is private (``mkstemp``); callers that publish the file widen it.
    """
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


def private_file(path: Path) -> IO[bytes]:
    """A new file only its owner can read (exports hold the annotated texts)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` still runs (a work folder named by its pid is then not stale)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it runs, as another user
        return True
    return True
