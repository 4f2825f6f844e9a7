"""Progress: one event type, sent by the library, drawn by the CLI.

A stage that has something to show calls ``on_progress(ProgressEvent(...))``; it never
draws anything itself. Events are plain values, so events from worker processes (or a
cluster) can be forwarded to the driver and drawn there, and their counts add up:

- ``advance`` is how many more units of ``phase`` are done since the last event of that
  phase (an increment, not a running total, so several workers' events simply sum);
- ``total`` is how many units the phase will do, once known;
- ``amounts`` are other quantities done in the same step (``{"words": 412}``);
- ``note`` is a sentence to show instead of a count ("Installing Label Studio ...").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    phase: str
    advance: int = 0
    total: int | None = None
    # A plain dict, so that events pickle (worker processes send them to the driver).
    amounts: Mapping[str, int] = field(default_factory=dict)
    note: str | None = None


OnProgress = Callable[[ProgressEvent], None]


def emit(on_progress: OnProgress | None, phase: str, advance: int = 0, **fields: object) -> None:
    """Send one event when someone listens (``fields``: ``total``, ``amounts``, ``note``)."""
    if on_progress is not None:
        on_progress(ProgressEvent(phase, advance, **fields))  # type: ignore[arg-type]
