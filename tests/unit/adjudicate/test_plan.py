"""Adjudicate without a server: versions read as pull reads them, the plan of what to send, refresh, report."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from toolkit.adjudicate.adjudication import AdjudicateResult, ReviewTask, Settled, _article, _payload, _plan
from toolkit.annotations.identities import AnnotatorIds
from toolkit.config import parse_config
from toolkit.errors import ProjectError
from toolkit.labelstudio.labeling import config_labels, labeling_config, text_sha256
from toolkit.labelstudio.results import ArticleControls
from toolkit.labelstudio.review import PREFILL_VERSION, check_labels, review_labeling_config, review_title

TEXT = "Angela Merkel visited Paris."
CONFIG = parse_config({"project": {"title": "News"}, "labels": ["PERSON", "GPE", "LOC"]})
IDS = AnnotatorIds(b"secret")
LIST = "<b>Disputed (1)</b>..."  # the list a review task shows (a plain-text box: made by an older toolkit)


def item(start, end, label):
    return {
        "type": "labels",
        "from_name": "label",
        "to_name": "text",
        "value": {"start": start, "end": end, "labels": [label], "text": TEXT[start:end]},
    }


def task(task_id, *answers, article_id=None):
    annotations = [
        {"id": task_id * 10 + n, "completed_by": user, "result": result, "updated_at": f"2025-01-0{n + 1}"}
        for n, (user, result) in enumerate(answers)
    ]
    return {
        "id": task_id,
        "data": {"text": TEXT, "article_id": article_id or f"a{task_id}"},
        "annotations": annotations,
    }


def read(one):
    return _article(one, CONFIG, IDS, ArticleControls())


def test_versions_are_each_annotators_newest_answer():
    one = task(1, (1, [item(0, 6, "PERSON")]), (2, [item(0, 13, "PERSON")]), (1, [item(0, 13, "PERSON")]))
    article = read(one)
    assert article.comparison.status == "agreed"  # annotator 1's newer answer agrees with annotator 2
    assert [v.annotation_id for v in article.versions] == [12, 11]


def test_skipped_and_single_and_hygiene():
    skipped = task(1, (1, [item(0, 13, "PERSON")]), (2, []))
    skipped["annotations"][1]["was_cancelled"] = True
    assert read(skipped).comparison.status == "single"
    assert read(task(2)) is None  # nobody submitted
    # A trailing space in one version is trimmed as pull trims it: no dispute from it.
    padded = task(3, (1, [item(0, 14, "PERSON")]), (2, [item(0, 13, "PERSON")]))
    assert read(padded).comparison.status == "agreed"


def disputed(task_id=1, article_id=None):
    return read(
        task(
            task_id,
            (1, [item(0, 13, "PERSON"), item(22, 27, "GPE")]),
            (2, [item(0, 13, "PERSON")]),
            article_id=article_id,
        )
    )


def test_plan_new_refresh_reported():
    new, same, changed, decided_changed, moved = (disputed(n, f"a{n}") for n in range(1, 6))
    existing = {  # by main task id
        2: ReviewTask(20, {"text_sha256": text_sha256(TEXT), "versions": same.fingerprint, "disputes": LIST}, False),
        3: ReviewTask(30, {"text_sha256": text_sha256(TEXT), "versions": "older"}, adjudicated=False),
        4: ReviewTask(40, {"text_sha256": text_sha256(TEXT), "versions": "older"}, adjudicated=True),
        5: ReviewTask(50, {"text_sha256": text_sha256("old text"), "versions": "older"}, adjudicated=False),
        6: ReviewTask(60, {"article_id": "a6", "text_sha256": text_sha256(TEXT), "versions": "x"}, adjudicated=False),
    }
    result = AdjudicateResult()
    _plan(result, [new, same, changed, decided_changed, moved], existing)
    assert (result.to_send, result.send_tasks) == (["a1"], [1])
    assert (result.already, result.adjudicated, result.pending) == (4, 1, 3)
    assert (result.to_refresh, result.refresh_tasks) == (["a3"], [3])
    assert result.changed_after == ["a4"]
    assert result.text_changed == ["a5"]
    assert result.no_longer_disputed == ["a6"]


def test_a_pending_review_task_of_an_older_toolkit_is_refreshed_into_the_list():
    """Issue 30 item 3: a review task whose ``disputes`` is the old plain-text box is refreshed (its data is
    rewritten with the list the new labeling config shows); an adjudicated one is left as it is."""
    pending, decided, current = disputed(1, "a1"), disputed(2, "a2"), disputed(3, "a3")
    old = "Disputed (1):\n  GPE 'Paris' [22-27]: ann-1 (missing/extra span)\nAgreed (1):\n  PERSON 'Angela Merkel'"
    same = {"text_sha256": text_sha256(TEXT), "versions": pending.fingerprint}
    existing = {
        1: ReviewTask(10, {**same, "disputes": old}, adjudicated=False),
        2: ReviewTask(20, {**same, "disputes": old}, adjudicated=True),
        3: ReviewTask(30, {**same, "disputes": _payload(CONFIG, current, IDS.key)["data"]["disputes"]}, False),
    }
    result = AdjudicateResult()
    _plan(result, [pending, decided, current], existing)
    assert (result.to_refresh, result.refresh_tasks) == (["a1"], [1])
    assert result.changed_after == [] and result.to_send == []


def test_two_tasks_with_one_article_id_are_two_disputes():
    """A review task is of a main task: the second task with article id a1 is not taken for
    the first's review task, and is sent (issue 27, item 3)."""
    first, second = disputed(1, "a1"), disputed(2, "a1")
    existing = {1: ReviewTask(10, {"text_sha256": text_sha256(TEXT), "versions": first.fingerprint}, False)}
    result = AdjudicateResult()
    _plan(result, [first, second], existing)
    assert (result.to_send, result.send_tasks, result.already) == (["a1"], [2], 1)
    assert result.text_changed == [] and result.no_longer_disputed == []


def test_review_tasks_of_another_annotator_secret_are_not_compared():
    """Ids made with another secret make every version look changed: reported, neither
    refreshed nor called changed after adjudication (issue 27, item 5)."""
    pending, decided = disputed(1), disputed(2)
    data = {"text_sha256": text_sha256(TEXT), "versions": "made with other ids", "ids_key": "0123456789abcdef"}
    existing = {1: ReviewTask(10, data, adjudicated=False), 2: ReviewTask(20, data, adjudicated=True)}
    result = AdjudicateResult(ids_key=IDS.key)
    _plan(result, [pending, decided], existing)
    assert (result.to_refresh, result.changed_after) == ([], [])
    assert (result.other_secret, result.other_ids_keys) == (["a1", "a2"], ["0123456789abcdef"])
    # The same secret's key: compared as ever.
    same = {1: ReviewTask(10, {**data, "ids_key": IDS.key}, adjudicated=False)}
    result = AdjudicateResult(ids_key=IDS.key)
    _plan(result, [pending], same)
    assert (result.to_refresh, result.other_secret) == (["a1"], [])


def test_the_secret_key_says_which_secret_without_saying_it():
    assert IDS.key == AnnotatorIds(b"secret").key != AnnotatorIds(b"another").key
    assert "secret" not in IDS.key and len(IDS.key) == 16


def test_payload_shows_every_version_by_anonymous_id_and_starts_from_the_agreed_spans():
    article = disputed()
    payload = _payload(CONFIG, article, IDS.key)
    by_version = {p["model_version"]: p["result"] for p in payload["predictions"]}
    assert set(by_version) == {PREFILL_VERSION, IDS(1), IDS(2)}
    assert [r["value"]["labels"] for r in by_version[PREFILL_VERSION]] == [["PERSON"]]
    assert len(by_version[IDS(1)]) == 2 and len(by_version[IDS(2)]) == 1
    data = payload["data"]
    assert (data["article_id"], data["main_task_id"], data["resolves"]) == ("a1", 1, [11, 10])
    assert data["annotators"] == [IDS(2), IDS(1)] and data["ids_key"] == IDS.key
    first, second = IDS(1)[:8], IDS(2)[:8]
    assert data["disputes"].startswith(
        f'<b>Disputed (1)</b><ol class="disputed"><li><b>"Paris" GPE</b> ({first}): <u>missing for {second}</u>.'
        '<br/><span class="where">Angela Merkel visited <mark>Paris</mark>.</span></li></ol>'
    )


def test_review_labeling_config_has_the_main_labels_and_the_list_after_the_article():
    review = review_labeling_config(CONFIG)
    assert config_labels(review) == config_labels(labeling_config(CONFIG))
    # Issue 30 item 3: the article first (its first words above the fold), the list of disputes after it.
    assert review.index('<Text name="text"') < review.index('<HyperText name="disputes" value="$disputes"')


def test_review_title_default_and_limit():
    assert review_title(CONFIG) == "News (adjudication)"
    long = parse_config({"project": {"title": "x" * 40}, "labels": ["PERSON"]})
    with pytest.raises(ProjectError, match=r"\[adjudicate.title\]"):
        review_title(long)
    named = parse_config({"project": {"title": "x" * 40}, "labels": ["PERSON"], "adjudicate": {"title": "Review"}})
    assert review_title(named) == "Review"


def test_a_review_project_with_other_labels_is_refused_with_the_difference():
    main = SimpleNamespace(label_config=labeling_config(CONFIG))
    other = parse_config({"project": {"title": "News"}, "labels": ["PERSON", "GPE", "ORG"]})
    review = SimpleNamespace(id=7, title="News (adjudication)", label_config=review_labeling_config(other))
    with pytest.raises(ProjectError, match="only the main project has LOC; only the review project has ORG"):
        check_labels(review, main)
    check_labels(SimpleNamespace(id=7, title="t", label_config=review_labeling_config(CONFIG)), main)


def test_an_adjudicated_article_settled_since_is_reported_as_changed_after_adjudication():
    """Issue 27: annotators who agree now, or one annotator left, after the decision: reported, not dropped."""
    agreed_now = read(task(1, (1, [item(0, 13, "PERSON")]), (2, [item(0, 13, "PERSON")]), article_id="agreed"))
    one_left = read(task(2, (1, [item(0, 13, "PERSON")]), article_id="single"))
    untouched = read(task(3, (1, [item(0, 13, "PERSON")]), (2, [item(0, 13, "PERSON")]), article_id="same"))
    moved = read(task(4, (1, [item(0, 13, "PERSON")]), article_id="moved"))
    shown = {"text_sha256": text_sha256(TEXT), "versions": "at review time"}
    existing = {  # by main task id, as review tasks are matched
        1: ReviewTask(10, {**shown, "article_id": "agreed"}, adjudicated=True),
        2: ReviewTask(20, {**shown, "article_id": "single"}, adjudicated=True),
        3: ReviewTask(30, {**shown, "article_id": "same", "versions": untouched.fingerprint}, adjudicated=True),
        4: ReviewTask(40, {**shown, "article_id": "moved", "text_sha256": text_sha256("old text")}, adjudicated=True),
    }
    settled = {a.task_id: Settled(a.text_sha256, a.fingerprint) for a in (agreed_now, one_left, untouched, moved)}
    result = AdjudicateResult()
    _plan(result, [], existing, settled)
    assert result.changed_after == ["agreed", "single"]
    assert result.text_changed == ["moved"]
    assert result.no_longer_disputed == [] and result.to_send == []
