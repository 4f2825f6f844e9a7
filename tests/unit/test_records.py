"""The base records' small helpers (toolkit.records): span keys, IOB2 tag names, scoring fingerprints."""

from __future__ import annotations

import pytest

from toolkit.records import ModelInfo, Scoring, Span, is_scored, scoring_of, span_keys, tag_names


def test_tag_names_follow_config_order():
    assert tag_names(["PERSON", "ORG"]) == ["O", "B-PERSON", "I-PERSON", "B-ORG", "I-ORG"]


def test_span_keys_of_spans_and_of_keys():
    assert span_keys([Span(start=0, end=6, label="PERSON")]) == [(0, 6, "PERSON")]
    assert span_keys([(0, 6, "PERSON")]) == [(0, 6, "PERSON")]


@pytest.mark.parametrize(
    ("scoring", "said", "scored"),
    [
        (Scoring(), "unscored", False),
        (Scoring(beam_width=8), "beam8", True),
        (Scoring(beam_width=2, calibration="ab12cd"), "beam2+cal-ab12cd", True),
    ],
)
def test_a_scoring_fingerprint_names_the_prediction_set(scoring, said, scored):
    assert scoring.describe() == said
    model = ModelInfo(name="en_core_web_md", version="3.8.0", scoring=said)
    # Predictions scored otherwise are another set in Label Studio: the stream compares one kind.
    assert model.model_version == f"en_core_web_md-3.8.0 {said}"
    assert scoring_of(model.model_version) == said
    assert is_scored(scoring_of(model.model_version)) is scored


def test_a_version_without_scoring_is_of_its_own_kind():
    # Written before fingerprints: the version is as it was, and its kind is unknown.
    assert ModelInfo(name="m", version="1").model_version == "m-1"
    assert scoring_of("m-1") is None and is_scored(None) is None
    assert scoring_of("my model 2") is None  # a last word that is no fingerprint
    assert scoring_of(None) is None


def test_a_calibration_id_is_one_word_the_version_reads_back():
    with pytest.raises(ValueError):
        Scoring(beam_width=8, calibration="two words")
