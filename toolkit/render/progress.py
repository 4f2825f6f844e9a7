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

from toolkit.progress import ProgressEvent
from toolkit.render.terminal import err_console


class PhaseState:
    """What a phase has done so far, as the drawer has summed it from the events."""

    def __init__(self, phase: str) -> None:
        self.phase = phase
        self.done = 0
        self.total: int | None = None
        self.amounts: Counter[str] = Counter()
        self.started = time.perf_counter()

    @property
    def elapsed(self) -> float:
        """Seconds since the phase's first event (never 0, so that rates are defined)."""
        return max(time.perf_counter() - self.started, 1e-9)

    def rate(self, unit: str | None = None) -> float:
        """Per second since the phase's first event, of ``unit`` (an amount) or of the units done."""
        return (self.amounts[unit] if unit else self.done) / self.elapsed


Describe = Callable[[PhaseState], str]


class ProgressDrawer:
    """The ``on_progress`` that ``progress_display`` yields; ``phases`` stay readable after it closes."""

    def __init__(self, progress: Any, describe: Describe) -> None:
        self.progress = progress
        self.describe = describe
        self.task = progress.add_task("", total=None)
        self.phases: dict[str, PhaseState] = {}

    def __call__(self, event: ProgressEvent) -> None:
        state = self.phases.get(event.phase)
        if state is None:
            state = self.phases[event.phase] = PhaseState(event.phase)
        state.done += event.advance
        if event.total is not None:
            state.total = event.total
        if event.amounts:
            state.amounts.update(event.amounts)
        if not self.progress.live.is_started and self.progress.console.is_terminal:
            self.progress.start()
        if event.note is not None:
            self.progress.update(self.task, description=event.note, total=None)
            return
        self.progress.update(self.task, description=self.describe(state), completed=state.done, total=state.total)


@contextmanager
def progress_display(*columns: Any, describe: Describe, show_from_start: bool = True) -> Iterator[ProgressDrawer]:
    """A ``rich`` progress display on stderr; yields the ``on_progress`` to hand to the library.

    ``columns`` are rich columns (the task's description is ``describe(state)``);
    ``show_from_start=False`` draws nothing until the first event arrives. The yielded
    callable keeps each phase's :class:`PhaseState` in ``.phases`` (by phase name), for
    a summary printed after the display is gone.
    """
    from rich.progress import Progress

    progress = Progress(*columns, console=err_console, transient=True)
    on_progress = ProgressDrawer(progress, describe)
    # Not on a terminal (piped, a log) rich draws nothing but a blank line when it stops.
    if show_from_start and err_console.is_terminal:
        progress.start()
    try:
        yield on_progress
    finally:
        if progress.live.is_started:
            progress.stop()


class LineDrawer(ProgressDrawer):
    """For stderr that is not a terminal (a log, CI), where rich draws nothing: each note
    once as a plain line, and the counts as a line at most every ``every`` seconds."""

    def __init__(self, describe: Describe, every: float) -> None:
        self.describe = describe
        self.every = every
        self.phases = {}
        self.last_note: str | None = None
        self.shown = float("-inf")

    def __call__(self, event: ProgressEvent) -> None:
        state = self.phases.setdefault(event.phase, PhaseState(event.phase))
        state.done += event.advance
        if event.total is not None:
            state.total = event.total
        state.amounts.update(event.amounts or {})
        if event.note is not None:
            if event.note != self.last_note:
                err_console.print(event.note)
                self.last_note = event.note
            return
        if time.perf_counter() - self.shown >= self.every and (line := self.describe(state)):
            err_console.print(line)
            self.shown = time.perf_counter()


@contextmanager
def progress_lines(describe: Describe, every: float = 15.0) -> Iterator[ProgressDrawer]:
    """Like ``progress_display`` on a terminal; as plain lines on stderr otherwise."""
    if err_console.is_terminal:
        from rich.progress import SpinnerColumn, TextColumn

        with progress_display(SpinnerColumn(), TextColumn("{task.description}"), describe=describe) as drawer:
            yield drawer
    else:
        yield LineDrawer(describe, every)
