"""The state between pulls: which tasks are new, changed, unchanged or replaced."""

from __future__ import annotations

import json

from toolkit.pull.state import PullState, task_fingerprint


def task(id_, updated_at="2026-01-01T00:00:00Z", created_at="2026-01-01T00:00:00Z", text="Paris."):
    return {"id": id_, "updated_at": updated_at, "created_at": created_at, "data": {"text": text, "article_id": "a"}}


def test_tasks_are_new_changed_unchanged_or_replaced():
    before = PullState()
    for one in (task(1), task(2), task(3)):
        before.add(one)
    now = PullState()
    for one in (task(1), task(2, updated_at="2026-01-02T00:00:00Z"), task(3, created_at="2026-02-01"), task(4)):
        now.add(one)
    assert [before.change(task_id, now) for task_id in (1, 2, 3, 4)] == ["unchanged", "changed", "replaced", "new"]
    assert now.watermark == "2026-01-02T00:00:00Z" and now.articles[4] == "a"
    assert task_fingerprint(task(1)) != task_fingerprint(task(1, text="Lyon."))


def test_a_state_written_by_an_older_version_still_loads(tmp_path):
    path = tmp_path / "state.json"
    older = {
        "version": 1,
        "pulled_at": "2026-01-01T00:00:00+00:00",
        "watermark": "w",
        "output": "/somewhere/annotations.jsonl",
        "output_sha256": "0" * 64,
        "ledger_sha256": "1" * 64,
        "raw": "/somewhere/raw.json.gz",
        "settings": "s",
        "tasks": {"1": "f"},
        "articles": {"1": "a"},
        "created": {"1": "c"},
    }
    path.write_text(json.dumps(older))
    state = PullState.load(path)
    assert (state.watermark, state.tasks, state.settings) == ("w", {1: "f"}, "s")
    state.save(path)
    assert set(json.loads(path.read_text())) == {
        "version",
        "pulled_at",
        "watermark",
        "settings",
        "tasks",
        "articles",
        "created",
    }
    path.write_text("{broken")
    assert PullState.load(path) is None and PullState.load(tmp_path / "none.json") is None
