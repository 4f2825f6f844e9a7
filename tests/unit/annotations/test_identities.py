"""Anonymous annotator ids and exports stripped of names and emails."""

from __future__ import annotations

import json

from toolkit.annotations.identities import AnnotatorIds, annotator_secret, strip_identities

IDS = AnnotatorIds(b"test-secret")
TEXT = "Angela Merkel visited Paris."


def item(start, end, label, text=None):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"type": "labels", "from_name": "label", "to_name": "text", "value": value}


def annotation(id_, result, user=3):
    return {"id": id_, "result": result, "was_cancelled": False, "completed_by": user}


def task(id_, annotations, drafts=()):
    return {
        "id": id_,
        "data": {"text": TEXT, "article_id": f"art-{id_}"},
        "annotations": annotations,
        "drafts": list(drafts),
    }


def test_annotator_ids_are_stable_anonymous_and_depend_on_the_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_ANNOTATOR_SECRET", raising=False)
    secret = annotator_secret(tmp_path / "s" / "secret")
    assert annotator_secret(tmp_path / "s" / "secret") == secret
    assert (tmp_path / "s" / "secret").stat().st_mode & 0o777 == 0o600
    ids = AnnotatorIds(secret)
    assert ids(3) == ids({"id": 3}) == AnnotatorIds(secret)(3) and ids(3) != ids(4)
    assert ids(3) != AnnotatorIds(b"other")(3) and ids(3).startswith("ann-") and len(ids(3)) == 16
    monkeypatch.setenv("TOOLKIT_ANNOTATOR_SECRET", "shared")
    assert annotator_secret(tmp_path / "s" / "secret") == b"shared"


def test_identities_are_stripped_and_the_annotator_ids_stay_the_same():
    draft = {"id": 9, "user": "someone@example.com", "created_username": "someone@example.com, 7", "result": []}
    one = task(1, [annotation(1, [item(0, 13, "PERSON", "Angela Merkel")])], drafts=[draft])
    one["data"]["text"] = "Write to someone@example.com today."
    one["comment_authors"] = [{"id": 7, "email": "someone@example.com", "first_name": "Some"}]
    stripped = strip_identities(json.loads(json.dumps(one)))
    outside_data = json.dumps({k: v for k, v in stripped.items() if k != "data"})
    assert "example.com" not in outside_data and "Some" not in outside_data
    assert stripped["data"] == one["data"] and stripped["drafts"][0]["user"] == 7
    assert IDS.of_draft(stripped["drafts"][0]) == IDS.of_draft(draft) == IDS(7)
