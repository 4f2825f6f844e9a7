"""toolkit.metrics.edits: predicted spans paired one to one with human spans, each edit named."""

from __future__ import annotations

from toolkit.metrics.edits import EDIT_KINDS, classify_edits, corrections
from toolkit.records import Span


def test_classify_edits_pairs_one_to_one():
    predicted = [Span(start=0, end=10, label="ORG")]
    human = [Span(start=0, end=4, label="ORG"), Span(start=5, end=10, label="ORG")]
    # A predicted span split in two: one half is its boundary fix, the other was added.
    assert [kind for kind, _, _ in classify_edits(predicted, human)] == ["boundary fixed", "added"]
    # Both the label and the boundary changed: relabelled.
    assert [k for k, _, _ in classify_edits(predicted, [Span(start=2, end=10, label="GPE")])] == ["relabelled"]
    assert {kind for kind, _, _ in classify_edits(predicted, [])} <= set(EDIT_KINDS)


def test_corrections_count_a_moved_boundary_as_one_removed_and_one_added():
    assert corrections([(0, 4, "ORG"), (6, 8, "PER")], [(0, 5, "ORG"), (6, 8, "PER")]) == (1, 1, 1)
