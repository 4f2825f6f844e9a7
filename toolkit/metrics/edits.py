"""How human annotations differ from the prediction they started from: one vocabulary.

``classify_edits`` pairs predicted with human spans one to one and names each edit with
one of ``EDIT_KINDS``; the report and the dataset card both speak in these words.
``corrections`` is the coarser count behind the dataset's ``n_corrections`` column: spans
added plus spans deleted by exact ``(start, end, label)``, where a fixed boundary or a
new label counts as one of each.
"""

from __future__ import annotations

from collections import defaultdict

from toolkit.records import Key, Span, span_keys


def corrections(human: list[Span] | list[Key], predicted: list[Span] | list[Key]) -> tuple[int, int, int]:
    """``(unchanged, added, removed)`` spans of a human annotation against the prediction.

    A span is unchanged when its start, end and label are all the prediction's. A moved
    boundary or a new label counts as one removed and one added span. The number of
    corrections of a row is ``added + removed``.
    """
    human_keys, predicted_keys = set(span_keys(human)), set(span_keys(predicted))
    return len(human_keys & predicted_keys), len(human_keys - predicted_keys), len(predicted_keys - human_keys)


EDIT_KINDS = ("accepted unchanged", "boundary fixed", "relabelled", "deleted", "added")


def classify_edits(predicted: list[Span], human: list[Span]) -> list[tuple[str, Span | None, Span | None]]:
    """Pair predicted with human spans, one to one, and name each edit.

    In this order: the same offsets and label (accepted unchanged); the same offsets,
    another label (relabelled); overlapping, same label (boundary fixed); overlapping,
    another label (relabelled: the label changed, the boundary too). A predicted span
    left unpaired was deleted, a human span left unpaired was added.
    """
    edits: list[tuple[str, Span | None, Span | None]] = []
    free_human: dict[int, Span] = dict(enumerate(human))
    by_key: dict[tuple[int, int, str], list[int]] = defaultdict(list)
    for number, h in free_human.items():
        by_key[h.key].append(number)
    free_predicted = []
    for p in predicted:  # the common case first, in one pass: accepted unchanged
        if by_key.get(p.key):
            edits.append(("accepted unchanged", p, free_human.pop(by_key[p.key].pop(0))))
        else:
            free_predicted.append(p)
    stages = [
        ("relabelled", lambda p, h: (p.start, p.end) == (h.start, h.end)),
        ("boundary fixed", lambda p, h: p.label == h.label and p.start < h.end and h.start < p.end),
        ("relabelled", lambda p, h: p.start < h.end and h.start < p.end),
    ]
    for kind, matches in stages:
        left = []
        for p in free_predicted:
            number = next((n for n, h in free_human.items() if matches(p, h)), None)
            if number is None:
                left.append(p)
            else:
                edits.append((kind, p, free_human.pop(number)))
        free_predicted = left
    edits.extend(("deleted", p, None) for p in free_predicted)
    edits.extend(("added", None, h) for h in free_human.values())
    return edits
