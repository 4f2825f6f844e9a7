"""Adjudication against a real Label Studio server when the review loop is not as planned.

- two main tasks with one article id, both disputed: each reaches a reviewer, pull says it
  wrote two records for one id, export's hint names a fix that works;
- the review project renamed in Label Studio, or ``adjudicate.title`` changed: found by its
  id, the decisions still taken, nothing sent again, the title mismatch said;
- another annotator secret (``TOOLKIT_ANNOTATOR_SECRET``): said once, never "changed after
  adjudication", never ``stale``, nothing refreshed;
- two ``adjudicate`` runs at once: the second refused naming the holder; two machines (two
  state folders, no shared lock) at once: the counts add up to the disputes, no copy left.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from tests.reliability import tally
from tests.reliability.conftest import delete_project, project_by_title, run, title_of, write_config
from tests.reliability.data import article, read_jsonl
from toolkit.io.locks import output_lock

pytestmark = pytest.mark.integration

SECRET = "team-secret-" + "a" * 20


def _key(server) -> str:
    return server.api_key.get_secret_value()


def _toolkit(server, tmp_path: Path, *args: str, expect: int = 0, secret: str = SECRET):
    return run(
        *args,
        cwd=tmp_path,
        url=server.url,
        key=_key(server),
        expect=expect,
        extra_env={"TOOLKIT_ANNOTATOR_SECRET": secret},
    )


def _label_changed(result: list[dict]) -> list[dict]:
    """The second annotator's answer: the first's with its GPE called LOC (a label dispute)."""
    changed = json.loads(json.dumps(result))
    for item in changed:
        if item["value"]["labels"] == ["GPE"]:
            item["value"]["labels"] = ["LOC"]
    return changed


@pytest.fixture
def loop(server, client, tmp_path):
    """A pushed project whose tasks the tests annotate twice; the projects are deleted afterwards."""
    config = write_config(tmp_path / "config.yaml")
    titles = [title_of(config), title_of(config) + " (adjudication)", "renamed " + uuid.uuid4().hex[:8]]
    yield config, titles
    for title in titles:
        delete_project(client, title)


def _push(server, tmp_path: Path, config: Path, articles: list[dict]) -> None:
    (tmp_path / "predictions.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    _toolkit(server, tmp_path, "push", "predictions.jsonl", "--config", str(config))


def _dispute(client, task, second) -> None:
    """Two answers on ``task``: the model's spans (the API key's user) and the same with LOC (``second``)."""
    (prediction,) = task.predictions
    client.annotations.create(id=task.id, result=prediction.result, was_cancelled=False)
    client.annotations.create(
        id=task.id, result=_label_changed(prediction.result), was_cancelled=False, completed_by=second.id
    )


def _user(client, name: str):
    tag = uuid.uuid4().hex[:8]
    return client.users.create(username=f"{name}-{tag}", email=f"{name}-{tag}@example.com")


def _review_tasks(client, review_id: int) -> list:
    return list(client.tasks.list(project=review_id, fields="all"))


def _decide(client, review_task, judge) -> None:
    """The adjudicator takes LOC (the second annotator's answer)."""
    result = next(p.result for p in review_task.predictions if p.model_version != "adjudication-start")
    labels = {tuple(item["value"]["labels"]) for item in result}
    answer = result if ("LOC",) in labels else _label_changed(result)
    client.annotations.create(id=review_task.id, result=answer, was_cancelled=False, completed_by=judge.id)


# --- item 3: one article id on two main tasks -------------------------------------------------


def test_two_tasks_with_one_article_id_each_reach_a_reviewer(server, client, tmp_path, loop):
    """A second task with article id ``rel-0000`` (another text) was imported into the main
    project by hand: both disputes get a review task, none is taken for a copy; pull says it
    wrote two records for one id; export refuses naming the two tasks and a fix that works."""
    config, titles = loop
    _push(server, tmp_path, config, [article(0), article(1)])
    main = project_by_title(client, titles[0])
    other = article(7)
    client.projects.import_tasks(id=main.id, request=[{"data": {"article_id": "rel-0000", "text": other["text"]}}])
    tasks = list(client.tasks.list(project=main.id, fields="all"))
    twin = next(t for t in tasks if t.data["text"] == other["text"])
    client.predictions.create(
        task=twin.id,
        model_version="hand",
        result=[
            {
                "from_name": "label",
                "to_name": "text",
                "type": "labels",
                "value": {"start": s["start"], "end": s["end"], "text": s["text"], "labels": [s["label"]]},
            }
            for s in other["spans"]
        ],
    )
    second = _user(client, "second")
    for task in client.tasks.list(project=main.id, fields="all"):
        _dispute(client, task, second)

    done = _toolkit(server, tmp_path, "adjudicate", "--config", str(config))
    assert "Sent 3 new review tasks" in done.stdout, done.stdout
    assert "duplicate" not in done.stdout
    assert "rel-0000" in done.stderr and "2 tasks" in done.stderr, done.stderr
    review = project_by_title(client, titles[1])
    review_tasks = _review_tasks(client, review.id)
    assert sorted(t.data["main_task_id"] for t in review_tasks) == sorted(t.id for t in tasks)
    again = json.loads(_toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--json").stdout)
    assert (again["new_review_tasks"], again["with_review_task"], again["text_changed"]) == (0, 3, [])
    assert again["copies_removed"] == 0

    judge = _user(client, "judge")
    for review_task in review_tasks:
        _decide(client, review_task, judge)
    pulled = _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl")
    assert "rel-0000" in pulled.stdout + pulled.stderr and "2 records" in pulled.stdout + pulled.stderr
    records = read_jsonl(tmp_path / "annotations.jsonl")
    assert len(records) == 3 and all(r["decision"]["status"] == "adjudicated" for r in records)
    by_review = {t.data["main_task_id"]: t.id for t in review_tasks}
    assert all(r["decision"]["review_task_id"] == by_review[r["task_id"]] for r in records)

    refused = _toolkit(
        server, tmp_path, "export", "annotations.jsonl", "--config", str(config), "--out", "dataset", expect=1
    )
    assert f"task {twin.id}" in refused.stderr and "article_id" in refused.stderr, refused.stderr
    assert "re-run `toolkit pull`" not in refused.stderr
    # The fix the hint names: the copy gets its own article id in Label Studio; then pull and export.
    client.tasks.update(id=twin.id, data={**twin.data, "article_id": "rel-0007"})
    pulled = _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl")
    records = read_jsonl(tmp_path / "annotations.jsonl")
    assert sorted(r["id"] for r in records) == ["rel-0000", "rel-0001", "rel-0007"]
    assert all(r["decision"]["status"] == "adjudicated" for r in records)
    _toolkit(server, tmp_path, "export", "annotations.jsonl", "--config", str(config), "--out", "dataset")
    tally.add("faults")
    tally.add("spans_checked", sum(len(r["spans"]) for r in records))


# --- item 4: the review project renamed -------------------------------------------------------


def test_a_renamed_review_project_is_still_the_review_project(server, client, tmp_path, loop):
    """Renamed in Label Studio after a decision: pull still takes it, adjudicate sends
    nothing again; both say the title no longer matches. Then ``adjudicate.title`` changed
    in the config: the same."""
    config, titles = loop
    _push(server, tmp_path, config, [article(0), article(1)])
    main = project_by_title(client, titles[0])
    second, judge = _user(client, "second"), _user(client, "judge")
    for task in client.tasks.list(project=main.id, fields="all"):
        _dispute(client, task, second)
    _toolkit(server, tmp_path, "adjudicate", "--config", str(config))
    review = project_by_title(client, titles[1])
    review_tasks = _review_tasks(client, review.id)
    _decide(client, review_tasks[0], judge)

    client.projects.update(id=review.id, title=titles[2])
    pulled = _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl")
    records = read_jsonl(tmp_path / "annotations.jsonl")
    assert sorted(r["decision"]["status"] for r in records) == ["adjudicated", "pending"], records
    assert titles[2] in pulled.stdout + pulled.stderr and str(review.id) in pulled.stdout + pulled.stderr
    dry = _toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--dry-run")
    assert "would send 0 new review tasks" in dry.stdout and titles[2] in dry.stdout + dry.stderr, dry.stdout
    done = json.loads(_toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--json").stdout)
    assert (done["new_review_tasks"], done["with_review_task"], done["review_project"]["id"]) == (0, 2, review.id)

    data = yaml.safe_load(config.read_text())
    data["adjudicate"] = {**(data.get("adjudicate") or {}), "title": "another title " + uuid.uuid4().hex[:6]}
    titles.append(data["adjudicate"]["title"])
    config.write_text(yaml.safe_dump(data))
    done = json.loads(_toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--json").stdout)
    assert (done["new_review_tasks"], done["review_project"]["id"]) == (0, review.id)
    assert project_by_title(client, titles[3]) is None
    _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl")
    records = read_jsonl(tmp_path / "annotations.jsonl")
    assert sorted(r["decision"]["status"] for r in records) == ["adjudicated", "pending"]
    tally.add("faults", 2)
    tally.add("spans_checked", sum(len(r["spans"]) for r in records))


# --- item 5: another annotator secret ---------------------------------------------------------


def test_another_annotator_secret_is_said_once_and_marks_nothing_stale(server, client, tmp_path, loop):
    """The review tasks were made with the team's secret; a run with another one says so once,
    with what to do, and neither calls a decision changed nor plans a refresh."""
    config, titles = loop
    _push(server, tmp_path, config, [article(0), article(1)])
    main = project_by_title(client, titles[0])
    second, judge = _user(client, "second"), _user(client, "judge")
    for task in client.tasks.list(project=main.id, fields="all"):
        _dispute(client, task, second)
    _toolkit(server, tmp_path, "adjudicate", "--config", str(config))
    review = project_by_title(client, titles[1])
    _decide(client, _review_tasks(client, review.id)[0], judge)

    other = "another-secret-" + "b" * 20
    dry = _toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--dry-run", secret=other)
    assert "changed by an annotator" not in dry.stderr and "refresh 0" in dry.stdout, dry.stdout + dry.stderr
    assert dry.stderr.count("TOOLKIT_ANNOTATOR_SECRET") == 1, dry.stderr
    plan = json.loads(
        _toolkit(server, tmp_path, "adjudicate", "--config", str(config), "--dry-run", "--json", secret=other).stdout
    )
    assert (plan["refreshed"], plan["changed_after_adjudication"], plan["new_review_tasks"]) == (0, [], 0)
    pulled = _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl", secret=other)
    assert (pulled.stdout + pulled.stderr).count("TOOLKIT_ANNOTATOR_SECRET") == 1, pulled.stdout + pulled.stderr
    records = read_jsonl(tmp_path / "annotations.jsonl")
    decided = [r for r in records if r["decision"]["status"] == "adjudicated"]
    assert len(decided) == 1 and not decided[0]["decision"].get("stale"), decided
    annotators = {a["annotator"] for a in decided[0]["annotations"]}
    assert set(decided[0]["decision"]["annotators"]) == annotators
    # With the team's secret again: nothing said, nothing stale.
    pulled = _toolkit(server, tmp_path, "pull", "--config", str(config), "--out", "annotations.jsonl")
    assert "TOOLKIT_ANNOTATOR_SECRET" not in pulled.stdout + pulled.stderr
    tally.add("faults")
    tally.add("spans_checked", sum(len(r["spans"]) for r in decided))


# --- item 16: two adjudicate runs at once ------------------------------------------------------


def test_a_second_adjudicate_run_is_refused_naming_the_first(server, client, tmp_path, loop):
    """While a run holds the review project's lock, another is refused with one line naming it."""
    from toolkit.adjudicate.adjudication import review_lock_file
    from toolkit.config import load_config

    config, titles = loop
    _push(server, tmp_path, config, [article(0)])
    main = project_by_title(client, titles[0])
    second = _user(client, "second")
    for task in client.tasks.list(project=main.id, fields="all"):
        _dispute(client, task, second)
    loaded = load_config(config)
    lock_file = review_lock_file(tmp_path / loaded.pull.state_dir, server.url, main.id)
    with output_lock(Path(titles[1]), what="review project", lock_file=lock_file):
        refused = _toolkit(server, tmp_path, "adjudicate", "--config", str(config), expect=1)
    assert len(refused.stderr.strip().splitlines()) <= 2, refused.stderr
    assert "another run" in refused.stderr and f"pid {__import__('os').getpid()}" in refused.stderr
    assert project_by_title(client, titles[1]) is None  # nothing sent
    done = _toolkit(server, tmp_path, "adjudicate", "--config", str(config))
    assert "Sent 1 new review task " in done.stdout
    tally.add("faults")


def test_two_machines_adjudicating_at_once_count_honestly(server, client, tmp_path, loop):
    """Two runs with their own state folders (two machines: no shared lock) at the same moment:
    whatever interleaving, the review tasks sent add up to the disputes and no copy is left."""
    config, titles = loop
    articles = [article(n) for n in range(6)]
    _push(server, tmp_path, config, articles)
    main = project_by_title(client, titles[0])
    second = _user(client, "second")
    for task in client.tasks.list(project=main.id, fields="all"):
        _dispute(client, task, second)
    configs = []
    for name in ("one", "two"):
        data = yaml.safe_load(config.read_text())
        data["pull"] = {**(data.get("pull") or {}), "state_dir": f".toolkit-{name}/pulls"}
        path = tmp_path / f"config-{name}.yaml"
        path.write_text(yaml.safe_dump(data))
        configs.append(path)
    env = {
        **{k: v for k, v in __import__("os").environ.items() if k != "TOOLKIT_DEBUG"},
        "LABEL_STUDIO_URL": server.url,
        "LABEL_STUDIO_API_KEY": _key(server),
        "TOOLKIT_ANNOTATOR_SECRET": SECRET,
    }
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "toolkit", "adjudicate", "--config", str(path), "--json"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in configs
    ]
    outputs = [process.communicate(timeout=300) for process in runs]
    assert all(process.returncode == 0 for process in runs), outputs
    results = [json.loads(stdout) for stdout, _ in outputs]
    review = project_by_title(client, titles[1])
    assert len(_review_tasks(client, review.id)) == 6
    assert sum(result["new_review_tasks"] for result in results) == 6, results
    tally.add("faults")
