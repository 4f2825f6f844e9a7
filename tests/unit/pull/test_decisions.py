"""Pull takes the decision: agreed, adjudicated (whatever the policy), pending, and a decision on an old text."""

from __future__ import annotations

import json

import pytest

from toolkit.annotations.disagreement import versions_fingerprint
from toolkit.annotations.spans import PulledSpan
from toolkit.labelstudio.labeling import text_sha256
from toolkit.pull import PullCounts
from toolkit.pull.decisions import Adjudication, OtherDecision
from toolkit.pull.tasks import TaskProcessor
from toolkit.records import AnnotatedArticle, Span

from .test_tasks import IDS, TEXT, annotation, config, item, task

MERKEL, PARIS = item(0, 13, "PERSON", "Angela Merkel"), item(22, 27, "GPE", "Paris")


def run(one, adjudications=None, **pull):
    processor = TaskProcessor(config=config(**pull), ids=IDS, adjudications=adjudications)
    outcome = processor(one)
    counts = PullCounts().merge(outcome.counts)
    assert counts.spans_in == counts.spans_used + sum(counts.spans_dropped.values()) + counts.spans_not_chosen
    return outcome.articles, outcome.ledger, counts


def disputed_task():
    return task(
        1,
        [
            annotation(10, [MERKEL, PARIS], updated_at="2025-01-02T00:00:00Z", user=3),
            annotation(11, [MERKEL], updated_at="2025-01-01T00:00:00Z", user=4),
        ],
    )


def decision(spans, *, text=TEXT, versions=None, by=7):
    return Adjudication(
        review_task_id=99,
        text_sha256=text_sha256(text),
        versions=versions,
        resolves=[10, 11],
        annotators=[IDS(3), IDS(4)],
        annotation_id=500,
        by=IDS(by),
        spans=[PulledSpan(s.start, s.end, s.label, TEXT[s.start : s.end], "adjudication", 500, IDS(by)) for s in spans],
    )


def test_agreed_articles_carry_agreed():
    one = task(1, [annotation(10, [MERKEL], user=3), annotation(11, [MERKEL], user=4)])
    (record,), _, counts = run(one)
    assert record.decision.status == "agreed"
    assert record.decision.resolved == [10, 11] and set(record.decision.annotators) == {IDS(3), IDS(4)}
    assert counts.agreed == 1


def test_one_annotator_has_no_decision():
    (record,), _, _ = run(task(1, [annotation(10, [MERKEL])]))
    assert record.decision is None


def test_a_dispute_without_review_task_is_disputed_and_the_policy_decides():
    (record,), _, counts = run(disputed_task(), adjudications={})
    assert (record.decision.status, counts.disputed) == ("disputed", 1)
    assert len(record.spans) == 2  # latest: annotator 3's


def test_a_review_task_not_submitted_is_pending():
    pending = Adjudication(review_task_id=99, text_sha256=text_sha256(TEXT), versions=None)
    (record,), _, _ = run(disputed_task(), adjudications={1: pending})
    assert (record.decision.status, record.decision.review_task_id) == ("pending", 99)


@pytest.mark.parametrize("policy", ["latest", "majority", "all"])
def test_the_adjudication_is_the_answer_whatever_the_policy(policy):
    spans = [Span(start=0, end=13, label="PERSON")]
    versions = versions_fingerprint(
        {IDS(3): [Span(start=0, end=13, label="PERSON"), Span(start=22, end=27, label="GPE")], IDS(4): spans}
    )
    (record,), ledger, counts = run(
        disputed_task(), adjudications={1: decision(spans, versions=versions)}, policy=policy
    )
    assert isinstance(record, AnnotatedArticle)
    assert [(s.start, s.end, s.label, s.annotator, s.origin) for s in record.spans] == [
        (0, 13, "PERSON", IDS(7), "adjudication")
    ]
    d = record.decision
    assert (d.status, d.by, d.review_task_id, d.annotation_id, d.resolved, d.stale) == (
        "adjudicated",
        IDS(7),
        99,
        500,
        [10, 11],
        False,
    )
    assert sorted(record.chosen) == [10, 11]
    overruled = [entry for entry in ledger if entry.kind == "span_overruled"]
    assert [(e.annotation_id, e.annotator, e.span.key) for e in overruled] == [(10, IDS(3), (22, 27, "GPE"))]
    assert counts.adjudicated == 1 and counts.spans_dropped["overruled by the adjudication"] == 1


def test_a_decision_on_versions_since_changed_is_marked_stale():
    (record,), _, _ = run(disputed_task(), adjudications={1: decision([], versions="older")})
    assert record.decision.stale and record.spans == []


def test_a_decision_on_another_text_is_not_taken():
    adjudication = decision([Span(start=0, end=6, label="PERSON")], text="Another text.")
    (record,), ledger, counts = run(disputed_task(), adjudications={1: adjudication})
    assert record.decision.status == "pending"
    assert len(record.spans) == 2  # the policy's
    assert [entry.kind for entry in ledger if entry.kind.startswith("adjudication")] == ["adjudication_text_changed"]
    assert counts.adjudications_text_changed == 1


# --- issue 27: a decision stands whatever the annotators do afterwards --------------------

LOC_PARIS = Span(start=22, end=27, label="LOC")


def keys(spans):
    return [(s.start, s.end, s.label) for s in spans]


def _decided_on_the_dispute():
    """The adjudicator took LOC for Paris over annotator 3's GPE and annotator 4's nothing."""
    versions = versions_fingerprint(
        {IDS(3): [Span(start=0, end=13, label="PERSON"), Span(start=22, end=27, label="GPE")], IDS(4): []}
    )
    return decision([Span(start=0, end=13, label="PERSON"), LOC_PARIS], versions=versions)


def test_a_decision_stands_when_the_annotators_agree_afterwards():
    # Annotator 4 changed their answer to annotator 3's: both agree on GPE now.
    agreed_now = task(
        1,
        [
            annotation(10, [MERKEL, PARIS], updated_at="2025-01-02T00:00:00Z", user=3),
            annotation(11, [MERKEL, PARIS], updated_at="2025-01-03T00:00:00Z", user=4),
        ],
    )
    (record,), ledger, counts = run(agreed_now, adjudications={1: _decided_on_the_dispute()})
    assert (record.decision.status, record.decision.stale, record.decision.by) == ("adjudicated", True, IDS(7))
    assert keys(record.spans) == [(0, 13, "PERSON"), (22, 27, "LOC")]
    overruled = sorted((e.annotation_id, e.span.label) for e in ledger if e.kind == "span_overruled")
    assert overruled == [(10, "GPE"), (11, "GPE")]
    assert (counts.adjudicated, counts.agreed, counts.changed_after_adjudication) == (1, 0, ["art-1"])
    assert any("changed by an annotator after adjudication" in line for line in counts.problems)


def test_a_decision_stands_when_an_annotator_deletes_their_annotation():
    one_left = task(1, [annotation(10, [MERKEL, PARIS], user=3)])
    (record,), ledger, counts = run(one_left, adjudications={1: _decided_on_the_dispute()})
    assert (record.decision.status, record.decision.stale, record.decision.resolved) == ("adjudicated", True, [10, 11])
    assert keys(record.spans) == [(0, 13, "PERSON"), (22, 27, "LOC")]
    assert [(e.kind, e.span.label) for e in ledger if e.kind == "span_overruled"] == [("span_overruled", "GPE")]
    assert counts.changed_after_adjudication == ["art-1"]


def test_a_decision_on_a_task_with_no_annotation_left_is_in_the_ledger():
    none_left = task(1, [annotation(10, [MERKEL], user=3, cancelled=True)])
    records, ledger, counts = run(none_left, adjudications={1: _decided_on_the_dispute()})
    assert records == []
    (entry,) = [e for e in ledger if e.kind == "adjudication_no_annotations"]
    assert (entry.annotation_id, entry.annotator, entry.raw) == (500, IDS(7), {"review_task_id": 99, "spans": 2})
    assert counts.adjudications_without_annotations == 1


def test_every_review_decision_but_the_newest_is_in_the_ledger():
    newest = _decided_on_the_dispute()
    two = Adjudication(**{**newest.__dict__, "not_chosen": [OtherDecision(annotation_id=499, by=IDS(8), spans=1)]})
    (record,), ledger, counts = run(disputed_task(), adjudications={1: two})
    assert (record.decision.annotation_id, record.decision.by) == (500, IDS(7))
    (entry,) = [e for e in ledger if e.kind == "adjudication_not_chosen"]
    assert (entry.annotation_id, entry.annotator, entry.raw) == (499, IDS(8), {"review_task_id": 99, "spans": 1})
    assert counts.adjudications_not_chosen == 1


def test_an_adjudication_round_trips_through_the_manifest():
    newest = _decided_on_the_dispute()
    two = Adjudication(**{**newest.__dict__, "not_chosen": [OtherDecision(annotation_id=499, by=IDS(8), spans=1)]})
    assert Adjudication.from_dict(json.loads(json.dumps(two.as_dict()))) == two


def test_a_decision_whose_versions_another_secret_named_is_taken_never_stale():
    """``read_adjudications`` clears the fingerprint and ids of a review task made with another
    annotator secret: the decision is taken, not stale, with this pull's ids (issue 27, item 5)."""
    other = Adjudication(
        **{**decision([Span(start=0, end=13, label="PERSON")]).__dict__, "versions": None, "annotators": []}
    )
    (record,), _, _ = run(disputed_task(), adjudications={1: other})
    assert record.decision.status == "adjudicated" and not record.decision.stale
    assert sorted(record.decision.annotators) == sorted([IDS(3), IDS(4)])
