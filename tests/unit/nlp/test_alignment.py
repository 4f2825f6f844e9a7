"""The one aligner (toolkit.nlp.alignment): spans -> IOB2 tags, and the round-trip audit.

A blank English tokenizer has the same rules as en_core_web_sm's for these texts.
"""

from __future__ import annotations

import pytest
import spacy

from toolkit.nlp.alignment import align, tags_to_spans
from toolkit.records import Span

TEXT = "Angela Merkel visited Paris."


@pytest.fixture(scope="module")
def make_doc():
    return spacy.blank("en").make_doc


def test_strict_alignment_and_iob2(make_doc):
    doc = make_doc("Angela Merkel visited New York.\n\nShe left.")
    result = align(doc, [Span(start=0, end=13, label="PERSON"), Span(start=22, end=30, label="GPE")], article_id="t")
    assert [t.text for t in doc if not t.is_space] == [
        "Angela",
        "Merkel",
        "visited",
        "New",
        "York",
        ".",
        "She",
        "left",
        ".",
    ]
    assert result.tags == ["B-PERSON", "I-PERSON", "O", "B-GPE", "I-GPE", "O", "O", "O", "O"]
    assert [(s.start_char, s.end_char, s.label_) for s in result.kept] == [(0, 13, "PERSON"), (22, 30, "GPE")]
    assert (result.spans, result.strict, result.snapped, result.lost) == (2, 2, 0, [])


def test_partial_token_span_expands_and_overlap_is_reported(make_doc):
    spans = [Span(start=1, end=13, label="PERSON"), Span(start=7, end=13, label="ORG")]
    result = align(make_doc(TEXT), spans, article_id="a")
    assert result.tags == ["B-PERSON", "I-PERSON", "O", "O", "O"]
    assert result.snapped == 1
    assert [lost.line() for lost in result.lost] == [
        "article a: ORG 7-13 'Merkel': overlaps PERSON 0-13, which the tags carry",
        "article a: PERSON 1-13 'ngela Merkel': not on token boundaries; the tags carry 0-13 'Angela Merkel' instead",
    ]


def test_fallback_none_loses_a_misaligned_span(make_doc):
    result = align(make_doc(TEXT), [Span(start=1, end=13, label="PERSON")], fallback="none", article_id="a")
    assert result.tags == ["O"] * 5
    assert [lost.reason for lost in result.lost] == ["not on token boundaries (export.alignment_fallback is none)"]


def test_contract_mode_keeps_whole_tokens_only(make_doc):
    result = align(
        make_doc(TEXT), [Span(start=3, end=13, label="PERSON")], mode="contract", fallback="none", article_id="a"
    )
    assert result.tags == ["O", "B-PERSON", "O", "O", "O"]
    assert result.snapped == 1


def test_tags_to_spans_reads_iob2():
    offsets = [(0, 6), (7, 13), (14, 21), (22, 27), (27, 28)]
    assert tags_to_spans(offsets, ["B-PERSON", "I-PERSON", "O", "B-GPE", "O"]) == [(0, 13, "PERSON"), (22, 27, "GPE")]
    assert tags_to_spans(offsets[:2], ["B-PERSON", "B-PERSON"]) == [(0, 6, "PERSON"), (7, 13, "PERSON")]
    assert tags_to_spans(offsets[:2], ["I-ORG", "I-ORG"]) == [(0, 13, "ORG")]


def test_audit_catches_a_span_planted_inside_a_token(make_doc):
    spans = [Span(start=0, end=6, label="PERSON"), Span(start=9, end=12, label="ORG")]
    result = align(make_doc(TEXT), spans, article_id="a", task_id=7)
    assert result.tags == ["B-PERSON", "B-ORG", "O", "O", "O"]
    (lost,) = result.lost
    assert (lost.start, lost.end, lost.label, lost.text, lost.carried) == (9, 12, "ORG", "rke", (7, 13))
    assert (
        lost.line()
        == "article a (task 7): ORG 9-12 'rke': inside the token 'Merkel'; the tags carry 7-13 'Merkel' instead"
    )
