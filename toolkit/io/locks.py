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
never blocks a later run. The holder removes the file when it is done (a killed holder's
stays, empty of any lock, until the next run takes and removes it); a run that opened the
file just before it was removed notices and opens the new one, so two runs never hold
locks on two different files of one output.

The lock file sits beside the output, hidden: ``.NAME.lock`` for ``DIR/NAME``, so that it
is not inside a folder the run replaces whole.

A process that holds a lock may take it again (nested blocks): a command takes its
output's lock before the slow start (loading a model, starting a cluster) so that a second
run is refused at once, and the library function it then calls takes the same lock for
its other callers. A forked child inherits the held lock with the descriptor.
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


# Lock files this process holds -> how many nested blocks hold each.
_HELD: dict[Path, int] = {}


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
    if path in _HELD:  # this process holds it already (an outer block): flock would refuse
        _HELD[path] += 1
        try:
            yield path
        finally:
            _HELD[path] -= 1
        return
    descriptor = _take(path, output, what)
    try:
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, _holder_text().encode(), 0)
        _HELD[path] = 1
        taker = os.getpid()
        try:
            yield path
        finally:
            del _HELD[path]
            # Removed while still locked: a run that opened it meanwhile sees it gone and
            # opens the next one (see _take), so no lock file is left beside the output.
            # Only by the process that took it (a forked child shares the lock until its
            # parent ends), and only while the path is still this lock's file.
            if os.getpid() == taker and _same_file(path, descriptor):
                path.unlink(missing_ok=True)
    finally:
        os.close(descriptor)  # releases the flock (once no forked child shares it)


def _take(path: Path, output: Path, what: str) -> int:
    """The descriptor of ``path``, exclusively locked; OutputLockedError when another run holds it."""
    while True:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise OutputError(f"{output}: cannot write ({error.strerror})") from None
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(descriptor)
            if error.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise
            raise OutputLockedError(
                f"{output}: another run is writing this {what} ({describe_holder(path)})",
                hint="wait for it to finish, or stop it; two runs on one output would interleave",
            ) from None
        # The holder before may have released and removed the file between this open and
        # this flock: the lock is then on a file nobody else finds. Take the one at the path.
        if _same_file(path, descriptor):
            return descriptor
        os.close(descriptor)


def _same_file(path: Path, descriptor: int) -> bool:
    try:
        current = os.stat(path)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (current.st_dev, current.st_ino) == (opened.st_dev, opened.st_ino)


__all__ = ["OutputLockedError", "describe_holder", "lock_path", "output_lock"]
