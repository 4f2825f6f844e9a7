"""Fault hooks for the test suites, in one style.

Each hook reads one ``TOOLKIT_TEST_*`` environment variable and does nothing when it is
unset, which it always is outside the tests. The tests set it on a real ``toolkit``
subprocess to stop or break the command at an exact point, then check what the command
left behind and that a rerun recovers:

- ``TOOLKIT_TEST_KILL_AT=before:N`` / ``after:N``: SIGKILL just before sending, or just
  after the answer to, the N-th write request (POST, PATCH, PUT, DELETE) to Label Studio;
- ``TOOLKIT_TEST_FAIL_DOWNLOADS=N``: the first N export downloads break off mid-stream,
  as a dropped connection would;
- ``TOOLKIT_TEST_EXPORT_KILL_AT=POINT``: SIGKILL the export at a named point
  (``after-save``, ``before-manifest``, ``before-rename``);
- ``TOOLKIT_TEST_RAY_KILL_ACTOR=PATH``: the first Ray pre-annotation actor to reach its
  second batch creates PATH and SIGKILLs itself (once per PATH, across all actors);
- ``TOOLKIT_TEST_RAY_STOP_CLUSTER=PATH``: once the driver has its first results, it creates
  PATH and SIGKILLs the processes of the local Ray cluster it started (raylet, GCS, ...).
"""

from __future__ import annotations

import os
import signal
from typing import Any

KILL_AT_WRITE = "TOOLKIT_TEST_KILL_AT"
FAIL_DOWNLOADS = "TOOLKIT_TEST_FAIL_DOWNLOADS"
EXPORT_KILL_AT = "TOOLKIT_TEST_EXPORT_KILL_AT"
RAY_KILL_ACTOR = "TOOLKIT_TEST_RAY_KILL_ACTOR"
RAY_STOP_CLUSTER = "TOOLKIT_TEST_RAY_STOP_CLUSTER"
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})


def _setting(variable: str) -> str:
    return os.environ.get(variable, "")


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_at(point: str) -> None:
    """SIGKILL this process when ``TOOLKIT_TEST_EXPORT_KILL_AT`` names ``point``."""
    if _setting(EXPORT_KILL_AT) == point:
        _kill()


def write_kill_hooks() -> dict[str, list[Any]]:
    """httpx event hooks for ``TOOLKIT_TEST_KILL_AT`` (none when it is unset or malformed)."""
    when, _, number = _setting(KILL_AT_WRITE).partition(":")
    if when not in {"before", "after"} or not number.isdigit():
        return {}
    target, writes = int(number), [0]

    def on_request(request: Any) -> None:
        if request.method.upper() in WRITE_METHODS:
            writes[0] += 1
            if when == "before" and writes[0] == target:
                _kill()

    def on_response(response: Any) -> None:
        if when == "after" and response.request.method.upper() in WRITE_METHODS and writes[0] == target:
            _kill()

    return {"request": [on_request], "response": [on_response]}


class InjectedFailure(Exception):
    """Raised by ``DownloadFailures`` in place of a connection that breaks mid-download."""


class DownloadFailures:
    """``TOOLKIT_TEST_FAIL_DOWNLOADS``: the first N downloads of this command break off."""

    def __init__(self) -> None:
        value = _setting(FAIL_DOWNLOADS)
        self.left = int(value) if value.isdigit() else 0

    def check(self) -> None:
        """Called once per chunk received: breaks the download while failures are left."""
        if self.left > 0:
            self.left -= 1
            raise InjectedFailure()


def ray_kill_marker() -> str | None:
    """``TOOLKIT_TEST_RAY_KILL_ACTOR`` as the driver reads it (actors get it as an argument:
    a cluster's workers do not share the driver's environment)."""
    return _setting(RAY_KILL_ACTOR) or None


def kill_actor_once(marker: str | None, batches: int) -> None:
    """SIGKILL this actor at its second batch, when no actor has done so for ``marker`` yet."""
    if marker is None or batches != 2:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    _kill()


def ray_stop_marker() -> str | None:
    return _setting(RAY_STOP_CLUSTER) or None


def stop_cluster_once(marker: str | None) -> None:
    """SIGKILL the processes of the local Ray cluster this driver started, once per ``marker``:
    the cluster dies under a running job, as when its head node goes down."""
    if marker is None:
        return
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    from ray._private import worker

    for infos in worker._global_node.all_processes.values():
        for info in infos:
            os.kill(info.process.pid, signal.SIGKILL)
