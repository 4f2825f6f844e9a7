"""toolkit.metrics.spans: P/R/F1 from counts that merge, and strict IOB2 entities as seqeval finds them."""

from __future__ import annotations

import random

import pytest

from toolkit.metrics.spans import OVERALL, PRF, MatchCounts, exact_items, strict_entities


def test_scores_are_none_where_they_divide_by_zero():
    assert (PRF(0, 0, 3).precision, PRF(0, 0, 3).recall, PRF(0, 0, 3).f1) == (None, 0, 0)
    assert (PRF(0, 2, 0).precision, PRF(0, 2, 0).recall) == (0, None)
    assert PRF(0, 0, 0).f1 is None
    assert PRF(1, 2, 4).f1 == pytest.approx(2 * (1 / 2) * (1 / 4) / (1 / 2 + 1 / 4))


def test_exact_match_counts_per_label_and_merge():
    first = MatchCounts.of(exact_items([(0, 4, "ORG"), (5, 9, "PER")]), exact_items([(0, 4, "ORG"), (5, 8, "PER")]))
    second = MatchCounts.of(exact_items([(0, 3, "PER")]), exact_items([(0, 3, "PER"), (4, 6, "GPE")]))
    assert first.prf("ORG") == PRF(1, 1, 1)
    assert first.prf("PER") == PRF(0, 1, 1)
    total = first.merge(second)
    assert total.prf("PER") == PRF(1, 2, 2)
    assert total.prf(OVERALL) == PRF(2, 3, 4)
    assert total.labels() == {"ORG", "PER", "GPE"}


def test_strict_entities_are_seqevals_own():
    from seqeval.scheme import IOB2, Entities

    rng = random.Random(7)
    # Malformed sequences too (an I- after O or after another label, B-A I-B, ...).
    for _ in range(3000):
        tags = [
            rng.choice(["O", "O", "O", "B-A", "I-A", "B-B", "I-B", "B-AB", "I-AB"]) for _ in range(rng.randint(0, 40))
        ]
        assert strict_entities(tags, 3) == [((3, e.start, e.end), e.tag) for e in Entities([tags], IOB2).entities[0]]
