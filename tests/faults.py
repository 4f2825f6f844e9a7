"""The test fault hooks, installed into the toolkit's hook points (``toolkit.hooks``).

The library only calls named points; what happens there is decided here. In the tests'
own process, install them with ``hooks.installed(Hooks(...))``. In a real ``toolkit``
subprocess, run it through :func:`command`, which names the launcher
(``python -m tests.faulty_toolkit``) when the environment sets one of these variables;
the launcher reads them and installs the hooks around the command line:

- ``TOOLKIT_TEST_KILL_AT=before:N`` / ``after:N``: SIGKILL just before sending, or just
  after the answer to, the N-th write request (POST, PATCH, PUT, DELETE) to Label Studio;
- ``TOOLKIT_TEST_FAIL_DOWNLOADS=N``: the first N export downloads break off mid-stream,
  as a dropped connection does;
- ``TOOLKIT_TEST_EXPORT_KILL_AT=STEP``: SIGKILL the export at a named step
  (``after-save``, ``before-manifest``, ``before-rename``);
- ``TOOLKIT_TEST_RAY_KILL_ACTOR=PATH``: the first Ray pre-annotation actor to reach its
  second batch creates PATH and SIGKILLs itself (once per PATH, across all actors);
- ``TOOLKIT_TEST_RAY_STOP_CLUSTER=PATH``: once the driver has its first results, it creates
  PATH and SIGKILLs the processes of the local Ray cluster it started (raylet, GCS, ...).
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from toolkit.hooks import ExportStep, Hooks, HttpEventHooks

KILL_AT_WRITE = "TOOLKIT_TEST_KILL_AT"
FAIL_DOWNLOADS = "TOOLKIT_TEST_FAIL_DOWNLOADS"
EXPORT_KILL_AT = "TOOLKIT_TEST_EXPORT_KILL_AT"
RAY_KILL_ACTOR = "TOOLKIT_TEST_RAY_KILL_ACTOR"
RAY_STOP_CLUSTER = "TOOLKIT_TEST_RAY_STOP_CLUSTER"
VARIABLES = (KILL_AT_WRITE, FAIL_DOWNLOADS, EXPORT_KILL_AT, RAY_KILL_ACTOR, RAY_STOP_CLUSTER)
WRITE_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
ROOT = Path(__file__).resolve().parents[1]


def _kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def _first_to_create(marker: str) -> bool:
    """Create ``marker``; False when it exists already (another process got there first)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


@dataclass(frozen=True)
class KillAtWrite:
    """SIGKILL just ``when`` ("before" or "after") the ``number``-th write request of a client."""

    when: str
    number: int

    def __call__(self) -> HttpEventHooks:
        # A count per client, as each client gets its own event hooks.
        writes = [0]

        def on_request(request: Any) -> None:
            if request.method.upper() in WRITE_METHODS:
                writes[0] += 1
                if self.when == "before" and writes[0] == self.number:
                    _kill()

        def on_response(response: Any) -> None:
            method = response.request.method.upper()
            if self.when == "after" and method in WRITE_METHODS and writes[0] == self.number:
                _kill()

        return {"request": [on_request], "response": [on_response]}


@dataclass
class BreakDownloads:
    """The first ``left`` downloads of this process break off at their first chunk."""

    left: int

    def __call__(self) -> None:
        if self.left > 0:
            self.left -= 1
            # What httpx raises when a server closes the connection mid-body: the toolkit
            # retries it and reports it as it would a real dropped connection.
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body (test)")


@dataclass(frozen=True)
class KillAtStep:
    """SIGKILL the export at the named step."""

    step: str

    def __call__(self, step: ExportStep) -> None:
        if step == self.step:
            _kill()


@dataclass(frozen=True)
class KillActorOnce:
    """SIGKILL the Ray actor that reaches its second batch first; once per ``marker`` across all
    actors. Pickled to the actors by reference: ``tests`` must import on the workers (a local
    cluster's workers have the driver's working directory and PYTHONPATH on their path)."""

    marker: str

    def __call__(self, batches: int) -> None:
        if batches == 2 and _first_to_create(self.marker):
            _kill()


@dataclass(frozen=True)
class StopClusterOnce:
    """SIGKILL the processes of the local Ray cluster this driver started, once per ``marker``:
    the cluster dies under a running job, as when its head node goes down."""

    marker: str

    def __call__(self) -> None:
        if not _first_to_create(self.marker):
            return
        from ray._private import worker

        for infos in worker._global_node.all_processes.values():
            for info in infos:
                os.kill(info.process.pid, signal.SIGKILL)


def from_environment(env: Mapping[str, str] | None = None) -> Hooks:
    """The hooks the ``TOOLKIT_TEST_*`` variables of ``env`` (default: this process's) ask for;
    a variable unset or malformed installs nothing."""
    source = os.environ if env is None else env
    kill_at, fail_downloads, export_kill_at, kill_actor, stop_cluster = (source.get(name, "") for name in VARIABLES)
    chosen: dict[str, Any] = {}
    when, _, number = kill_at.partition(":")
    if when in {"before", "after"} and number.isdigit():
        chosen["http_event_hooks"] = KillAtWrite(when, int(number))
    if fail_downloads.isdigit():
        chosen["download_chunk"] = BreakDownloads(int(fail_downloads))
    if export_kill_at:
        chosen["export_step"] = KillAtStep(export_kill_at)
    if kill_actor:
        chosen["actor_batch"] = KillActorOnce(kill_actor)
    if stop_cluster:
        chosen["cluster_results"] = StopClusterOnce(stop_cluster)
    return Hooks(**chosen)


def command(env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """How to run ``toolkit`` in a subprocess with environment ``env``: the argv prefix and the
    environment to use. When ``env`` sets a fault variable, that is the fault launcher, with
    this repository on PYTHONPATH (so ``tests`` imports from any working directory, and on a
    local Ray cluster's workers); otherwise the plain ``python -m toolkit`` and ``env`` as is."""
    if not any(env.get(name) for name in VARIABLES):
        return [sys.executable, "-m", "toolkit"], dict(env)
    path = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
    return [sys.executable, "-m", "tests.faulty_toolkit"], {**env, "PYTHONPATH": path}
