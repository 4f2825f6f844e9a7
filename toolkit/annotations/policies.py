"""Which of a task's annotations count: plain functions over Label Studio annotation dicts.

The policies (``pull.policy``; the config's ``Literal`` is the list of names):

- ``latest``: the newest submitted annotation (``updated_at``, else ``created_at``, then id);
- ``ground_truth``: the newest of those marked ground truth, else as ``latest``;
- ``majority``: a span-level vote over the annotators, each with their newest annotation
  (``majority_vote``);
- ``all``: each annotator's newest annotation.

A skipped annotation (``was_cancelled``) never counts. Annotators are told apart by
``annotator(annotation)``, by default Label Studio's ``completed_by``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

Annotation = dict[str, Any]
SpanT = TypeVar("SpanT")


def completed_by(annotation: Annotation) -> Hashable:
    user = annotation.get("completed_by")
    return user.get("id") if isinstance(user, dict) else user


def newest_key(annotation: Annotation) -> tuple[str, int]:
    return (annotation.get("updated_at") or annotation.get("created_at") or "", annotation.get("id") or 0)


def submitted(annotations: Iterable[Annotation]) -> list[Annotation]:
    return [annotation for annotation in annotations if not annotation.get("was_cancelled")]


def choose_annotation(annotations: Iterable[Annotation], policy: str = "latest") -> Annotation | None:
    """The submitted annotation ``latest``/``ground_truth`` use: ground truth first if asked, then the newest."""
    candidates = submitted(annotations)
    if policy == "ground_truth":
        candidates = [a for a in candidates if a.get("ground_truth")] or candidates
    return max(candidates, key=newest_key) if candidates else None


@dataclass(frozen=True)
class NotChosen:
    annotation: Annotation
    why: str


@dataclass
class Selection:
    """The annotations a policy uses, and the others with why they are left out.

    ``chosen`` is in the order the policy uses them: one for ``latest``/``ground_truth``,
    the voters newest first for ``majority``, by annotation id for ``all``.
    ``not_chosen`` is newest first.
    """

    chosen: list[Annotation] = field(default_factory=list)
    not_chosen: list[NotChosen] = field(default_factory=list)


def newest_per_annotator(
    annotations: Iterable[Annotation], annotator: Callable[[Annotation], Hashable] = completed_by
) -> Selection:
    """Each annotator's newest submitted annotation, newest first; their older ones are not chosen."""
    newest: dict[Hashable, Annotation] = {}
    selection = Selection()
    for annotation in sorted(submitted(annotations), key=newest_key, reverse=True):
        who = annotator(annotation)
        if who in newest:
            why = f"the same annotator's newer annotation {newest[who]['id']} counts"
            selection.not_chosen.append(NotChosen(annotation, why))
        else:
            newest[who] = annotation
            selection.chosen.append(annotation)
    return selection


def select(
    annotations: Iterable[Annotation], policy: str, annotator: Callable[[Annotation], Hashable] = completed_by
) -> Selection:
    """The submitted annotations ``policy`` uses (for ``majority``: the voters)."""
    annotations = submitted(annotations)
    if policy in ("latest", "ground_truth"):
        chosen = choose_annotation(annotations, policy)
        if chosen is None:
            return Selection()
        why = (
            "the policy chose the ground-truth annotation"
            if chosen.get("ground_truth") and policy == "ground_truth"
            else "the policy chose the newest annotation"
        )
        others = [a for a in sorted(annotations, key=newest_key, reverse=True) if a is not chosen]
        return Selection([chosen], [NotChosen(a, f"{why} ({chosen['id']})") for a in others])
    selection = newest_per_annotator(annotations, annotator)
    if policy == "all":
        selection.chosen.sort(key=lambda a: a["id"])
    elif policy != "majority":
        raise ValueError(f"unknown annotation policy {policy!r}")
    return selection


@dataclass
class Vote(Generic[SpanT]):
    """The outcome of a span-level vote."""

    winners: list[SpanT]  # one per winning span, taken from the newest voter that has it
    votes: Counter[Hashable]  # span key -> how many voters have it
    voters: int


def majority_vote(
    spans_by_voter: Sequence[Iterable[SpanT]], key: Callable[[SpanT], Hashable] = lambda span: span.key
) -> Vote[SpanT]:
    """A span wins with more than half of the voters; at exactly half, when the newest voter has it.

    ``spans_by_voter`` holds each voter's spans, the newest voter first; spans are the
    same span when their ``key`` is (by default their ``.key``: start, end, label).
    """
    voters = [list(spans) for spans in spans_by_voter]
    votes: Counter[Hashable] = Counter()
    for spans in voters:
        votes.update({key(span) for span in spans})
    newest = {key(span) for span in voters[0]} if voters else set()
    total = len(voters)
    winners: dict[Hashable, SpanT] = {}
    for spans in voters:
        for span in spans:
            span_key = key(span)
            count = votes[span_key]
            if span_key not in winners and (2 * count > total or (2 * count == total and span_key in newest)):
                winners[span_key] = span
    return Vote(list(winners.values()), votes, total)
