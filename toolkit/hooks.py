"""Named points where a caller may step into a run, handed in by the caller; by default they do nothing.

The fault tests use them to stop or break a command at an exact place (SIGKILL before the
N-th write to Label Studio, a download cut mid-stream, ...) and then check what the command
left behind. The library holds no test code and reads no test setting: it calls these
points, and whoever runs it decides what they do. Tests install hooks around a call with
:func:`installed`; for a real ``toolkit`` process, ``tests/faulty_toolkit.py`` installs them
around the command line.

A :class:`contextvars.ContextVar` carries them rather than a parameter on every function:
the points sit deep under the stages (the HTTP client, the export download, a Ray actor),
and a forked child (the supervised Ray run) inherits the installed hooks with the rest of
its parent's memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

# The steps of ``toolkit.dataset.exporting.export`` at which ``export_step`` is called, in order.
ExportStep = Literal["after-save", "before-manifest", "before-rename"]
HttpEventHooks = dict[str, list[Callable[[Any], None]]]


def no_events() -> HttpEventHooks:
    return {}


def nothing(*_: object) -> None:
    return None


@dataclass(frozen=True)
class Hooks:
    """The hook points. Each default does nothing."""

    # Called once per Label Studio client made by ``labelstudio.client.connect``: httpx event
    # hooks ({"request": [...], "response": [...]}) for that client's requests.
    http_event_hooks: Callable[[], HttpEventHooks] = no_events
    # Called after each chunk of the export download is written. An httpx.TransportError
    # raised here is a connection that broke off mid-download, and is retried as one.
    download_chunk: Callable[[], None] = nothing
    # Called at each named step of a dataset export (ExportStep), just before the step.
    export_step: Callable[[ExportStep], None] = nothing
    # Called in a Ray pre-annotation actor before each batch, with the number of batches it
    # has started (1, 2, ...). Actors run in other processes, so it is handed to each actor as
    # an argument: it must pickle, and its module must import on the cluster's workers.
    actor_batch: Callable[[int], None] = nothing
    # Called in the Ray driver each time a batch of results arrives from the cluster.
    cluster_results: Callable[[], None] = nothing


_current: ContextVar[Hooks] = ContextVar("toolkit_hooks", default=Hooks())


def current() -> Hooks:
    """The hooks installed in this context (the do-nothing ones when none are)."""
    return _current.get()


@contextmanager
def installed(hooks: Hooks) -> Iterator[Hooks]:
    """Install ``hooks`` for the calls made inside the ``with`` block."""
    token = _current.set(hooks)
    try:
        yield hooks
    finally:
        _current.reset(token)
