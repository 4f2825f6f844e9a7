"""How human annotations differ from the prediction they started from."""

from __future__ import annotations

from toolkit.nlp.alignment import Key, span_keys
from toolkit.records import Span


def corrections(human: list[Span] | list[Key], predicted: list[Span] | list[Key]) -> tuple[int, int, int]:
    """``(unchanged, added, removed)`` spans of a human annotation against the prediction.

    A span is unchanged when its start, end and label are all the prediction's. A moved
    boundary or a new label counts as one removed and one added span. The number of
    corrections of a row is ``added + removed``.
    """
    human_keys, predicted_keys = set(span_keys(human)), set(span_keys(predicted))
    return len(human_keys & predicted_keys), len(human_keys - predicted_keys), len(predicted_keys - human_keys)
