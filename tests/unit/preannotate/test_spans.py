"""A doc -> project spans: labels mapped, whitespace and punctuation trimmed, counts as values."""

from __future__ import annotations

from collections import Counter

import pytest
from spacy.tokens import Span as SpacySpan

from toolkit.nlp.scoring import SCORES_KEY
from toolkit.preannotate.spans import SpanCounts, count_words, scored_doc_spans


@pytest.fixture(scope="module")
def nlp(blank_pipeline):
    return blank_pipeline.nlp


def test_surrounding_space_and_punctuation_tokens_are_trimmed(config, nlp):
    # In the seed article the model predicts FAC "the Great Hall of the People, Beijing\n\n".
    doc = nlp.make_doc("He met Xi at the Great Hall of the People, Beijing\n\n, then left.")
    hall = next(t.i for t in doc if t.text == "the")
    newline = next(t.i for t in doc if t.is_space)
    doc.ents = [SpacySpan(doc, hall, newline + 1, label="FAC"), SpacySpan(doc, newline + 1, newline + 2, label="ORG")]
    spans, score, counts = scored_doc_spans(doc, config)
    assert [(s.text, s.label) for s in spans] == [("the Great Hall of the People, Beijing", "LOC")]
    assert score is None  # no beam ran
    assert counts == SpanCounts(kept=1, trimmed=1, dropped_empty=1)


def test_labels_outside_the_config_are_dropped_and_counted(config, nlp):
    doc = nlp.make_doc("Merkel came on Friday and Monday.")
    doc.ents = [
        SpacySpan(doc, 0, 1, label="PERSON"),
        SpacySpan(doc, 3, 4, label="DATE"),
        SpacySpan(doc, 5, 6, label="DATE"),
    ]
    spans, _, counts = scored_doc_spans(doc, config)
    assert [(s.start, s.end, s.label, s.text) for s in spans] == [(0, 6, "PERSON", "Merkel")]
    assert counts.dropped_by_label == Counter({"DATE": 2})


def test_scores_from_the_beam_candidates(config, nlp):
    doc = nlp.make_doc("Merkel met Macron in Paris .")
    doc.ents = [SpacySpan(doc, 0, 1, label="PERSON"), SpacySpan(doc, 4, 5, label="GPE")]
    doc.user_data[SCORES_KEY] = [
        [0, 1, "PERSON", 0.9, True],
        [4, 5, "GPE", 0.5, True],
        [4, 6, "GPE", 0.25, False],  # trims to Paris: adds up with it
        [2, 3, "PERSON", 0.3, False],  # left out by the best parse
        [2, 3, "DATE", 0.9, False],  # not a project label: no decision of ours
    ]
    spans, score, counts = scored_doc_spans(doc, config)
    assert [(s.text, s.score) for s in spans] == [("Merkel", 0.9), ("Paris", 0.75)]
    # Expected wrong decisions: 0.1 (Merkel) + 0.25 (Paris) + 0.3 (Macron, left out) = 0.65.
    assert score == round(1 / (1 + 0.65), 4)
    assert counts.pattern_spans == 0


def test_span_counts_merge():
    total = SpanCounts(kept=2, dropped_by_label=Counter({"DATE": 1}))
    assert total.merge(SpanCounts(kept=1, trimmed=1, dropped_by_label=Counter({"DATE": 2, "CARDINAL": 1}))) is total
    assert total == SpanCounts(kept=3, trimmed=1, dropped_by_label=Counter({"DATE": 3, "CARDINAL": 1}))


def test_words_are_the_tokens_that_are_not_whitespace(nlp):
    assert count_words(nlp.make_doc("Two  words\n\n")) == 2
    assert count_words(nlp.make_doc("")) == 0
