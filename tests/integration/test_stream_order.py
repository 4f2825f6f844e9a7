"""The labeling stream against the real server: after `toolkit push`, "Label All Tasks" serves
the lowest task score first, to several annotators, one of a near-duplicate group before its
copies, and a new model version's scores as soon as it is pushed. Scores never mix: the same
model re-scored is a new set the stream follows, the other kind of score is refused, and a task
without a prediction of the project's version comes after the scored ones.

Annotators are real users who joined through the organisation's invite link and act with
their own API tokens; each asks for the next task as the labeling view does (the data
manager's ``next_task`` action, the one "Label All Tasks" calls, and ``api/projects/ID/next``).
"""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from toolkit.config import load_config
from toolkit.labelstudio.stream import TAB_TITLE

WORDS = (
    "harbour council tariff election drought merger vaccine striker orchestra glacier pipeline senate "
    "festival refinery verdict satellite currency museum railway protest harvest reactor summit bridge "
    "airline wildfire treaty stadium library bakery comet shipyard"
).split()
MODEL = {"name": "spacy-stream-test", "version": "1"}


def article_text(seed: int) -> str:
    rng = random.Random(seed)
    return f"Berlin report {seed}: " + " ".join(rng.choice(WORDS) for _ in range(60)) + "."


def predicted(article_id: str, text: str, score: float, model: dict = MODEL) -> dict:
    return {
        "id": article_id,
        "text": text,
        "model": model,
        "score": score,
        "spans": [{"start": 0, "end": 6, "label": "GPE", "text": text[:6], "score": round(min(1.0, score + 0.2), 4)}],
    }


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def headers_of(client) -> dict[str, str]:
    """The admin's authentication, as the SDK sends it (legacy token or access token)."""
    return client._client_wrapper.get_headers()


class Annotator:
    """A user who signed up through the invite link, calling the API with their own token."""

    def __init__(self, url: str, invite_token: str) -> None:
        self.email = f"stream-{uuid.uuid4().hex[:10]}@example.com"
        with httpx.Client(base_url=url, follow_redirects=True, timeout=30) as browser:
            browser.get("/user/signup/")
            browser.post(
                f"/user/signup/?token={invite_token}",
                data={
                    "email": self.email,
                    "password": uuid.uuid4().hex,
                    "csrfmiddlewaretoken": browser.cookies["csrftoken"],
                },
                headers={"Referer": f"{url}/user/signup/"},
            ).raise_for_status()
            made = browser.post("/api/token/", headers={"X-CSRFToken": browser.cookies["csrftoken"], "Referer": url})
            made.raise_for_status()
        refreshed = httpx.post(f"{url}/api/token/refresh/", json={"refresh": made.json()["token"]}, timeout=30)
        refreshed.raise_for_status()
        self.api = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {refreshed.json()['access']}"}, timeout=30
        )

    def next_task(self, project_id: int, *, via: str = "label-all") -> dict | None:
        if via == "label-all":
            # What the data manager's "Label All Tasks" sends: no ordering, no selection.
            response = self.api.post(f"/api/dm/actions?project={project_id}&id=next_task", json={})
        else:
            response = self.api.get(f"/api/projects/{project_id}/next/")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        return response.json()

    def submit(self, task_id: int) -> None:
        self.api.post(f"/api/tasks/{task_id}/annotations/", json={"result": [], "lead_time": 2.0}).raise_for_status()


@pytest.fixture(scope="module")
def annotators(server, client):
    invite = httpx.get(f"{server.url}/api/invite", headers=headers_of(client), timeout=30)
    invite.raise_for_status()
    return [Annotator(server.url, invite.json()["token"]) for _ in range(3)]


def project_of(client, config_path: Path):
    title = load_config(config_path).project.title
    (project,) = [p for p in client.projects.list(title=title) if p.title == title]
    return client.projects.get(id=project.id)


def served_score(task: dict) -> float:
    (prediction,) = task["predictions"]  # the stream shows only the project's model_version
    return prediction["score"]


def test_label_all_tasks_serves_ascending_scores_to_several_annotators_copies_last(
    run_toolkit, client, project_config, annotators, tmp_path
):
    rng = random.Random(5)
    scores = [round(rng.uniform(0.05, 0.95), 4) for _ in range(9)]
    records = [predicted(f"a{i}", article_text(i), score) for i, score in enumerate(scores)]
    hardest = min(range(9), key=scores.__getitem__)
    # Two syndicated copies of the hardest article, as uncertain as it: without grouping
    # the stream would serve the same story three times in a row.
    story = records[hardest]["text"]
    records.append(predicted("copy-1", "BERLIN (Reuters) - " + story, scores[hardest]))
    records.append(predicted("copy-2", story.replace("report", "dispatch"), scores[hardest]))
    rng.shuffle(records)  # the file order is not the score order
    predictions = write_jsonl(tmp_path / "predictions.jsonl", records)
    done = run_toolkit("push", str(predictions), "--config", str(project_config))
    assert "near-duplicates: 1 group holding 2 copies" in done.stdout
    assert "Label All Tasks serves the lowest task score first (set now)" in done.stdout
    project = project_of(client, project_config)
    assert project.sampling == "Uncertainty sampling"
    assert project.model_version == "spacy-stream-test-1"

    tasks = {t.data["article_id"]: t for t in client.tasks.list(project=project.id, fields="all")}
    first_of_group = next(r["id"] for r in records if r["id"] == f"a{hardest}" or r["id"].startswith("copy"))
    assert {tasks[key].data["group"] for key in (f"a{hardest}", "copy-1", "copy-2")} == {first_of_group}
    assert "group" not in tasks["a0"].data  # an article alone has none (it would repeat its article_id)

    # Three annotators at work at once: each holds one task (the server locks it) and asks
    # for the next after submitting. Every task is served once, in ascending score, and
    # the group's copies only after every other article.
    served: list[tuple[str, float]] = []
    holding = {}
    for annotator in annotators:
        holding[annotator] = annotator.next_task(project.id)
    while any(holding.values()):
        for annotator in annotators:
            task = holding[annotator]
            if task is None:
                continue
            served.append((task["data"]["article_id"], served_score(task)))
            annotator.submit(task["id"])
            holding[annotator] = annotator.next_task(project.id, via=rng.choice(["label-all", "next"]))
    ids = [article_id for article_id, _ in served]
    assert sorted(ids) == sorted(r["id"] for r in records), "every task served once, none to two annotators"
    assert [score for _, score in served] == sorted(score for _, score in served)
    copies = {
        r["id"] for r in records if r["id"] != first_of_group and tasks[r["id"]].data.get("group") == first_of_group
    }
    assert set(ids[-2:]) == copies and first_of_group == ids[0]
    assert all(score == 1.0 for article_id, score in served if article_id in copies)
    assert all(tasks[c].data["model_score"] == scores[hardest] for c in copies)


def test_a_new_model_version_reorders_the_stream_and_sequential_is_a_setting(
    run_toolkit, client, project_config, annotators, tmp_path
):
    first = [predicted(f"b{i}", article_text(100 + i), score) for i, score in enumerate([0.2, 0.4, 0.6, 0.8])]
    run_toolkit("push", str(write_jsonl(tmp_path / "v1.jsonl", first)), "--config", str(project_config))
    project = project_of(client, project_config)
    annotator = annotators[0]
    task = annotator.next_task(project.id)
    assert task["data"]["article_id"] == "b0"
    annotator.submit(task["id"])

    # A new model is surest where the old one doubted: its push re-scores the
    # unannotated tasks and sets the project's model_version; the stream follows it.
    model = {"name": "spacy-stream-test", "version": "2"}
    second = [predicted(r["id"], r["text"], round(1.0 - r["score"], 4), model) for r in first]
    run_toolkit("push", str(write_jsonl(tmp_path / "v2.jsonl", second)), "--config", str(project_config))
    assert project_of(client, project_config).model_version == "spacy-stream-test-2"
    order = []
    while (task := annotator.next_task(project.id)) is not None:
        order.append((task["data"]["article_id"], served_score(task), task["predictions"][0]["model_version"]))
        annotator.submit(task["id"])
    version = "spacy-stream-test-2"
    assert order == [("b3", 0.2, version), ("b2", 0.4, version), ("b1", 0.6, version)]

    # push.order: sequential is task order; set again at the next push.
    data = yaml.safe_load(project_config.read_text())
    data.setdefault("push", {})["order"] = "sequential"
    project_config.write_text(yaml.safe_dump(data))
    done = run_toolkit("push", str(tmp_path / "v2.jsonl"), "--config", str(project_config))
    assert "Label All Tasks serves in task order (set now): push.order is 'sequential'" in done.stdout
    assert project_of(client, project_config).sampling == "Sequential sampling"


def test_regions_carry_the_models_scores_and_the_tab_shows_the_score(
    run_toolkit, server, client, project_config, annotators, tmp_path
):
    root = Path(__file__).resolve().parents[2]
    run_toolkit(
        "preannotate", str(root / "samples"), "--config", str(project_config), "--out", str(tmp_path / "p.jsonl")
    )
    records = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    done = run_toolkit("push", str(tmp_path / "p.jsonl"), "--config", str(project_config))
    assert "data manager tab 'Most uncertain first' added" in done.stdout
    project = project_of(client, project_config)
    by_id = {r["id"]: r for r in records}
    checked = 0
    for task in client.tasks.list(project=project.id, fields="all"):
        record = by_id[task.data["article_id"]]
        (prediction,) = task.predictions
        assert prediction.score == record["score"]
        scores = [(item["value"]["start"], item["value"]["end"], item["score"]) for item in prediction.result]
        assert scores == [(s["start"], s["end"], s["score"]) for s in record["spans"] if "score" in s]
        checked += len(scores)
    assert checked >= 10  # the samples hold a dozen or more predicted spans

    (tab,) = [view for view in client.views.list(project=project.id) if view.data.get("title") == TAB_TITLE]
    assert tab.data["ordering"] == ["tasks:predictions_score"]
    # The table the tab shows: the data manager's task list for the tab, lowest score first.
    table = httpx.get(
        f"{server.url}/api/tasks/",
        params={"project": project.id, "view": tab.id, "fields": "all"},
        headers=headers_of(client),
        timeout=30,
    )
    table.raise_for_status()
    shown = [task["predictions"][0]["score"] for task in table.json()["tasks"]]
    assert shown == sorted(r["score"] for r in records)
    assert "tasks:predictions_score" not in tab.data["hiddenColumns"]["explore"]
    assert not (tab.data.get("filters") or {}).get("items")  # a filter would take Label All Tasks off the sampling
    # Annotators see the tab too (tabs belong to the project, not to the admin).
    seen = annotators[1].api.get("/api/dm/views/", params={"project": project.id})
    seen.raise_for_status()
    assert TAB_TITLE in [view["data"].get("title") for view in seen.json()]
    # A second push leaves the tab (someone may have adjusted it) and adds no other.
    done = run_toolkit("push", str(tmp_path / "p.jsonl"), "--config", str(project_config))
    assert "data manager tab" not in done.stdout
    assert [view.data.get("title") for view in client.views.list(project=project.id)].count(TAB_TITLE) == 1


def test_rescored_predictions_of_one_model_reach_the_stream_and_scores_never_mix(
    run_toolkit, client, project_config, annotators, tmp_path
):
    """Scores of another beam width or calibration are other numbers: the same model re-scored is a
    new prediction set (its model_version names the scoring), the project and the stream follow it;
    unscored predictions for this scored stream, and a file of two kinds, are refused."""
    config = ("--config", str(project_config))
    beam8 = {"name": "spacy-stream-test", "version": "1", "scoring": "beam8"}
    first = [predicted(f"c{i}", article_text(200 + i), score, beam8) for i, score in enumerate([0.2, 0.5, 0.8])]
    run_toolkit("push", str(write_jsonl(tmp_path / "beam8.jsonl", first)), *config)
    project = project_of(client, project_config)
    assert project.model_version == "spacy-stream-test-1 beam8"

    # The corrections refit the calibration: the same model's scores change, the push carries them.
    calibrated = {**beam8, "scoring": "beam8+cal-ab12"}
    second = [predicted(r["id"], r["text"], round(1.0 - r["score"], 4), calibrated) for r in first]
    done = run_toolkit("push", str(write_jsonl(tmp_path / "cal.jsonl", second)), *config)
    assert "model_version set to 'spacy-stream-test-1 beam8+cal-ab12'" in done.stdout
    assert project_of(client, project_config).model_version == "spacy-stream-test-1 beam8+cal-ab12"
    sets = {(p.task, p.model_version): p.score for p in client.predictions.list(project=project.id)}
    assert sorted(sets.values()) == [0.2, 0.2, 0.5, 0.5, 0.8, 0.8] and len({task for task, _ in sets}) == 3

    unscored = {**beam8, "scoring": "unscored"}
    plain = [{**predicted("d0", article_text(210), 0.0, unscored), "score": None}]
    refused = run_toolkit("push", str(write_jsonl(tmp_path / "plain.jsonl", plain)), *config, expect=1)
    flat = " ".join(refused.stderr.split())
    assert "serves scored predictions (model_version 'spacy-stream-test-1 beam8+cal-ab12'), the file's are" in flat
    assert "hint: pre-annotate with scores on as the project's were and push that (spacy.scores: true)" in flat
    mixed = run_toolkit("push", str(write_jsonl(tmp_path / "mixed.jsonl", second + plain)), *config, expect=1)
    assert "record 4 (article 'd0'): scoring unscored, record 1's beam8+cal-ab12" in " ".join(mixed.stderr.split())
    assert project_of(client, project_config).task_number == 3  # neither reached the project

    annotator = annotators[1]
    order = []
    while (task := annotator.next_task(project.id)) is not None:
        order.append((task["data"]["article_id"], served_score(task)))
        annotator.submit(task["id"])
    assert order == [("c2", 0.2), ("c1", 0.5), ("c0", 0.8)]  # the calibrated scores, lowest first


def test_scored_predictions_for_an_unscored_stream_are_refused(run_toolkit, client, project_config, tmp_path):
    config = ("--config", str(project_config))
    unscored = {"name": "spacy-stream-test", "version": "1", "scoring": "unscored"}
    plain = [{**predicted(f"e{i}", article_text(300 + i), 0.0, unscored), "score": None} for i in range(2)]
    run_toolkit("push", str(write_jsonl(tmp_path / "plain.jsonl", plain)), *config)
    assert project_of(client, project_config).model_version == "spacy-stream-test-1 unscored"
    scored = [predicted("e2", article_text(302), 0.4, {**unscored, "scoring": "beam8"})]
    for dry_run in (("--dry-run",), ()):
        refused = run_toolkit("push", str(write_jsonl(tmp_path / "scored.jsonl", scored)), *config, *dry_run, expect=1)
        flat = " ".join(refused.stderr.split())
        assert "serves unscored predictions (model_version 'spacy-stream-test-1 unscored')" in flat
        assert "2 unannotated tasks would lack them: one stream orders one kind of score" in flat
    assert project_of(client, project_config).task_number == 2


def test_a_task_without_a_prediction_of_the_projects_version_is_served_after_the_scored_ones(
    run_toolkit, client, project_config, annotators, tmp_path
):
    """What docs/labeling-stream.md says of Label Studio: uncertainty sampling orders only the tasks
    holding a prediction of the project's model_version; a task without one comes after them all,
    however low its other prediction's score."""
    config = ("--config", str(project_config))
    beam8 = {"name": "spacy-stream-test", "version": "1", "scoring": "beam8"}
    first = [predicted(f"f{i}", article_text(400 + i), score, beam8) for i, score in enumerate([0.5, 0.8])]
    run_toolkit("push", str(write_jsonl(tmp_path / "beam8.jsonl", first)), *config)
    # Another beam width for a new article only: the project keeps its version (f0, f1 lack beam2).
    other = [predicted("f2", article_text(402), 0.1, {**beam8, "scoring": "beam2"})]
    done = run_toolkit("push", str(write_jsonl(tmp_path / "beam2.jsonl", other)), *config)
    assert "project model_version stays 'spacy-stream-test-1 beam8'" in " ".join(done.stdout.split())
    project = project_of(client, project_config)
    annotator = annotators[2]
    order = []
    while (task := annotator.next_task(project.id)) is not None:
        order.append(task["data"]["article_id"])
        annotator.submit(task["id"])
    assert order == ["f0", "f1", "f2"]
