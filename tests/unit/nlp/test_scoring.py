"""The task score: expected wrong decisions per 100 tokens, mapped into [0, 1]; lower = more worth annotating."""

from __future__ import annotations

import random

import pytest

from toolkit.nlp.scoring import expected_errors, least_confident, task_score


def test_a_sure_article_scores_one_and_doubt_lowers_it():
    assert task_score([], [], 50) == 1.0
    assert task_score([1.0, 1.0], [0.0], 50) == 1.0
    # One expected wrong decision per 100 tokens is 0.5, three are 0.25.
    assert task_score([0.5, 0.5], [], 100) == 0.5
    assert task_score([0.5], [0.5, 0.5, 0.5, 0.5, 0.5], 100) == 0.25
    assert expected_errors([0.9, 0.75], [0.3]) == pytest.approx(0.65)


def test_the_score_does_not_fall_with_length_at_the_same_density_of_doubt():
    rng = random.Random(3)
    # The same mix of decisions per token, in a short and in a twenty times longer article.
    short_spans, short_rejected = [rng.uniform(0.6, 1) for _ in range(3)], [rng.uniform(0, 0.3) for _ in range(2)]
    long_spans, long_rejected = short_spans * 20, short_rejected * 20
    assert task_score(long_spans, long_rejected, 1000) == task_score(short_spans, short_rejected, 50)
    # The old least-confident score cannot tell them apart from their worst decision alone,
    # and with more decisions it only falls.
    assert least_confident(long_spans + [0.55], long_rejected) < least_confident(short_spans, short_rejected)


def test_the_score_is_in_range_stable_and_rounded():
    rng = random.Random(7)
    for _ in range(200):
        spans = [rng.random() for _ in range(rng.randint(0, 30))]
        rejected = [rng.random() for _ in range(rng.randint(0, 30))]
        tokens = rng.randint(0, 2000)
        score = task_score(spans, rejected, tokens)
        assert 0.0 <= score <= 1.0
        assert score == task_score(list(spans), list(rejected), tokens)
        assert score == round(score, 4)


def test_an_article_without_tokens_is_not_a_division_by_zero():
    assert task_score([0.5], [], 0) == round(1 / (1 + 50), 4)
