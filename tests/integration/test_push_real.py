"""Push against a real Label Studio server: idempotent, resumable, clear errors.

The push runs as a real ``toolkit`` subprocess. ``TOOLKIT_TEST_KILL_AT`` (a fault hook of
``tests/faults.py``, installed by the fault launcher) makes it SIGKILL itself before or
after a given write request, so the tests stop it at exact points (project created, a
batch sent but its answer lost, tasks in but the model version not set, ...) and then
check that running it again ends with exactly one task per article and one prediction
set per model version.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests import faults
from toolkit.labelstudio.labeling import result_items, task_payload
from toolkit.records import ModelInfo, PredictedArticle, Span

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
PEOPLE = [
    "Angela Merkel",
    "Jacinda Ardern",
    "Kofi Annan",
    "Nelson Mandela",
    "Marie Curie",
    "Ada Lovelace",
    "Alan Turing",
]


def articles(version: str) -> list[PredictedArticle]:
    """Seven short articles, each with one PERSON and one GPE span."""
    records = []
    for index, person in enumerate(PEOPLE):
        text = f"{person} arrived in Geneva on Monday.\nTalks went on late."
        geneva = text.index("Geneva")
        spans = [Span(start=0, end=len(person), label="PERSON"), Span(start=geneva, end=geneva + 6, label="GPE")]
        record = PredictedArticle(
            id=f"art-{index}",
            text=text,
            title=f"Visit {index}",
            date=f"2025-03-0{index % 9 + 1}",
            model=ModelInfo(name="test-model", version=version),
            spans=spans,
        )
        records.append(record)
    return records


def write_jsonl(path: Path, records: list[PredictedArticle], **extra) -> Path:
    """The records as a predictions file; ``extra`` adds fields to every record (e.g. ``score``)."""
    lines = (json.dumps({**record.model_dump(mode="json", exclude_none=True), **extra}) + "\n" for record in records)
    path.write_text("".join(lines))
    return path


@pytest.fixture
def push_env(server):
    env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key.get_secret_value()}
    for name in ("TOOLKIT_DEBUG", "TOOLKIT_TEST_KILL_AT"):
        env.pop(name, None)
    return env


@pytest.fixture
def toolkit(push_env, server, tmp_path):
    """Run ``toolkit ARGS`` as a subprocess; ``kill_at`` installs the SIGKILL test hook."""

    def run(*args: str, expect: int = 0, kill_at: str | None = None, env: dict[str, str] | None = None):
        environment = {**push_env, **(env or {})}
        if kill_at:
            environment[faults.KILL_AT_WRITE] = kill_at
        toolkit, environment = faults.command(environment)
        done = subprocess.run(
            [*toolkit, *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        output = done.stdout + done.stderr
        assert done.returncode == expect, f"exit {done.returncode}\n{output}"
        assert server.api_key.get_secret_value() not in output
        assert "Traceback" not in output
        return done

    return run


def config_file(tmp_path: Path, title: str, **changes) -> Path:
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = title
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            data[section][name] = value
        else:
            data[section] = value
    path = tmp_path / f"config-{uuid.uuid4().hex[:6]}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def title(client):
    """A unique project title; every project with it is deleted afterwards."""
    name = f"toolkit push test {uuid.uuid4().hex[:10]}"
    yield name
    for project in client.projects.list(title=name):
        if project.title.startswith(name):
            client.projects.delete(id=project.id)


def project_by_title(client, title: str):
    matches = [project for project in client.projects.list(title=title) if project.title == title]
    assert len(matches) <= 1
    return matches[0] if matches else None


def holdings(client, project_id: int) -> tuple[Counter, Counter]:
    """(tasks per article id, prediction sets per (article id, model version))."""
    tasks = {task.id: task.data["article_id"] for task in client.tasks.list(project=project_id, fields="task_only")}
    per_article = Counter(tasks.values())
    per_version = Counter((tasks[p.task], p.model_version) for p in client.predictions.list(project=project_id))
    return per_article, per_version


def assert_exactly_once(client, project_id: int, versions: list[str]) -> None:
    per_article, per_version = holdings(client, project_id)
    assert per_article == Counter({f"art-{i}": 1 for i in range(len(PEOPLE))})
    expected = Counter({(f"art-{i}", version): 1 for i in range(len(PEOPLE)) for version in versions})
    assert per_version == expected


def test_killed_pushes_resume_to_exactly_one_task_and_one_prediction_set_per_version(toolkit, client, title, tmp_path):
    config = config_file(tmp_path, title)
    v1 = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    push = ["push", str(v1), "--config", str(config), "--batch-size", "2"]
    # Write requests of a first push: 1 validate the labeling config, 2 create the
    # project, 3-6 four task batches (2+2+2+1), 7 set the model version.
    toolkit(*push, kill_at="after:2", expect=-signal.SIGKILL)  # project made, no task
    project = project_by_title(client, title)
    assert project is not None and client.projects.get(id=project.id).task_number == 0
    # Now the project exists: 1-4 are the task batches, 5 the model version.
    toolkit(*push, kill_at="before:2", expect=-signal.SIGKILL)  # one batch in
    assert client.projects.get(id=project.id).task_number == 2
    toolkit(*push, kill_at="after:1", expect=-signal.SIGKILL)  # a batch landed, its answer lost
    assert client.projects.get(id=project.id).task_number == 4
    # Now 1-2 are the last two batches (the server set the model version with the first).
    toolkit(*push, kill_at="after:2", expect=-signal.SIGKILL)  # all tasks in, the last answer lost
    assert client.projects.get(id=project.id).task_number == len(PEOPLE)
    done = toolkit(*push)
    assert "0 new tasks" in done.stdout and "7 articles already in the project" in done.stdout
    assert_exactly_once(client, project.id, ["test-model-1.0"])
    assert client.projects.get(id=project.id).model_version == "test-model-1.0"

    # A new model version: one more prediction set per task, no task, also when killed.
    v2 = write_jsonl(tmp_path / "v2.jsonl", articles("2.0"), score=0.75)
    push2 = ["push", str(v2), "--config", str(config), "--batch-size", "3"]
    dry = toolkit(*push2, "--dry-run")
    assert "new tasks:           0" in dry.stdout and "new prediction sets: 7 (7 on existing tasks)" in dry.stdout
    assert "'test-model-1.0' -> 'test-model-2.0'" in dry.stdout
    assert_exactly_once(client, project.id, ["test-model-1.0"])  # the dry run wrote nothing
    # Writes: the prediction batches (3+3+1 sets), then the project's model version.
    toolkit(*push2, kill_at="after:1", expect=-signal.SIGKILL)  # 3 sets in, the answer lost
    toolkit(*push2, kill_at="before:2", expect=-signal.SIGKILL)  # 3 more in, killed before the last batch
    toolkit(*push2, kill_at="after:1", expect=-signal.SIGKILL)  # the last set in, model version not set
    _, per_version = holdings(client, project.id)
    assert sum(count for (_, version), count in per_version.items() if version == "test-model-2.0") == len(PEOPLE)
    assert client.projects.get(id=project.id).model_version == "test-model-1.0"
    done = toolkit(*push2)
    assert "0 new prediction sets on existing tasks" in done.stdout
    assert "model_version set to 'test-model-2.0'" in done.stdout
    assert_exactly_once(client, project.id, ["test-model-1.0", "test-model-2.0"])
    assert client.projects.get(id=project.id).model_version == "test-model-2.0"
    scores = {p.model_version: p.score for p in client.predictions.list(project=project.id)}
    # The article-level score reaches the prediction once PredictedArticle carries one.
    carries_score = "score" in PredictedArticle.model_fields
    assert scores == {"test-model-1.0": None, "test-model-2.0": 0.75 if carries_score else None}

    # The same version again adds nothing.
    again = toolkit(*push2)
    assert "0 new tasks, 7 articles already in the project" in again.stdout
    assert "0 new prediction sets on existing tasks" in again.stdout
    assert_exactly_once(client, project.id, ["test-model-1.0", "test-model-2.0"])


def test_copies_left_by_an_interrupted_push_are_removed(toolkit, client, title, tmp_path):
    """An import still being written when the next push read the project leaves a second task."""
    config = config_file(tmp_path, title)
    records = articles("1.0")
    source = write_jsonl(tmp_path / "v1.jsonl", records)
    toolkit("push", str(source), "--config", str(config))
    project = project_by_title(client, title)
    # What a late-landing import and a doubled prediction import would leave behind.
    client.projects.import_tasks(id=project.id, request=[task_payload(records[0]), task_payload(records[1])])
    some_task = next(
        t for t in client.tasks.list(project=project.id, fields="task_only") if t.data["article_id"] == "art-2"
    )
    client.projects.import_predictions(
        id=project.id,
        request=[
            {
                "task": some_task.id,
                "model_version": "test-model-1.0",
                "result": result_items(records[2].spans, records[2].text, id_prefix="p"),
            }
        ],
    )
    dry = toolkit("push", str(source), "--config", str(config), "--dry-run")
    assert "to remove: 2 tasks, 1 prediction set" in dry.stdout
    done = toolkit("push", str(source), "--config", str(config))
    removed = "removed 2 duplicate tasks and 1 duplicate prediction set (copies from an interrupted or a concurrent"
    assert removed in done.stdout
    assert_exactly_once(client, project.id, ["test-model-1.0"])


def test_project_is_found_by_exact_title_not_by_substring(toolkit, client, title, tmp_path):
    longer = client.projects.create(
        title=f"{title} (old)", label_config="<View><Text name='text' value='$text'/></View>"
    )
    source = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    done = toolkit("push", str(source), "--config", str(config_file(tmp_path, title)))
    assert f"Project '{title}' created" in done.stdout
    assert client.projects.get(id=longer.id).task_number == 0


def test_project_id_in_the_config_wins_over_the_title(toolkit, client, title, tmp_path):
    existing = client.projects.create(title=f"{title} by id")
    source = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    config = config_file(tmp_path, title, project={"title": title, "id": existing.id})
    toolkit("push", str(source), "--config", str(config))
    assert client.projects.get(id=existing.id).task_number == len(PEOPLE)
    assert project_by_title(client, title) is None


def test_two_projects_with_the_title_is_a_clear_error(toolkit, client, title, tmp_path):
    first = client.projects.create(title=title)
    second = client.projects.create(title=title)
    source = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    done = toolkit("push", str(source), "--config", str(config_file(tmp_path, title)), expect=1)
    assert "2 projects on" in done.stderr and f"ids {first.id}, {second.id}" in done.stderr
    assert "set project.id in the config" in done.stderr
    assert client.projects.get(id=first.id).task_number == 0 and client.projects.get(id=second.id).task_number == 0


def test_labels_added_later_update_the_config_and_removing_a_used_label_is_refused(toolkit, client, title, tmp_path):
    records = articles("1.0")
    source = write_jsonl(tmp_path / "v1.jsonl", records)
    toolkit("push", str(source), "--config", str(config_file(tmp_path, title)))
    project = project_by_title(client, title)
    task = next(iter(client.tasks.list(project=project.id, fields="task_only")))
    text = task.data["text"]
    annotation = client.annotations.create(
        id=task.id,
        result=result_items([Span(start=0, end=text.index(" arrived"), label="PERSON")], text, id_prefix="h"),
        was_cancelled=False,
    )

    labels = ["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT", "PRODUCT"]
    done = toolkit("push", str(source), "--config", str(config_file(tmp_path, title, labels=labels)))
    assert "labeling config updated: added PRODUCT" in done.stdout
    config_xml = client.projects.get(id=project.id).label_config
    assert 'value="PRODUCT"' in config_xml
    assert client.annotations.get(id=annotation.id).result[0]["value"]["labels"] == ["PERSON"]

    # The user drops PERSON and pre-annotates again, so the predictions hold no PERSON
    # span (with PERSON spans left in, push stops earlier, at the unknown label).
    without_person = config_file(tmp_path, title, labels=labels[1:], label_map={})
    stale = toolkit("push", str(source), "--config", str(without_person), expect=1)
    assert "has label 'PERSON', which is not in the config's labels" in stale.stderr
    rerun = [
        record.model_copy(update={"spans": [s for s in record.spans if s.label != "PERSON"]}) for record in records
    ]
    source = write_jsonl(tmp_path / "v1-without-person.jsonl", rerun)
    refused = toolkit("push", str(source), "--config", str(without_person), expect=1)
    assert "`labels` drops PERSON" in refused.stderr and "Label Studio refuses the change" in refused.stderr
    assert "keep the labels annotations use in `labels`" in refused.stderr
    assert 'value="PERSON"' in client.projects.get(id=project.id).label_config


def test_wrong_api_key_is_a_clear_error(toolkit, title, tmp_path):
    source = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    secret = "wrong-key-" + uuid.uuid4().hex
    done = toolkit(
        "push",
        str(source),
        "--config",
        str(config_file(tmp_path, title)),
        env={"LABEL_STUDIO_API_KEY": secret},
        expect=1,
    )
    assert "refused the API key" in done.stderr and "LABEL_STUDIO_API_KEY" in done.stderr
    assert secret not in done.stdout + done.stderr


def test_an_article_over_the_request_size_limit_stops_before_anything_is_written(toolkit, client, title, tmp_path):
    records = articles("1.0")
    records[3] = PredictedArticle.model_validate({**records[3].model_dump(), "text": records[3].text + " word" * 400})
    source = write_jsonl(tmp_path / "v1.jsonl", records)
    config = config_file(tmp_path, title, push={"batch_size": 500, "max_request_mb": 0.001})
    done = toolkit("push", str(source), "--config", str(config), expect=1)
    assert "article 'art-3' alone is" in done.stderr and "over push.max_request_mb" in done.stderr
    assert "nothing was pushed" in done.stderr
    assert project_by_title(client, title) is None


def test_batches_are_cut_by_request_size(toolkit, client, title, tmp_path):
    source = write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))
    config = config_file(tmp_path, title, push={"batch_size": 500, "max_request_mb": 0.002})
    # Each task is ~0.5 kB: with a 2 kB limit a push needs several requests, and the
    # kill hook proves it: after the 3rd write (validate, create, first batch) only
    # part of the articles is in.
    toolkit("push", str(source), "--config", str(config), kill_at="after:3", expect=-signal.SIGKILL)
    project = project_by_title(client, title)
    landed = client.projects.get(id=project.id).task_number
    assert 0 < landed < len(PEOPLE)
    toolkit("push", str(source), "--config", str(config))
    assert_exactly_once(client, project.id, ["test-model-1.0"])


def test_a_lost_answer_is_checked_before_sending_again(server, client, title, monkeypatch):
    """The import lands but its answer is lost (a timeout): push looks, and sends nothing twice."""
    import httpx

    from toolkit.config import parse_config
    from toolkit.labelstudio import tasks as tasks_module
    from toolkit.push import pushing as push_module

    monkeypatch.setattr(tasks_module, "RETRY_WAIT_MIN", 0.1)
    monkeypatch.setattr(tasks_module, "RETRY_WAIT_MAX", 0.1)
    real_post = tasks_module.post_json
    sent = []

    def post_then_time_out(client_, path, body):
        answer = real_post(client_, path, body)
        sent.append(path)
        if len(sent) in (1, 3):  # the first and the third request land, but the client hears nothing
            raise httpx.ReadTimeout("timed out")
        return answer

    monkeypatch.setattr(tasks_module, "post_json", post_then_time_out)
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = title
    data["push"]["batch_size"] = 3
    result = push_module.push(articles("1.0"), config=parse_config(data), settings=server)
    assert result.tasks_created == len(PEOPLE)
    assert len(sent) == 3  # three batches, none sent twice
    assert_exactly_once(client, result.project_id, ["test-model-1.0"])


def test_a_refused_batch_is_reported_with_what_was_imported_before_it(server, client, title, monkeypatch):
    from toolkit.config import parse_config
    from toolkit.errors import ServerError
    from toolkit.labelstudio import tasks as tasks_module
    from toolkit.push import pushing as push_module

    real_post = tasks_module.post_json
    calls = []

    def refuse_the_second(client_, path, body):
        calls.append(path)
        if len(calls) == 2:
            raise ServerError("Label Studio answered 400 while trying to import tasks: bad batch", status=400)
        return real_post(client_, path, body)

    monkeypatch.setattr(tasks_module, "post_json", refuse_the_second)
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = title
    data["push"]["batch_size"] = 3
    config = parse_config(data)
    with pytest.raises(ServerError) as failure:
        push_module.push(articles("1.0"), config=config, settings=server)
    assert "so far this push imported 3 of 7 new tasks" in failure.value.message
    assert "run the same push again" in failure.value.hint
    assert len(calls) == 2  # a definite refusal is not retried

    monkeypatch.setattr(tasks_module, "post_json", real_post)
    result = push_module.push(articles("1.0"), config=config, settings=server)
    assert result.tasks_created == 4
    assert_exactly_once(client, result.project_id, ["test-model-1.0"])


def _unannotated_versions(client, project_id: int) -> dict[str, set[str]]:
    """Article id -> the model versions of its predictions, for every task nobody annotated."""
    tasks = {
        task.id: task.data["article_id"]
        for task in client.tasks.list(project=project_id, fields="all")
        if not (task.total_annotations or task.cancelled_annotations)
    }
    held: dict[str, set[str]] = {article_id: set() for article_id in tasks.values()}
    for prediction in client.predictions.list(project=project_id):
        if prediction.task in tasks:
            held[tasks[prediction.task]].add(prediction.model_version)
    return held


def test_a_new_version_for_some_tasks_only_keeps_the_projects_version_and_says_so(toolkit, client, title, tmp_path):
    """Label All Tasks shows only the project's model_version: a version pushed for some of
    the unannotated tasks keeps the old one (the others' suggestions stay visible), says
    which tasks show which, and moves the project once it covers them all."""
    config = config_file(tmp_path, title)
    v1, v2 = "test-model-1.0", "test-model-2.0"
    toolkit("push", str(write_jsonl(tmp_path / "v1.jsonl", articles("1.0"))), "--config", str(config))
    project = project_by_title(client, title)
    assert client.projects.get(id=project.id).model_version == v1
    # art-0 is annotated: it keeps what its annotator saw and does not count.
    (task,) = [t for t in client.tasks.list(project=project.id, fields="task_only") if t.data["article_id"] == "art-0"]
    client.annotations.create(id=task.id, result=[], was_cancelled=False)

    partial = write_jsonl(tmp_path / "v2-some.jsonl", articles("2.0")[:3])  # art-0 (annotated), art-1, art-2
    push = ["push", str(partial), "--config", str(config)]
    dry = toolkit(*push, "--dry-run")
    assert f"project model_version stays '{v1}', not '{v2}'" in " ".join(dry.stdout.split())
    done = toolkit(*push)
    flat = " ".join(done.stdout.split())
    assert "2 new prediction sets on existing tasks" in flat
    assert f"project model_version stays '{v1}', not '{v2}'" in flat
    assert f"suggestions of '{v1}' only (no '{v2}'): 4 articles (art-3, art-4, art-5, art-6)" in flat
    assert "model_version set to" not in flat
    assert client.projects.get(id=project.id).model_version == v1
    held = _unannotated_versions(client, project.id)
    assert set(held) == {f"art-{i}" for i in range(1, 7)}
    assert all(v1 in versions for versions in held.values())  # every unannotated task keeps a suggestion

    # The rest of the unannotated tasks get v2: the project moves to it.
    rest = write_jsonl(tmp_path / "v2-rest.jsonl", articles("2.0")[1:])
    done = toolkit("push", str(rest), "--config", str(config))
    assert f"model_version set to '{v2}'" in done.stdout
    assert client.projects.get(id=project.id).model_version == v2
    assert all(v2 in versions for versions in _unannotated_versions(client, project.id).values())

    # A new article alone with a third version: the project stays on v2, and the new task,
    # which has no v2 prediction, is named as showing no suggestions in Label All Tasks.
    newcomer = articles("3.0")[0].model_copy(update={"id": "art-new"})
    done = toolkit("push", str(write_jsonl(tmp_path / "v3.jsonl", [newcomer])), "--config", str(config))
    flat = " ".join(done.stdout.split())
    assert client.projects.get(id=project.id).model_version == v2
    assert "no 'test-model-2.0' prediction, so no suggestions in Label All Tasks" in flat
    assert "1 article (art-new)" in flat
