"""The one progress drawer: events summed per phase, drawn on stderr, states kept for a summary."""

from __future__ import annotations

from rich.progress import TextColumn

from toolkit.progress import emit
from toolkit.render.progress import progress_display


def test_events_add_up_per_phase_and_the_states_outlive_the_display():
    seen = []

    def describe(state):
        seen.append((state.phase, state.done, state.total, dict(state.amounts)))
        return f"{state.done} done"

    with progress_display(TextColumn("{task.description}"), describe=describe, show_from_start=False) as on_progress:
        emit(on_progress, "articles", 0, total=3)
        emit(on_progress, "articles", 1, amounts={"words": 4})
        emit(on_progress, "articles", 2, amounts={"words": 6})
        emit(on_progress, "other", note="Doing something else")
    assert seen == [
        ("articles", 0, 3, {}),
        ("articles", 1, 3, {"words": 4}),
        ("articles", 3, 3, {"words": 10}),
    ]
    state = on_progress.phases["articles"]
    assert (state.done, state.amounts["words"]) == (3, 10)
    assert state.elapsed > 0 and state.rate("words") > 0
