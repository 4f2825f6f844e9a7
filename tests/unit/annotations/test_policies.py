"""The annotation policies as plain functions over annotation dicts and spans."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from toolkit.annotations.policies import choose_annotation, majority_vote, newest_per_annotator, select


def annotation(id_, updated_at, user, cancelled=False, ground_truth=False):
    return {
        "id": id_,
        "updated_at": updated_at,
        "completed_by": user,
        "was_cancelled": cancelled,
        "ground_truth": ground_truth,
    }


OLD = annotation(1, "2025-01-01T00:00:00Z", user=1)
NEW = annotation(2, "2025-01-02T00:00:00Z", user=2)
SKIPPED = annotation(3, "2025-01-03T00:00:00Z", user=3, cancelled=True)
OLDER_BY_2 = annotation(4, "2024-12-01T00:00:00Z", user=2)


def ids(annotations):
    return [a["id"] for a in annotations]


def test_newest_submitted_annotation_wins():
    assert choose_annotation([OLD, NEW, SKIPPED])["id"] == 2
    assert choose_annotation([SKIPPED]) is None
    assert choose_annotation([{**OLD, "ground_truth": True}, NEW], "ground_truth")["id"] == 1
    assert choose_annotation([OLD, NEW], "ground_truth")["id"] == 2


def test_latest_lists_the_others_newest_first_with_why():
    selection = select([OLD, OLDER_BY_2, NEW, SKIPPED], "latest")
    assert ids(selection.chosen) == [2]
    assert [(n.annotation["id"], n.why) for n in selection.not_chosen] == [
        (1, "the policy chose the newest annotation (2)"),
        (4, "the policy chose the newest annotation (2)"),
    ]
    gt = select([{**OLD, "ground_truth": True}, NEW], "ground_truth")
    assert ids(gt.chosen) == [1] and gt.not_chosen[0].why == "the policy chose the ground-truth annotation (1)"


def test_each_annotator_counts_once_with_their_newest():
    selection = newest_per_annotator([OLD, OLDER_BY_2, NEW, SKIPPED])
    assert ids(selection.chosen) == [2, 1]  # newest first
    assert [(n.annotation["id"], n.why) for n in selection.not_chosen] == [
        (4, "the same annotator's newer annotation 2 counts")
    ]
    assert ids(select([NEW, OLD, OLDER_BY_2], "all").chosen) == [1, 2]  # by id
    assert ids(select([OLD, NEW], "majority").chosen) == [2, 1]
    # Annotators can be told apart by anything, e.g. the anonymous ids pull writes.
    same_person = newest_per_annotator([OLD, NEW], annotator=lambda a: "one")
    assert ids(same_person.chosen) == [2] and ids(n.annotation for n in same_person.not_chosen) == [1]


def test_an_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown annotation policy 'newest'"):
        select([OLD], "newest")


@dataclass(frozen=True)
class S:
    start: int
    end: int
    label: str
    who: str = ""

    @property
    def key(self):
        return (self.start, self.end, self.label)


def test_majority_vote_over_spans_and_ties_go_to_the_newest_voter():
    newest = [S(0, 5, "PER", "c"), S(10, 15, "ORG", "c")]
    middle = [S(0, 5, "PER", "b")]
    oldest = [S(0, 5, "ORG", "a"), S(10, 15, "ORG", "a")]
    vote = majority_vote([newest, middle, oldest])
    assert [(s.key, s.who) for s in vote.winners] == [((0, 5, "PER"), "c"), ((10, 15, "ORG"), "c")]
    assert vote.votes[(0, 5, "ORG")] == 1 and vote.voters == 3
    tie = majority_vote([[S(0, 5, "ORG", "b")], [S(0, 5, "PER", "a")]])
    assert [s.who for s in tie.winners] == ["b"]
    assert majority_vote([]).winners == []
    # A span twice in one voter's list is one vote.
    twice = majority_vote([[S(0, 5, "PER")], [S(1, 5, "PER"), S(1, 5, "PER")], [S(2, 5, "PER")]])
    assert twice.winners == [] and twice.votes[(1, 5, "PER")] == 1
