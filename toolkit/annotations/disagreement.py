"""Where annotators of one article disagree, and of which kind: one answer for adjudicate, pull and the report.

An article's versions are each annotator's newest submitted answer (anonymous id ->
spans). Two versions agree when they hold the same ``(start, end, label)`` spans; an
empty answer ("no entities here") is a version like any other, so it disagrees with one
that has spans. An article is

- ``single``: one annotator, nothing to compare (not a disagreement);
- ``agreed``: every version the same: auto-accepted, the answer is final;
- ``disputed``: at least two versions differ.

The spans of a disputed article that not every annotator has are classified pair by
pair with the edit vocabulary (``toolkit.metrics.edits.classify_edits``): the same
offsets with another label is ``label``; overlapping with the same label is
``boundary``; overlapping with another label too is ``label``; a span the other side
lacks entirely is ``missing/extra span``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

from toolkit.annotations.policies import majority_vote
from toolkit.metrics.edits import classify_edits
from toolkit.records import Key, Span

BOUNDARY, LABEL, MISSING = "boundary", "label", "missing/extra span"
KINDS = (BOUNDARY, LABEL, MISSING)
_EDIT_KIND = {"boundary fixed": BOUNDARY, "relabelled": LABEL, "deleted": MISSING, "added": MISSING}


@dataclass(frozen=True)
class DisputedSpan:
    """A span some annotators have and others do not, with who has it and the kinds it is part of."""

    start: int
    end: int
    label: str
    annotators: tuple[str, ...]  # those who have it
    kinds: tuple[str, ...]

    @property
    def key(self) -> Key:
        return (self.start, self.end, self.label)


@dataclass
class Comparison:
    """One article's versions compared (see the module docstring)."""

    annotators: list[str]  # newest version first
    agreed: list[Span] = field(default_factory=list)  # spans every annotator has
    disputed: list[DisputedSpan] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)  # kind -> disagreements of that kind (pairwise)
    empty_vs_spans: bool = False  # one annotator answered "no entities", another has spans

    @property
    def status(self) -> str:
        if len(self.annotators) < 2:
            return "single"
        return "disputed" if self.disputed else "agreed"


def compare(versions: Mapping[str, Sequence[Span]]) -> Comparison:
    """Compare the versions of one article (annotator -> spans, the newest version first)."""
    annotators = list(versions)
    comparison = Comparison(annotators)
    keys = {annotator: {span.key for span in spans} for annotator, spans in versions.items()}
    if len(annotators) < 2:
        return comparison
    common = set.intersection(*keys.values())
    first = versions[annotators[0]]
    comparison.agreed = sorted((span for span in _unique(first) if span.key in common), key=_order)
    span_kinds: dict[Key, set[str]] = {}
    for a, b in combinations(annotators, 2):
        if keys[a] == keys[b]:
            continue
        if not keys[a] or not keys[b]:
            comparison.empty_vs_spans = True
        left = [span for span in _unique(versions[a]) if span.key not in keys[b]]
        right = [span for span in _unique(versions[b]) if span.key not in keys[a]]
        for edit, one, other in classify_edits(left, right):
            kind = _EDIT_KIND.get(edit)
            if kind is None:
                continue
            comparison.kinds[kind] += 1
            for span in (one, other):
                if span is not None:
                    span_kinds.setdefault(span.key, set()).add(kind)
    for key in sorted(set().union(*keys.values()) - common):
        having = tuple(annotator for annotator in annotators if key in keys[annotator])
        kinds = tuple(kind for kind in KINDS if kind in span_kinds.get(key, ()))
        comparison.disputed.append(DisputedSpan(*key, annotators=having, kinds=kinds or (MISSING,)))
    return comparison


def prefill(versions: Mapping[str, Sequence[Span]], mode: str = "agreed") -> list[Span]:
    """Where the adjudicator starts: the spans every annotator has (``agreed``) or the majority's
    (``majority``: ``majority_vote``, more than half, at exactly half the newest version's)."""
    if mode == "majority":
        vote = majority_vote([_unique(spans) for spans in versions.values()])
        return sorted(vote.winners, key=_order)
    if mode != "agreed":
        raise ValueError(f"unknown prefill {mode!r}")
    if len(versions) < 2:
        return sorted(_unique(next(iter(versions.values()), [])), key=_order)
    return compare(versions).agreed


def versions_fingerprint(versions: Mapping[str, Sequence[Span]]) -> str:
    """A short hash of who answered what: changes when any annotator's spans change."""
    shape = sorted((annotator, sorted(span.key for span in spans)) for annotator, spans in versions.items())
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:16]


def _unique(spans: Sequence[Span]) -> list[Span]:
    seen: set[Key] = set()
    out = []
    for span in spans:
        if span.key not in seen:
            seen.add(span.key)
            out.append(span)
    return out


def _order(span: Span) -> Key:
    return span.key
