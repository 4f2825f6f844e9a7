"""Entity-level precision, recall and F1: by exact character span, and by strict IOB2 entity.

Inputs are items ``(key, label)``, where the key says what must match: a character span
``(start, end, label)`` for exact matching, or ``(sentence, start, end)`` of an entity
found in token tags (``strict_entities``). Counts are values that merge, so the counts of
several articles (or workers) add up.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from toolkit.records import Key
from toolkit.render.format import plural

OVERALL = "overall"

# Scores from fewer articles or gold spans than these come with a warning. Articles: on
# fewer than 20, one article more or less moves F1 by several points (train's validation,
# evaluate's split). Spans: a micro F1 near 0.8 over n spans has a binomial standard error of
# about 0.4/sqrt(n); below 200 spans its 95% interval is wider than +/-5.5 points, more than
# most differences between two models worth telling apart.
FEW_ARTICLES = 20
FEW_SPANS = 200


def few_articles_note(articles: int, spans: int, what: str) -> str | None:
    """A warning when ``what`` (e.g. "the validation F1") rests on fewer than ``FEW_ARTICLES``
    articles or ``FEW_SPANS`` spans."""
    if articles >= FEW_ARTICLES and spans >= FEW_SPANS:
        return None
    return (
        f"{what} rests on only {plural(articles, 'article')} ({plural(spans, 'span')}): below "
        f"{FEW_ARTICLES} articles or {FEW_SPANS} spans it is a rough figure, not a measurement to compare models by"
    )


# What is compared, and its label.
Item = tuple[Hashable, str]


@dataclass(frozen=True)
class PRF:
    """Precision, recall and F1 from counts; each is None where it divides by zero.

    ``precision`` is None when nothing was predicted, ``recall`` when there is no gold
    item, ``f1`` (= 2 tp / (predicted + gold)) when both are empty.
    """

    true_positives: int
    predicted: int
    gold: int

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.gold if self.gold else None

    @property
    def f1(self) -> float | None:
        total = self.predicted + self.gold
        return 2 * self.true_positives / total if total else None


@dataclass
class MatchCounts:
    """Per label: predicted items, gold items and the items both hold (true positives)."""

    true_positives: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    gold: Counter[str] = field(default_factory=Counter)

    @classmethod
    def of(cls, predicted: Iterable[Item], gold: Iterable[Item]) -> MatchCounts:
        """The counts of one comparison (an item given twice counts once)."""
        return cls().add(predicted, gold)

    def add(self, predicted: Iterable[Item], gold: Iterable[Item]) -> MatchCounts:
        """Add the counts of one comparison to these, in place (no counts object per
        article: a report adds one per article); returns self."""
        predicted, gold = set(predicted), set(gold)
        for counts, items in ((self.true_positives, predicted & gold), (self.predicted, predicted), (self.gold, gold)):
            for _, label in items:
                counts[label] += 1
        return self

    def merge(self, other: MatchCounts) -> MatchCounts:
        """Add ``other``'s counts to these; returns self."""
        self.true_positives.update(other.true_positives)
        self.predicted.update(other.predicted)
        self.gold.update(other.gold)
        return self

    def labels(self) -> set[str]:
        """The labels predicted or gold at least once."""
        return {label for label, count in (self.predicted + self.gold).items() if count}

    def prf(self, label: str = OVERALL) -> PRF:
        """The scores of one label, or micro-averaged over all labels (``OVERALL``)."""
        if label == OVERALL:
            return PRF(sum(self.true_positives.values()), sum(self.predicted.values()), sum(self.gold.values()))
        return PRF(self.true_positives[label], self.predicted[label], self.gold[label])


def exact_items(spans: Iterable[Key]) -> list[Item]:
    """Character spans as items: they match when start, end and label are the same."""
    return [(key, key[2]) for key in spans]


def strict_entities(tags: list[str], sentence: int = 0) -> list[tuple[tuple[int, int, int], str]]:
    """The entities seqeval finds in strict IOB2 mode, as ``((sentence, start, end), label)``.

    In strict IOB2 an entity is a ``B-X`` and the ``I-X`` right after it; any other ``I``
    starts nothing. Found here in one pass: seqeval builds several objects per token,
    which was half the report's time on a large pull. The tests check the result
    against seqeval's own ``Entities`` on random, also malformed, tag sequences.
    """
    found = []
    position, count = 0, len(tags)
    while position < count:
        tag = tags[position]
        if tag.startswith("B-"):
            label, inside, end = tag[2:], "I-" + tag[2:], position + 1
            while end < count and tags[end] == inside:
                end += 1
            found.append(((sentence, position, end), label))
            position = end
        else:
            position += 1
    return found
