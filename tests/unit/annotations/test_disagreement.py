from __future__ import annotations

from toolkit.annotations.disagreement import BOUNDARY, LABEL, MISSING, compare, prefill, versions_fingerprint
from toolkit.records import Span


def s(start: int, end: int, label: str) -> Span:
    return Span(start=start, end=end, label=label)


def test_one_annotator_is_not_a_disagreement():
    assert compare({"ann-a": [s(0, 3, "PER")]}).status == "single"


def test_the_same_spans_agree_in_any_order():
    comparison = compare({"ann-a": [s(0, 3, "PER"), s(5, 9, "ORG")], "ann-b": [s(5, 9, "ORG"), s(0, 3, "PER")]})
    assert comparison.status == "agreed"
    assert [span.key for span in comparison.agreed] == [(0, 3, "PER"), (5, 9, "ORG")]
    assert not comparison.disputed and not comparison.kinds


def test_two_empty_answers_agree():
    assert compare({"ann-a": [], "ann-b": []}).status == "agreed"


def test_kinds_boundary_label_missing():
    base = [s(0, 3, "PER")]
    boundary = compare({"ann-a": [*base, s(10, 15, "ORG")], "ann-b": [*base, s(10, 19, "ORG")]})
    label = compare({"ann-a": [*base, s(10, 15, "ORG")], "ann-b": [*base, s(10, 15, "LOC")]})
    missing = compare({"ann-a": [*base, s(10, 15, "ORG")], "ann-b": base})
    assert (boundary.status, dict(boundary.kinds)) == ("disputed", {BOUNDARY: 1})
    assert dict(label.kinds) == {LABEL: 1}
    assert dict(missing.kinds) == {MISSING: 1}
    # The agreed span stays agreed; each disputed span says who has it and its kind.
    assert [span.key for span in boundary.agreed] == [(0, 3, "PER")]
    assert [(d.key, d.annotators, d.kinds) for d in boundary.disputed] == [
        ((10, 15, "ORG"), ("ann-a",), (BOUNDARY,)),
        ((10, 19, "ORG"), ("ann-b",), (BOUNDARY,)),
    ]
    assert [(d.key, d.annotators) for d in missing.disputed] == [((10, 15, "ORG"), ("ann-a",))]


def test_no_entities_against_spans_is_a_disagreement():
    comparison = compare({"ann-a": [], "ann-b": [s(0, 3, "PER")]})
    assert comparison.status == "disputed"
    assert comparison.empty_vs_spans
    assert dict(comparison.kinds) == {MISSING: 1}


def test_other_offsets_and_label_is_a_label_disagreement():
    comparison = compare({"ann-a": [s(0, 5, "ORG")], "ann-b": [s(0, 9, "LOC")]})
    assert dict(comparison.kinds) == {LABEL: 1}


def test_three_annotators_pairwise():
    comparison = compare({"a": [s(0, 3, "PER")], "b": [s(0, 3, "PER")], "c": [s(0, 3, "ORG")]})
    assert comparison.status == "disputed"
    assert comparison.kinds[LABEL] == 2  # c against a, c against b
    assert [(d.key, d.annotators) for d in comparison.disputed] == [
        ((0, 3, "ORG"), ("c",)),
        ((0, 3, "PER"), ("a", "b")),
    ]


def test_prefill_agreed_or_majority():
    versions = {"a": [s(0, 3, "PER"), s(5, 9, "ORG")], "b": [s(0, 3, "PER")], "c": [s(0, 3, "PER"), s(5, 9, "ORG")]}
    assert [span.key for span in prefill(versions, "agreed")] == [(0, 3, "PER")]
    assert [span.key for span in prefill(versions, "majority")] == [(0, 3, "PER"), (5, 9, "ORG")]


def test_fingerprint_changes_with_any_span_and_not_with_order():
    one = versions_fingerprint({"a": [s(0, 3, "PER"), s(5, 9, "ORG")], "b": []})
    assert one == versions_fingerprint({"b": [], "a": [s(5, 9, "ORG"), s(0, 3, "PER")]})
    assert one != versions_fingerprint({"a": [s(0, 3, "PER")], "b": []})
