"""The base records' small helpers (toolkit.records): span keys and IOB2 tag names."""

from __future__ import annotations

from toolkit.records import Span, span_keys, tag_names


def test_tag_names_follow_config_order():
    assert tag_names(["PERSON", "ORG"]) == ["O", "B-PERSON", "I-PERSON", "B-ORG", "I-ORG"]


def test_span_keys_of_spans_and_of_keys():
    assert span_keys([Span(start=0, end=6, label="PERSON")]) == [(0, 6, "PERSON")]
    assert span_keys([(0, 6, "PERSON")]) == [(0, 6, "PERSON")]
