"""The task score: expected wrong decisions in the article, mapped into [0, 1]; lower = more worth annotating."""

from __future__ import annotations

import random

import pytest

from toolkit.nlp.scoring import expected_errors, least_confident, per_token_score, task_score


def test_a_sure_article_scores_one_and_doubt_lowers_it():
    assert task_score([], []) == 1.0
    assert task_score([1.0, 1.0], [0.0]) == 1.0
    # One expected wrong decision is 0.5, three are 0.25.
    assert task_score([0.5, 0.5], []) == 0.5
    assert task_score([0.5], [0.5, 0.5, 0.5, 0.5, 0.5]) == 0.25
    assert expected_errors([0.9, 0.75], [0.3]) == pytest.approx(0.65)
    assert task_score([0.9, 0.75], [0.3]) == round(1 / 1.65, 4)


def test_the_score_counts_doubt_not_length():
    # Sure decisions added to an article (more tokens, more confident spans) leave its score
    # where it was: what lowers it is doubt, wherever it is.
    doubtful_spans, doubtful_rejected = [0.6, 0.55], [0.4]
    assert task_score(doubtful_spans + [1.0] * 40, doubtful_rejected + [0.0] * 40) == task_score(
        doubtful_spans, doubtful_rejected
    )
    # More doubt always ranks an article earlier.
    assert task_score(doubtful_spans + [0.7], doubtful_rejected) < task_score(doubtful_spans, doubtful_rejected)
    # The per-token score kept for comparisons would rank the long article as surer.
    assert per_token_score(doubtful_spans, doubtful_rejected, 1000) > per_token_score(
        doubtful_spans, doubtful_rejected, 50
    )
    # And the first score, the least confident decision, only falls with more decisions.
    rng = random.Random(3)
    short_spans, short_rejected = [rng.uniform(0.6, 1) for _ in range(3)], [rng.uniform(0, 0.3) for _ in range(2)]
    longer = least_confident(short_spans * 20 + [0.55], short_rejected * 20)
    assert longer < least_confident(short_spans, short_rejected)


def test_the_score_is_in_range_stable_and_rounded():
    rng = random.Random(7)
    for _ in range(200):
        spans = [rng.random() for _ in range(rng.randint(0, 30))]
        rejected = [rng.random() for _ in range(rng.randint(0, 30))]
        score = task_score(spans, rejected)
        assert 0.0 <= score <= 1.0
        assert score == task_score(list(spans), list(rejected))
        assert score == round(score, 4)


def test_the_per_token_score_of_an_article_without_tokens_is_not_a_division_by_zero():
    assert per_token_score([0.5], [], 0) == round(1 / (1 + 50), 4)
