"""The loop closed, against a real Label Studio server and the real spaCy model.

pre-annotate synthetic news -> push -> annotators correct most tasks (through the SDK) ->
pull -> export -> train (fine-tune the configured en_core_web_md, two epochs) -> evaluate against the
base -> preannotate --model -> push: the tasks nobody annotated get the new model's
predictions, the annotated ones are left as they were, the project shows the new version.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy

from tests.unit.train.exports import articles, ids_in
from toolkit.config import load_config
from toolkit.labelstudio.labeling import result_items
from toolkit.records import Span

pytestmark = pytest.mark.integration

UNANNOTATED = 3


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def answers(client, task_id: int) -> list[tuple[int, str]]:
    """A task's annotations: ids and results, to see that nothing changed them."""
    return [(a.id, json.dumps(a.result, sort_keys=True, default=str)) for a in client.annotations.list(id=task_id)]


def test_train_evaluate_and_put_the_new_model_in_front_of_annotators(run_toolkit, project_config, client, tmp_path):
    # Which ids land in which split is computed from the fixture's config, with the
    # export's own split function, so the test holds for any shares it sets.
    cfg = load_config(project_config)
    chosen = ids_in("train", 18, cfg) + ids_in("validation", 3, cfg) + ids_in("test", 3, cfg)
    gold = {r["id"]: r for r in articles(max(chosen) + 1, seed=11) if int(r["id"].split("-")[1]) in chosen}
    with (tmp_path / "articles.jsonl").open("w") as handle:
        for record in gold.values():
            handle.write(json.dumps({"id": record["id"], "text": record["text"]}) + "\n")
    options = ["--config", str(project_config)]

    run_toolkit("preannotate", "articles.jsonl", *options, "--out", "predictions.jsonl", "--no-scores")
    run_toolkit("push", "predictions.jsonl", *options)
    title = __import__("yaml").safe_load(project_config.read_text())["project"]["title"]
    project = next(p for p in client.projects.list() if p.title == title)
    tasks = {task.data["article_id"]: task for task in client.tasks.list(project=project.id, fields="all")}
    assert len(tasks) == len(gold)

    # Annotators correct every task but a few training ones, which wait for the next model.
    waiting = sorted(ids_in("train", 18, cfg))[:UNANNOTATED]
    waiting_ids = {f"art-{n}" for n in waiting}
    for article_id, record in gold.items():
        if article_id in waiting_ids:
            continue
        spans = [Span(start=s["start"], end=s["end"], label=s["label"]) for s in record["spans"]]
        result = result_items(spans, record["text"], id_prefix="h")
        client.annotations.create(id=tasks[article_id].id, result=result, was_cancelled=False, lead_time=5.0)
    annotated_before = {article_id: answers(client, task.id) for article_id, task in tasks.items()}

    run_toolkit("pull", *options, "--out", "annotations.jsonl")
    run_toolkit("export", "annotations.jsonl", *options, "--out", "dataset")

    trained = run_toolkit("train", "dataset", *options, "--out", "models/news", "--epochs", "2", "--seed", "0")
    assert "Wrote models/news (model version en_news_ner-3.8.0+" in trained.stdout
    nlp = spacy.load(tmp_path / "models" / "news")
    meta = nlp.meta["toolkit"]
    assert meta["base"]["version"] == "3.8.0" and meta["training_data"]["version"] == "v1"
    assert meta["training_data"]["train_rows"] == 18 - UNANNOTATED
    version = f"en_{nlp.meta['name']}-{nlp.meta['version']}"
    assert (tmp_path / "models" / "news" / "TRAINING.md").is_file()

    evaluated = run_toolkit("evaluate", "base", "models/news", "--data", "dataset", *options, "--json")
    figures = json.loads(evaluated.stdout)
    assert figures["articles"] == 3 and [m["model"] for m in figures["models"]] == ["base", "models/news"]
    assert figures["models"][1]["model_version"] == version
    assert figures["comparisons"][0]["ci95"] is not None

    model = ["--model", "models/news"]
    run_toolkit("preannotate", "articles.jsonl", *options, *model, "--out", "new.jsonl", "--no-scores")
    assert {r["model"]["name"] + "-" + r["model"]["version"] for r in read_jsonl(tmp_path / "new.jsonl")} == {version}
    pushed = run_toolkit("push", "new.jsonl", *options)
    assert f"{UNANNOTATED} new prediction sets on existing tasks" in pushed.stdout
    assert f"{len(gold) - UNANNOTATED} annotated tasks kept as they are" in pushed.stdout
    version += " unscored"  # the prediction set's name says how it was scored
    assert f"project model_version set to {version!r}" in pushed.stdout

    assert client.projects.get(id=project.id).model_version == version
    held: dict[int, list[str]] = {}
    for prediction in client.predictions.list(project=project.id):
        held.setdefault(prediction.task, []).append(prediction.model_version)
    for article_id, task in tasks.items():
        versions = sorted(held[task.id])
        if article_id in waiting_ids:
            assert version in versions and len(versions) == 2
        else:
            assert len(versions) == 1 and version not in versions
            assert answers(client, task.id) == annotated_before[article_id]

    again = run_toolkit("push", "new.jsonl", *options)
    assert "0 new prediction sets on existing tasks" in again.stdout


def test_make_loop_runs_the_walkthrough_as_written(run_toolkit, project_config, client, server, tmp_path):
    """`make loop` itself (the README's walkthrough as a Makefile target), in a folder of its
    own, with the toolkit of this checkout: pull, export, train (promoted: PROMOTE=--promote),
    evaluate, preannotate with the project's current model, push, each with the Makefile's flags
    and paths. Then `make run`'s preannotate and push lines, as `make -n run` prints them
    (issue 28: they put the annotators back on the base model): the trained model stays."""
    import os
    import shutil
    import subprocess
    import sys

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    cfg = load_config(project_config)
    chosen = ids_in("train", 14, cfg) + ids_in("validation", 3, cfg) + ids_in("test", 3, cfg)
    gold = {r["id"]: r for r in articles(max(chosen) + 1, seed=13) if int(r["id"].split("-")[1]) in chosen}
    (tmp_path / "articles.jsonl").write_text(
        "".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in gold.values())
    )
    options = ["--config", str(project_config)]
    run_toolkit("preannotate", "articles.jsonl", *options, "--out", "predictions.jsonl", "--no-scores")
    run_toolkit("push", "predictions.jsonl", *options)
    title = __import__("yaml").safe_load(project_config.read_text())["project"]["title"]
    project = next(p for p in client.projects.list() if p.title == title)
    tasks = {task.data["article_id"]: task for task in client.tasks.list(project=project.id, fields="all")}
    waiting = {f"art-{n}" for n in sorted(ids_in("train", 14, cfg))[:UNANNOTATED]}
    for article_id, record in gold.items():
        if article_id not in waiting:
            spans = [Span(start=s["start"], end=s["end"], label=s["label"]) for s in record["spans"]]
            result = result_items(spans, record["text"], id_prefix="h")
            client.annotations.create(id=tasks[article_id].id, result=result, was_cancelled=False, lead_time=5.0)

    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key.get_secret_value()}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    # `-o .venv/.installed`: the set-up step (a venv of its own) is not redone; TOOLKIT is
    # this interpreter's toolkit. Everything else is the Makefile's.
    command = ["make", "-f", str(root / "Makefile"), "-o", ".venv/.installed", "loop"]
    toolkit = [f"TOOLKIT={sys.executable} -m toolkit", f"CONFIG={project_config}"]
    command += [*toolkit, "INPUT=articles.jsonl", "PROMOTE=--promote"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert server.api_key.get_secret_value() not in output
    nlp = spacy.load(tmp_path / "models" / "news-ner")
    # The loop pre-annotates with scores on: the unscored stream moves to them whole (every waiting task).
    model = f"en_{nlp.meta['name']}-{nlp.meta['version']}"  # what the registry names
    version = f"{model} beam{cfg.spacy.beam_width}"  # the prediction set: the model and its scoring
    assert nlp.meta["toolkit"]["training_data"]["train_rows"] == 14 - UNANNOTATED
    assert (tmp_path / "build" / "evaluate.html").is_file()
    assert f"{UNANNOTATED} new prediction sets on existing tasks" in output
    assert f"project model_version set to {version!r}" in output
    assert client.projects.get(id=project.id).model_version == version
    assert "Promoted (forced by --promote" in output or "Promoted: " in output
    assert f"* {model}: trained on" in output  # `toolkit models list`, the current model marked

    # `make run` again, as its last line advises: its preannotate and push lines, run as written
    # (`labelstudio up` and the rest are left out: the test server is up already).
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "articles.jsonl").write_text((tmp_path / "articles.jsonl").read_text())
    planned = subprocess.run(
        ["make", "-n", "-f", str(root / "Makefile"), "-o", ".venv/.installed", "run", *toolkit],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    lines = [line for line in planned if " -m toolkit preannotate " in line or " -m toolkit push " in line]
    assert len(lines) == 2, planned
    for line in lines:
        done = subprocess.run(line, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        if " preannotate " in line:
            assert "the current model of project" in done.stdout
    records = read_jsonl(tmp_path / "build" / "predictions.jsonl")
    assert {r["model"]["name"] + "-" + r["model"]["version"] for r in records} == {model}
    assert "project model_version set to" not in done.stdout
    assert client.projects.get(id=project.id).model_version == version

    # The first (base model's) predictions pushed again: refused, the project untouched,
    # unless told; then it says so.
    refused = run_toolkit("push", "predictions.jsonl", *options, expect=1)
    assert f"shows its current model {model!r}" in refused.stderr and "--allow-model-rollback" in refused.stderr
    assert client.projects.get(id=project.id).model_version == version
    told = run_toolkit("push", "predictions.jsonl", *options, "--allow-model-rollback")
    assert f"moved off the project's current model {model!r} as told" in told.stdout
    assert client.projects.get(id=project.id).model_version != version
