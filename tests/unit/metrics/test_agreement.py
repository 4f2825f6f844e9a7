"""toolkit.metrics.agreement on tags and spans given by hand, and against scikit-learn."""

from __future__ import annotations

import pytest

from toolkit.metrics.agreement import SpanAgreement, TokenAgreement
from toolkit.metrics.spans import OVERALL


def test_pairwise_span_f1_counts_only_the_pairs_labels_and_merges():
    task = SpanAgreement.of_task({"x": [(0, 4, "PER"), (6, 9, "GPE")], "y": [(0, 4, "PER")], "z": []})
    # Pairs (x,y): 2*1 / (2+1); (x,z): 0 / 2; (y,z): 0 / 1.
    assert task.f1(OVERALL) == pytest.approx(2 / 6)
    assert task.f1("GPE") == 0
    assert task.f1("ORG") is None
    other = SpanAgreement.of_task({"x": [(1, 2, "ORG")], "y": [(1, 2, "ORG")]})
    merged = task.merge(other)
    assert merged.f1(OVERALL) == pytest.approx((2 + 2) / (6 + 2))
    assert merged.f1("ORG") == 1


def test_kappa_matches_scikit_learn_and_alpha_is_none_on_one_tag():
    from sklearn.metrics import cohen_kappa_score

    first = ["B-PER", "I-PER", "O", "B-GPE", "O", "O"]
    second = ["B-PER", "O", "O", "B-GPE", "B-PER", "O"]
    agreement = TokenAgreement(["PER", "GPE"], [{"a": first, "b": second}])
    assert agreement.tokens == 6
    assert agreement.cohen_kappa() == pytest.approx(cohen_kappa_score(first, second))
    nothing = TokenAgreement(["PER"], [{"a": ["O", "O"], "b": ["O", "O"]}])
    assert (nothing.cohen_kappa(), nothing.krippendorff_alpha()) == (None, None)


def test_alpha_by_hand_with_a_coder_missing():
    # Unit 1: (B-PER, B-PER, O); unit 2: (O, O); values B-PER 2, O 3, n = 5.
    # Disagreeing ordered pairs in unit 1 weigh 1/(3-1): 4 * 1/2 = 2.
    agreement = TokenAgreement(["PER"], [{"a": ["B-PER"], "b": ["B-PER"], "c": ["O"]}, {"a": ["O"], "b": ["O"]}])
    n = 5
    assert agreement.krippendorff_alpha() == pytest.approx(1 - (n - 1) * 2 / (n * n - (2 * 2 + 3 * 3)))
