"""One run at a time per output: an exclusive lock that names its holder.

Two runs writing the same output interleave (two pre-annotations on one ``--out`` gave
3,193 lines for 3,000 ids), or one silently replaces the other's work (two trainings on
one model folder). A run takes the output's lock before it reads or writes anything and
holds it to the end; a second run is refused at once with one line naming the holder.

Why ``fcntl.flock`` and not the ``filelock`` library: the refused run must say *who*
holds the lock, so the holder writes its pid, host, command and start time into the lock
file. filelock opens its lock file with ``O_TRUNC`` even when it then fails to take the
lock, which would erase the holder's details before the loser reads them. ``flock`` is
released by the kernel when the holder dies (``kill -9`` included), so a stale lock file
never blocks a later run; the file itself stays (removing it on release would let a third
run lock a new file while a second still waits on the old one).

The lock file sits beside the output, hidden: ``.NAME.lock`` for ``DIR/NAME``, so that it
is not inside a folder the run replaces whole.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from toolkit.errors import OutputError

if sys.platform != "win32":
    import fcntl
else:  # pragma: no cover - the toolkit runs on POSIX systems (Label Studio's local server too)
    fcntl = None


class OutputLockedError(OutputError):
    """Another run holds the lock of this output."""


def lock_path(output: Path) -> Path:
    """The lock file of ``output``: ``.NAME.lock`` beside it (the output resolved, so that a
    symlink and its target share one lock)."""
    output = Path(output).absolute()
    target = output.resolve() if output.is_symlink() else output
    return target.parent / f".{target.name}.lock"


def _holder_text() -> str:
    command = " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:]) if sys.argv else "python"
    return json.dumps(
        {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": command[:200],
            "since": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )


def describe_holder(path: Path) -> str:
    """``pid 123 on host, since TIME (COMMAND)`` from a lock file; a plainer text when unreadable."""
    try:
        holder = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        holder = {}
    if not isinstance(holder, dict) or "pid" not in holder:
        return "another run"
    parts = f"pid {holder.get('pid')} on {holder.get('host', '?')}, since {holder.get('since', '?')}"
    if holder.get("command"):
        parts += f" ({holder['command']})"
    return parts


@contextmanager
def output_lock(output: Path, *, what: str = "output", lock_file: Path | None = None) -> Iterator[Path]:
    """Hold the exclusive lock of ``output`` for the block; OutputLockedError at once when another
    run holds it. ``what`` names the output in the message (``model folder``, ``review project``);
    ``lock_file`` overrides where the lock lives (for a lock that guards something not on disk)."""
    path = lock_file or lock_path(output)
    if fcntl is None:  # pragma: no cover
        yield path
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise OutputLockedError(
                f"{output}: another run is writing this {what} ({describe_holder(path)})",
                hint="wait for it to finish, or stop it; two runs on one output would interleave",
            ) from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, _holder_text().encode(), 0)
        try:
            yield path
        finally:
            # Leave the file (see the module docstring), emptied: its holder is gone.
            os.ftruncate(descriptor, 0)
    finally:
        os.close(descriptor)  # releases the flock


__all__ = ["OutputLockedError", "describe_holder", "lock_path", "output_lock"]
