"""Drawing the library's progress events (``toolkit.progress``), always on stderr.

stdout is for results (and for ``--json``); a progress bar there would mix with them.
Each command says how its phases look (``describe``), and this one drawer keeps the
counts: per phase, the units done, the total once known, and the other amounts summed.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from toolkit.cli._app import err_console
from toolkit.progress import ProgressEvent


class PhaseState:
    """What a phase has done so far, as the drawer has summed it from the events."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.done = 0
        self.total: int | None = None
        self.amounts: Counter[str] = Counter()
        self.started = time.perf_counter()

    def rate(self, unit: str | None = None) -> float:
        """Per second since the phase's first event, of ``unit`` (an amount) or of the units done."""
        elapsed = max(time.perf_counter() - self.started, 1e-9)
        return (self.amounts[unit] if unit else self.done) / elapsed


Describe = Callable[[PhaseState], str]


@contextmanager
def progress_display(
    *columns: Any, describe: Describe, show_from_start: bool = True
) -> Iterator[Callable[[ProgressEvent], None]]:
    """A ``rich`` progress display on stderr; yields the ``on_progress`` to hand to the library.

    ``columns`` are rich columns (the task's description is ``describe(state)``);
    ``show_from_start=False`` draws nothing until the first event arrives.
    """
    from rich.progress import Progress

    progress = Progress(*columns, console=err_console, transient=True)
    task = progress.add_task("", total=None)
    phases: dict[str, PhaseState] = {}

    def on_progress(event: ProgressEvent) -> None:
        state = phases.get(event.phase)
        if state is None:
            state = phases[event.phase] = PhaseState(event.phase)
        state.done += event.advance
        if event.total is not None:
            state.total = event.total
        state.amounts.update(event.amounts)
        if not progress.live.is_started:
            progress.start()
        if event.note is not None:
            progress.update(task, description=event.note, total=None)
            return
        progress.update(task, description=describe(state), completed=state.done, total=state.total)

    if show_from_start:
        progress.start()
    try:
        yield on_progress
    finally:
        if progress.live.is_started:
            progress.stop()
