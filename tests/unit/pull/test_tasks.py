"""Exported tasks -> records, ledger entries and counts: policies, span hygiene, predictions, without a server."""

from __future__ import annotations

import json

import pytest

from toolkit.annotations.identities import AnnotatorIds
from toolkit.annotations.spans import MISMATCH, OUTSIDE, TRIMMED
from toolkit.config import parse_config
from toolkit.errors import InputError
from toolkit.pull import PullCounts
from toolkit.pull.tasks import TaskProcessor
from toolkit.records import AnnotatedArticle, LedgerEntry

TEXT = "Angela Merkel visited Paris."
LABELS = ["PERSON", "ORG", "GPE"]
IDS = AnnotatorIds(b"test-secret")


def config(**pull):
    """A config with these labels and pull settings."""
    return parse_config({"project": {"title": "News"}, "labels": LABELS, "pull": pull})


def item(start, end, label, text=None, **extra):
    value = {"start": start, "end": end, "labels": [label] if isinstance(label, str) else label}
    if text is not None:
        value["text"] = text
    return {"type": "labels", "from_name": "label", "to_name": "text", "value": value, **extra}


def annotation(id_, result, updated_at="2025-01-01T00:00:00Z", cancelled=False, user=3, ground_truth=False):
    return {
        "id": id_,
        "result": result,
        "was_cancelled": cancelled,
        "updated_at": updated_at,
        "completed_by": user,
        "ground_truth": ground_truth,
    }


def task(id_, annotations, text=TEXT, drafts=()):
    return {
        "id": id_,
        "data": {"text": text, "article_id": f"art-{id_}", "title": "", "date": "2025-01-01"},
        "annotations": annotations,
        "drafts": list(drafts),
        "predictions": [],
    }


def run(tasks, **pull):
    counts = PullCounts()
    processor = TaskProcessor(config=config(**pull), ids=IDS)
    records: list[AnnotatedArticle] = []
    ledger: list[LedgerEntry] = []
    for one in tasks:
        outcome = processor(one)
        counts.merge(outcome.counts)
        records += outcome.articles  # the written data must be valid records
        ledger += outcome.ledger
    # Every span of every submitted annotation is used, dropped (ledger) or in an annotation not chosen.
    assert counts.spans_in == counts.spans_used + sum(counts.spans_dropped.values()) + counts.spans_not_chosen
    dropped_in_ledger = sum(1 for entry in ledger if entry.kind == "span_dropped")
    assert dropped_in_ledger == sum(counts.spans_dropped.values())
    not_chosen = sum(entry.raw["spans"] for entry in ledger if entry.kind == "annotation_not_chosen")
    assert not_chosen == counts.spans_not_chosen
    return records, ledger, counts


def keys(spans):
    return [(s.start, s.end, s.label) for s in spans]


def test_skips_drafts_empty_answers_and_unannotated_tasks_are_accounted():
    draft = {
        "id": 9,
        "user": "someone@example.com",
        "created_username": "someone@example.com, 7",
        "result": [item(0, 6, "PERSON")],
    }
    tasks = [
        task(
            1, [annotation(1, [item(0, 13, "PERSON"), item(22, 27, "GPE")]), annotation(5, [], cancelled=True, user=4)]
        ),
        task(2, [annotation(2, [], cancelled=True)]),
        task(3, [annotation(3, [])], drafts=[draft]),  # "no entities here" is an answer
        task(4, []),
    ]
    records, ledger, counts = run(tasks)
    assert [r.id for r in records] == ["art-1", "art-3"]
    assert [(s.start, s.end, s.label, s.text) for s in records[0].spans] == [
        (0, 13, "PERSON", "Angela Merkel"),
        (22, 27, "GPE", "Paris"),
    ]
    assert records[0].skipped_by == [IDS(4)] and records[0].drafts == 0
    assert records[1].spans == [] and records[1].drafts == 1 and records[1].chosen == [3]
    assert records[0].annotations[0].annotator == IDS(3) and records[0].chosen == [1]
    assert {(e.kind, e.task_id) for e in ledger} == {
        ("annotation_skipped", 1),
        ("annotation_skipped", 2),
        ("task_only_skipped", 2),
        ("annotation_draft", 3),
        ("task_not_annotated", 4),
    }
    draft_entry = next(e for e in ledger if e.kind == "annotation_draft")
    assert draft_entry.annotator == IDS(7) and "example.com" not in json.dumps(draft_entry.to_json_dict())
    assert (counts.tasks, counts.records, counts.only_skipped, counts.not_annotated) == (4, 2, 1, 1)
    assert (counts.skipped_annotations, counts.drafts, counts.empty_annotations) == (2, 1, 1)


# --- policies --------------------------------------------------------------------

A = annotation(1, [item(0, 13, "PERSON"), item(22, 27, "GPE")], "2025-01-01T00:00:00Z", user=1)
B = annotation(2, [item(0, 13, "ORG")], "2025-01-02T00:00:00Z", user=2)
C = annotation(3, [item(0, 13, "PERSON")], "2025-01-03T00:00:00Z", user=3)


def test_latest_takes_the_newest_and_lists_the_others():
    (record,), ledger, counts = run([task(1, [A, B])], policy="latest")
    assert keys(record.spans) == [(0, 13, "ORG")] and record.chosen == [2] and len(record.annotations) == 2
    assert [(e.kind, e.annotation_id) for e in ledger] == [("annotation_not_chosen", 1)]


def test_ground_truth_wins_else_latest():
    gt = {**A, "ground_truth": True}
    (record,), _, _ = run([task(1, [gt, B])], policy="ground_truth")
    assert record.chosen == [1] and record.policy == "ground_truth"
    (record,), _, _ = run([task(1, [A, B])], policy="ground_truth")
    assert record.chosen == [2]


def test_majority_votes_per_span_and_ties_go_to_the_newest():
    (record,), ledger, counts = run([task(1, [A, B, C])], policy="majority")
    # PERSON 0-13: 2 of 3 -> in; GPE: 1 of 3 -> out; ORG: 1 of 3 -> out.
    assert keys(record.spans) == [(0, 13, "PERSON")] and record.chosen == [1, 2, 3]
    assert record.spans[0].annotation_id == 3  # provenance of the newest annotation that has it
    assert counts.spans_dropped == {"outvoted": 2}
    assert sorted(e.annotation_id for e in ledger if e.kind == "span_dropped") == [1, 2]
    # Two annotators who disagree: every span is a tie, the newest annotation decides.
    (record,), _, _ = run([task(1, [A, B])], policy="majority")
    assert keys(record.spans) == [(0, 13, "ORG")]


def test_all_gives_one_record_per_annotator():
    older_b = annotation(4, [item(22, 27, "GPE")], "2024-12-01T00:00:00Z", user=2)
    records, ledger, _ = run([task(1, [A, B, older_b])], policy="all")
    assert [(r.chosen, keys(r.spans)) for r in records] == [([1], keys(A_spans())), ([2], [(0, 13, "ORG")])]
    assert [r.id for r in records] == ["art-1", "art-1"]
    assert [(e.kind, e.annotation_id) for e in ledger] == [("annotation_not_chosen", 4)]


def A_spans():
    from toolkit.records import Span

    return [Span(start=0, end=13, label="PERSON"), Span(start=22, end=27, label="GPE")]


# --- span hygiene ----------------------------------------------------------------


def test_untrustworthy_spans_are_dropped_with_reasons():
    result = [
        item(0, 13, "PERSON"),
        item(20, 99, "GPE"),
        item(22, 27, "WEAPON"),
        item(13, 14, "ORG"),
        item("a", 3, "ORG"),
        item(0, 13, "PERSON"),
    ]
    (record,), ledger, counts = run([task(1, [annotation(1, result)])])
    assert [s.text for s in record.spans] == ["Angela Merkel"]
    assert counts.spans_dropped == {
        OUTSIDE: 1,
        "label not in the config": 1,
        "covers only whitespace": 1,
        "offsets missing or not integers": 1,
        "duplicate of another span in the same annotation": 1,
    }
    assert all(e.annotation_id == 1 and e.raw for e in ledger)


def test_unknown_label_can_stop_the_pull():
    with pytest.raises(InputError, match="label 'WEAPON' is not in the config"):
        run([task(1, [annotation(1, [item(22, 27, "WEAPON")])])], unknown_labels="fail")


def test_whitespace_is_trimmed_and_counted():
    (record,), ledger, counts = run(
        [task(1, [annotation(1, [item(21, 27, "GPE")])], text=TEXT.replace("Paris.", "Paris ."))]
    )
    assert [(s.start, s.end, s.text) for s in record.spans] == [(22, 27, "Paris")]
    assert counts.spans_repaired == {TRIMMED: 1} and ledger[0].kind == "span_repaired" and ledger[0].raw["start"] == 21


@pytest.mark.parametrize(
    ("policy", "expected", "dropped"),
    [("keep", [(0, 13, "PERSON"), (7, 13, "ORG")], 0), ("longest", [(0, 13, "PERSON")], 1), ("drop", [], 2)],
)
def test_overlap_policy(policy, expected, dropped):
    (record,), _, counts = run([task(1, [annotation(1, [item(0, 13, "PERSON"), item(7, 13, "ORG")])])], overlaps=policy)
    assert keys(record.spans) == expected and counts.overlapping_spans == 2
    assert sum(counts.spans_dropped.values()) == dropped


def test_pull_section_is_validated():
    from toolkit.errors import ConfigError

    with pytest.raises(ConfigError) as error:
        parse_config({"project": {"title": "T"}, "labels": ["PER"], "pull": {"policy": "newest", "colour": 1}})
    assert any(line.startswith("[pull.policy]") for line in error.value.errors)
    assert any(line.startswith("[pull.colour] unknown key") for line in error.value.errors)


def test_odd_export_data_is_an_input_error_or_coerced():
    with pytest.raises(InputError, match="task 1 has an annotation without an integer id"):
        run([task(1, [{**annotation(1, []), "id": None}])])
    odd = task(2, [{**annotation(2, []), "lead_time": "slow"}])
    odd["data"].update(title=2025, date="")
    (record,), _, _ = run([odd])
    assert record.title == "2025" and record.date is None and record.annotations[0].lead_time is None


def test_spans_of_other_controls_are_counted_apart_and_never_anchored():
    from toolkit.labelstudio.results import article_controls

    label_config = (
        '<View><Labels name="ner" toName="body"><Label value="ORG"/></Labels><Text name="body" value="$text"/>'
        '<Labels name="meta" toName="src"><Label value="ORG"/></Labels><Text name="src" value="$source"/></View>'
    )
    controls = article_controls(label_config)
    ours = dict(item(0, 13, "PERSON", "Angela Merkel"), from_name="ner", to_name="body")
    other = dict(item(0, 6, "ORG", "Angela"), from_name="meta", to_name="src")
    processor = TaskProcessor(config=config(), ids=IDS, controls=controls)
    outcome = processor(task(1, [annotation(1, [ours, other])]))
    counts = outcome.counts
    (record,) = outcome.articles
    assert keys(record.spans) == [(0, 13, "PERSON")] and counts.spans_in == 1
    assert counts.other_control_spans == {"meta": 1}
    assert [e.kind for e in outcome.ledger] == ["span_other_control"] and outcome.ledger[0].raw["from_name"] == "meta"


def test_predictions_are_checked_against_an_edited_text():
    import hashlib

    old = "Barack Obama met Angela Merkel."
    new = "Today Donald Trump met Angela Merkel."
    predicted = [item(0, 12, "PERSON", "Barack Obama"), item(17, 30, "PERSON", "Angela Merkel"), item(0, 5, "GPE")]
    one = task(1, [annotation(1, [])], text=new)
    one["data"]["text_sha256"] = hashlib.sha256(old.encode()).hexdigest()
    one["predictions"] = [{"id": 4, "model_version": "m1", "result": predicted}]
    records, ledger, counts = run([one])
    assert [(s.start, s.end, s.text) for s in records[0].predictions[0].spans] == [(23, 36, "Angela Merkel")]
    assert counts.texts_changed == 1 and sum(counts.prediction_spans_repaired.values()) == 1
    assert sorted(counts.prediction_spans_dropped) == sorted(
        [MISMATCH, "the text was edited after the push and the span has no value.text to re-anchor by"]
    )
    assert {e.kind for e in ledger} == {"task_text_changed", "prediction_dropped", "prediction_repaired"}
    # Unchanged text (the hash matches): a span without value.text is kept as it is.
    one["data"]["text"], one["data"]["text_sha256"] = old, hashlib.sha256(old.encode()).hexdigest()
    records, _, counts = run([one])
    assert len(records[0].predictions[0].spans) == 3 and counts.texts_changed == 0


def test_a_near_duplicates_group_comes_along_and_an_article_alone_has_none():
    copy, alone = task(1, [annotation(10, [])]), task(2, [annotation(20, [])])
    copy["data"]["group"] = "art-7"  # push's group: the id of the group's first article
    alone["data"]["group"] = "art-2"  # its own id: an article without copies
    records, _, _ = run([copy, alone])
    assert [(record.id, record.group) for record in records] == [("art-1", "art-7"), ("art-2", None)]
    assert "group" not in records[1].to_json_dict()


def test_a_group_is_read_from_new_and_old_pushes_alike():
    # New pushes: no group for an article alone, the group on every member (first included).
    # Old pushes: the group on every task (its own id when alone) and copy_of on copies.
    new_alone, new_first, new_copy = (task(i, [annotation(10 * i, [])]) for i in (1, 2, 3))
    new_first["data"]["group"] = new_copy["data"]["group"] = "art-2"
    old_alone, old_copy = task(4, [annotation(40, [])]), task(5, [annotation(50, [])])
    old_alone["data"]["group"] = "art-4"
    old_copy["data"].update(group="art-2", copy_of="art-2", model_score=0.3)
    records, _, _ = run([new_alone, new_first, new_copy, old_alone, old_copy])
    # The group's first article keeps None, as before: export splits it by its own id, the group's name.
    groups = [(record.id, record.group) for record in records]
    assert groups == [("art-1", None), ("art-2", None), ("art-3", "art-2"), ("art-4", None), ("art-5", "art-2")]


def test_a_title_push_made_up_is_not_the_articles_title():
    made, own, old = (task(i, [annotation(10 * i, [])]) for i in (1, 2, 3))
    made["data"]["title"], made["meta"] = "2024-03-01-markets", {"title_from": "file name"}
    own["data"]["title"], own["meta"] = "Oil prices rise", {}
    # ``old``: pushed before titles were made up, an empty title and no meta.
    records, _, _ = run([made, own, old])
    assert [record.title for record in records] == [None, "Oil prices rise", None]
