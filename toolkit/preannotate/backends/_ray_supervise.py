"""A Ray pre-annotation run in a forked child, supervised by the command's own process.

Why a child: Ray's core worker ends the driver process on the spot, with no exception and no
cleanup, when the node it runs on loses its raylet or object store (a cluster that dies
mid-run). Run in a child, that end is seen by the parent and becomes one error line.

The child and the parent stay one run:

- **the child dies with the parent.** A parent killed outright (SIGKILL) must not leave the
  child appending to the output, nor its local cluster running, while the rerun the user
  starts writes the same file. On Linux the kernel sends the child SIGTERM when the parent
  dies (``prctl(PR_SET_PDEATHSIG)``, the mechanism Ray itself uses for its own processes:
  nothing in the child has to be scheduled for it to happen); elsewhere a thread of the
  child waits on a pipe the parent holds open, which the kernel closes when the parent dies.
- **SIGTERM stops the run** (``timeout``, ``kill``, the parent's death): the child ends its
  run where it is (the records written stay whole), stops the local cluster it started and
  tells the parent, which raises :class:`~toolkit.errors.StoppedError` naming what the output
  holds. A SIGTERM sent to the parent alone is passed on to the child. Should the stop not
  finish within ``STOP_SECONDS``, the child SIGKILLs itself (Ray's own fate-sharing then
  takes the raylet and GCS it started down with it).
- **Ctrl-C** reaches the child (the parent ignores it), which ends the run as usual.

Where there is no ``fork`` (Windows), the run happens in this process, unsupervised.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from toolkit.errors import ClusterError, StoppedError

# Seconds a stopped child may take to end its run and stop its local cluster before it is killed.
STOP_SECONDS = 30
EXITED, STOPPED = b"exited", b"stopped"
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Terminated(KeyboardInterrupt):
    """Raised in the child's main thread by SIGTERM. A KeyboardInterrupt, so that Ray and the
    toolkit unwind it as they unwind Ctrl-C (their ``except Exception`` lets it through)."""


def supervised(run: Callable[[], None], *, out: Path) -> int:
    """Run ``run`` (the whole pre-annotation on Ray, its output and summary) in a forked child.

    Returns the child's exit code when it ended by itself (0, or the code of an error it
    printed, or 130 for Ctrl-C). Raises :class:`StoppedError` when the run was stopped by
    SIGTERM, and :class:`ClusterError` when Ray ended the child (its cluster went away)."""
    if not hasattr(os, "fork"):
        run()
        return 0
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    reader, writer = os.pipe()
    lifeline_reader, lifeline_writer = os.pipe()  # never written: its end is the parent's death
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        os.close(lifeline_writer)
        _child(run, parent=parent, writer=writer, lifeline=lifeline_reader)
        return 0
    os.close(writer)
    os.close(lifeline_reader)
    signalled: list[int] = []

    def pass_on(signum: int, _frame: object) -> None:
        signalled.append(signum)
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass

    previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child, which ends the run
    previous_term = signal.signal(signal.SIGTERM, pass_on)
    try:
        with os.fdopen(reader, "rb") as pipe:
            said = pipe.read()
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, previous_int)
        signal.signal(signal.SIGTERM, previous_term)
        os.close(lifeline_writer)
    code = os.waitstatus_to_exitcode(status)
    if said == STOPPED or (signalled and not (said == EXITED and code == 0)):
        raise StoppedError(f"stopped (SIGTERM): {_holds(out)}; run the same command again to resume after them")
    if said == EXITED:
        return code
    ending = f"signal {-code}" if code < 0 else f"exit status {code}"
    raise ClusterError(
        f"the Ray cluster went away mid-run: Ray ended this run ({ending}) when its node lost the cluster; "
        f"the articles finished before are in {out}",
        hint="check the cluster (`ray status`), then run the same command again: it resumes after them",
    )


def _child(run: Callable[[], None], *, parent: int, writer: int, lifeline: int) -> None:
    """The child's side: SIGTERM (or the parent's death) stops the run, Python's own exit says
    "exited" through the pipe, a stop says "stopped" and ends the process without the rest."""
    signal.signal(signal.SIGTERM, _stop)
    _die_with_parent(parent, lifeline)
    atexit.register(_say, writer, EXITED)
    try:
        run()
    except Terminated:
        _say(writer, STOPPED)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(128 + signal.SIGTERM)  # the parent reports the stop; nothing else is to run here
    # The run is over (written and reported): a SIGTERM from now on changes nothing.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _stop(_signum: int, _frame: object) -> None:
    # Once: the parent passes on the SIGTERM it gets too, and `timeout` signals the whole group.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    watchdog = threading.Timer(STOP_SECONDS, os.kill, (os.getpid(), signal.SIGKILL))
    watchdog.daemon = True
    watchdog.start()
    raise Terminated()


def _die_with_parent(parent: int, lifeline: int) -> None:
    """SIGTERM this process when ``parent`` dies, however it dies."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0:
            os.close(lifeline)
            if os.getppid() != parent:  # the parent died before the request was made
                os.kill(os.getpid(), signal.SIGTERM)
            return

    def wait_for_end() -> None:
        os.read(lifeline, 1)  # returns (empty) once the parent, the only writer, is gone
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait_for_end, name="toolkit-lifeline", daemon=True).start()


def _say(writer: int, word: bytes) -> None:
    try:
        os.write(writer, word)
        os.close(writer)
    except OSError:  # the parent is gone: nobody to tell
        pass


def _holds(out: Path) -> str:
    """What the output holds now, counted: JSONL lines, or the rows of a Parquet folder's parts."""
    if out.is_dir():
        import pyarrow.parquet as pq

        from toolkit.io.predictions import parts

        count = sum(pq.ParquetFile(part).metadata.num_rows for part in parts(out))
    elif out.is_file():
        with out.open("rb") as handle:
            count = sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))
    else:
        return f"nothing was written to {out}"
    return f"{out} holds {count:,} article{'' if count == 1 else 's'}"
