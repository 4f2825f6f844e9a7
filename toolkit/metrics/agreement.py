"""Agreement between annotators of the same tasks: pairwise span F1, Cohen's kappa, Krippendorff's alpha.

- span F1: exact ``(start, end, label)`` spans, 2 * matched / (spans of both sides),
  summed over every pair of annotators of every task;
- Cohen's kappa: IOB2 token tags, every annotator pair of every task pooled (the first
  annotator by id as rater A);
- Krippendorff's alpha (nominal): tokens are the units, annotators the coders.

Each figure is given per label (tags of other labels count as ``O``) or ``OVERALL``, and
is None where it is undefined (no span on either side, every token the same tag).
"""

from __future__ import annotations

import math
import warnings
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from toolkit.metrics.spans import OVERALL
from toolkit.records import Key, tag_names


@dataclass
class SpanAgreement:
    """Pairwise span F1 counts: per label, 2 * matched spans and the spans of both sides."""

    matched: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of_task(cls, spans: Mapping[str, Iterable[Key]]) -> SpanAgreement:
        """The counts over every pair of annotators of one task (annotator -> their spans)."""
        keys = {annotator: set(found) for annotator, found in spans.items()}
        counts = cls()
        for first, second in combinations(sorted(keys), 2):
            a, b = keys[first], keys[second]
            # A label neither side uses adds nothing: only the pair's labels are counted.
            for label in [*{key[2] for key in a | b}, OVERALL]:
                side_a = {key for key in a if label in (OVERALL, key[2])}
                side_b = {key for key in b if label in (OVERALL, key[2])}
                counts.matched[label] += 2 * len(side_a & side_b)
                counts.total[label] += len(side_a) + len(side_b)
        return counts

    def merge(self, other: SpanAgreement) -> SpanAgreement:
        """Add ``other``'s counts to these; returns self."""
        self.matched.update(other.matched)
        self.total.update(other.total)
        return self

    def f1(self, label: str = OVERALL) -> float | None:
        total = self.total[label]
        return self.matched[label] / total if total else None


class TokenAgreement:
    """Cohen's kappa and Krippendorff's alpha on the IOB2 token tags of tasks several annotators tagged.

    ``tasks`` holds, per task, annotator -> tags (one per token, the same tokens for
    every annotator); ``labels`` are every label the tags use.
    """

    def __init__(self, labels: list[str], tasks: Iterable[Mapping[str, list[str]]]) -> None:
        import numpy as np

        self.names = tag_names(labels)
        code = {name: number for number, name in enumerate(self.names)}
        # Per label, a projection of the tag codes that maps other labels' tags to O.
        self._projection = {OVERALL: np.arange(len(self.names))}
        for label in labels:
            self._projection[label] = np.array([n if name[2:] == label else 0 for n, name in enumerate(self.names)])
        coded = [
            {name: np.array([code[tag] for tag in tags], dtype=np.int64) for name, tags in t.items()} for t in tasks
        ]
        self.tokens = sum(len(next(iter(task.values()))) for task in coded)
        # Kappa: the rater pairs' codes, concatenated. Alpha: per token, how many annotators gave each tag.
        first, second = [], []
        self._counts = np.zeros((self.tokens, len(self.names)), dtype=np.int64)
        offset = 0
        for task in coded:
            length = len(next(iter(task.values())))
            for values in task.values():
                self._counts[np.arange(offset, offset + length), values] += 1
            for a, b in combinations(sorted(task), 2):
                first.append(task[a])
                second.append(task[b])
            offset += length
        self._first = np.concatenate(first) if first else np.zeros(0, dtype=np.int64)
        self._second = np.concatenate(second) if second else np.zeros(0, dtype=np.int64)

    def cohen_kappa(self, label: str = OVERALL) -> float | None:
        """Cohen's kappa, (p_o - p_e) / (1 - p_e), of the pooled pairs; None when p_e is 1."""
        import numpy as np

        if not len(self._first):
            return None
        size = len(self.names)
        projection = self._projection[label]
        a, b = projection[self._first], projection[self._second]
        confusion = np.bincount(a * size + b, minlength=size * size).reshape(size, size)
        total = confusion.sum()
        observed = np.trace(confusion) / total
        expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / total**2
        if expected >= 1.0:
            return None
        return float((observed - expected) / (1 - expected))

    def krippendorff_alpha(self, label: str = OVERALL) -> float | None:
        """Krippendorff's alpha, nominal, from the value counts; None when only one tag occurs."""
        import numpy as np

        size = len(self.names)
        # Sum the columns of the tags that project onto the same tag.
        merge = np.zeros((size, size), dtype=np.int64)
        merge[np.arange(size), self._projection[label]] = 1
        counts: Any = self._counts @ merge
        counts = counts[:, counts.sum(axis=0) > 0]
        if counts.shape[1] < 2:
            return None
        import krippendorff

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alpha = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
        return None if math.isnan(alpha) else alpha
