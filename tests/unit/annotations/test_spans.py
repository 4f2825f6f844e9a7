"""Span hygiene: offsets checked against the text, repaired only when one reading fits."""

from __future__ import annotations

from toolkit.annotations.spans import (
    AMBIGUOUS,
    CRLF,
    MISMATCH,
    NOT_INTEGERS,
    OVERLAP_LONGER,
    TRIMMED,
    UTF16,
    WHITESPACE,
    check_offsets,
    clean_annotation,
    clean_spans,
    lf_to_crlf_index,
    utf16_to_code_points,
)
from toolkit.config import parse_config

LABELS = ["PERSON", "ORG", "GPE"]


def item(start, end, label, text=None):
    """A labelled span as ``toolkit.labelstudio.results.read_result`` reads it from a result item."""
    return (start, end, [label] if isinstance(label, str) else label, text, None)


def keys(spans):
    return [(s.start, s.end, s.label) for s in spans]


EMOJI = "🚀 Rocket Lab 🇳🇿 launched from Mahia with 😀 NASA."


def test_code_point_offsets_around_emoji_are_kept():
    start = EMOJI.index("Mahia")
    clean = clean_spans([item(start, start + 5, "GPE", "Mahia")], EMOJI, labels=LABELS)
    assert keys(clean.spans) == [(start, start + 5, "GPE")] and not clean.repaired


def test_utf16_offsets_are_converted():
    start = EMOJI.index("Mahia")
    units = len(EMOJI[:start].encode("utf-16-le")) // 2  # what a browser counts
    assert units == start + 3  # three characters outside the BMP before it
    clean = clean_spans([item(units, units + 5, "GPE", "Mahia")], EMOJI, labels=LABELS)
    assert keys(clean.spans) == [(start, start + 5, "GPE")] and [r.reason for r in clean.repaired] == [UTF16]
    assert utf16_to_code_points("a😀b", 3) == 2 and utf16_to_code_points("a😀b", 2) is None


def test_span_with_emoji_inside():
    text = "Fans of Team 🚀 Alpha cheered."
    start, end = text.index("Team"), text.index(" cheered")
    clean = clean_spans([item(start, end, "ORG", "Team 🚀 Alpha")], text, labels=LABELS)
    assert [s.text for s in clean.spans] == ["Team 🚀 Alpha"]


CRLF_TEXT = "First line.\r\nSecond line names Paris.\r\nThird: Berlin."


def test_crlf_offsets_counted_as_one_character_are_repaired():
    start = CRLF_TEXT.index("Berlin")
    lf_start = CRLF_TEXT.replace("\r\n", "\n").index("Berlin")
    assert lf_to_crlf_index(CRLF_TEXT, lf_start) == start
    clean = clean_spans([item(lf_start, lf_start + 6, "GPE", "Berlin")], CRLF_TEXT, labels=LABELS)
    assert keys(clean.spans) == [(start, start + 6, "GPE")] and [r.reason for r in clean.repaired] == [CRLF]


def test_nearby_reanchoring_only_when_unambiguous():
    text = "Paris and Lyon. Later Paris again, and Paris."
    clean = clean_spans([item(10, 14, "GPE", "Lyon")], text, labels=LABELS)
    assert keys(clean.spans) == [(10, 14, "GPE")] and not clean.repaired
    shifted = clean_spans([item(12, 16, "GPE", "Lyon")], text, labels=LABELS)
    assert keys(shifted.spans) == [(10, 14, "GPE")] and shifted.repaired[0].reason.startswith("re-anchored")
    ambiguous = clean_spans([item(23, 28, "GPE", "Paris")], text, labels=LABELS)
    assert not ambiguous.spans and ambiguous.dropped[0].reason == AMBIGUOUS
    missing = clean_spans([item(0, 5, "GPE", "Rome")], text, labels=LABELS)
    assert missing.dropped[0].reason == MISMATCH


def test_one_offset_check_for_human_and_model_spans():
    text = "Angela Merkel visited  Paris ."
    assert check_offsets(text, 0, 13, "Angela Merkel", 40) == (0, 13, [])
    assert check_offsets(text, 21, 29, None, 40) == (23, 28, [TRIMMED])
    assert check_offsets(text, 21, 23, None, 40) == WHITESPACE
    assert (
        check_offsets(text, True, 13, None, 40) == NOT_INTEGERS
        and check_offsets(text, "0", 13, None, 40) == NOT_INTEGERS
    )
    assert check_offsets(text, 0, 6, "Rome", 40) == MISMATCH


def test_an_annotation_is_cleaned_as_the_config_says():
    # The one call pull, the adjudicators' decisions and adjudicate make: the config's
    # labels, pull.overlaps and pull.reanchor_window.
    text = "Paris and Lyon, later Nice."
    narrow = parse_config(
        {"project": {"title": "T"}, "labels": LABELS, "pull": {"overlaps": "longest", "reanchor_window": 0}}
    )
    overlapping = [item(0, 5, "GPE", "Paris"), item(0, 14, "ORG", "Paris and Lyon"), item(0, 5, "LOC", "Paris")]
    clean = clean_annotation(overlapping, text, narrow, provenance={"annotation_id": 7, "annotator": "a1"})
    assert keys(clean.spans) == [(0, 14, "ORG")] and clean.spans[0].annotation_id == 7
    assert sorted(d.reason for d in clean.dropped) == ["label not in the config", OVERLAP_LONGER]
    assert clean_annotation([item(12, 16, "GPE", "Lyon")], text, narrow).dropped[0].reason == MISMATCH
    wide = parse_config({"project": {"title": "T"}, "labels": LABELS})
    assert keys(clean_annotation([item(12, 16, "GPE", "Lyon")], text, wide).spans) == [(10, 14, "GPE")]
