"""Corrections refit the calibration, and the next push carries the new scores: against a real Label
Studio server, with a small model trained here (en_core_web_sm fine-tuned for one epoch).

The project's current model pre-annotates with scores -> push -> annotators correct most tasks
(through the SDK), some spans dropped or relabelled -> pull refits the model's calibration ->
preannotate names the new calibration in its records' scoring -> push: a new prediction set of
the same model on the tasks nobody annotated, the project's model_version moved to it, the
annotated tasks left as they were, and the stream serving the new scores, one kind only.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import LIGHT_MODEL
from tests.integration.test_stream_order import Annotator, headers_of, project_of
from tests.integration.test_train_loop import answers, read_jsonl
from tests.unit.train.exports import articles, ids_in, write_export
from toolkit.config import load_config
from toolkit.labelstudio.labeling import result_items
from toolkit.nlp import calibration
from toolkit.records import Span

pytestmark = pytest.mark.integration

PROJECT_ARTICLES = 14
WAITING = 4  # tasks nobody annotates: they get the refitted scores


def corrected(record: dict, number: int) -> list[Span]:
    """What the annotator keeps of an article: its spans, an ORG dropped in one of three and
    the first span relabelled in one of four, so that the decisions are not all alike."""
    spans = [dict(span) for span in record["spans"] if number % 3 or span["label"] != "ORG"]
    if number % 4 == 0 and spans:
        spans[0]["label"] = "ORG" if spans[0]["label"] != "ORG" else "GPE"
    return [Span(start=s["start"], end=s["end"], label=s["label"]) for s in spans]


def test_corrections_refit_the_calibration_and_the_next_push_carries_the_new_scores(
    run_toolkit, project_config, client, server, tmp_path
):
    """About 45 s on 2 cores: one epoch of en_core_web_sm on 22 short articles, six commands."""
    data = yaml.safe_load(project_config.read_text())
    data["spacy"]["model"] = LIGHT_MODEL
    project_config.write_text(yaml.safe_dump(data))
    cfg = load_config(project_config)
    options = ["--config", str(project_config)]

    # The project's current model: trained here and promoted; train fits its first calibration
    # on the validation split's decisions.
    validation = ids_in("validation", 4, cfg)
    chosen = set(ids_in("train", 16, cfg) + validation + ids_in("test", 2, cfg))
    training = [r for r in articles(max(chosen) + 1, seed=3) if int(r["id"].split("-")[1]) in chosen]
    for record in training:  # the validation split's annotators left out the ORGs: a calibration to fit
        if int(record["id"].split("-")[1]) in validation:
            record["spans"] = record["annotations"][0]["spans"] = [s for s in record["spans"] if s["label"] != "ORG"]
    write_export(tmp_path, training, cfg, name="dataset")
    args = ("--base", "model", "--out", "models/news", "--epochs", "1", "--seed", "0", "--promote")
    trained = run_toolkit("train", "dataset", *options, *args)
    assert "Promoted (forced by --promote" in trained.stdout

    # Articles the model never saw, pre-annotated with scores and pushed.
    gold = {r["id"]: r for r in articles(PROJECT_ARTICLES, seed=21, prefix="new")}
    (tmp_path / "articles.jsonl").write_text(
        "".join(json.dumps({"id": r["id"], "text": r["text"]}) + "\n" for r in gold.values())
    )
    run_toolkit("preannotate", "articles.jsonl", *options, "--out", "first.jsonl")
    first = {r["id"]: r for r in read_jsonl(tmp_path / "first.jsonl")}
    (model,) = {f"{r['model']['name']}-{r['model']['version']}" for r in first.values()}
    (old_scoring,) = {r["model"]["scoring"] for r in first.values()}
    assert old_scoring.startswith(f"beam{cfg.spacy.beam_width}+cal-")  # train's calibration
    old_id = old_scoring.split("+", 1)[1]
    old_version = f"{model} {old_scoring}"
    run_toolkit("push", "first.jsonl", *options)
    project = project_of(client, project_config)
    assert project.model_version == old_version
    tasks = {task.data["article_id"]: task for task in client.tasks.list(project=project.id, fields="all")}
    assert len(tasks) == PROJECT_ARTICLES

    # Annotators correct all but a few tasks.
    waiting = set(sorted(gold)[:WAITING])
    for number, (article_id, record) in enumerate(sorted(gold.items())):
        if article_id not in waiting:
            result = result_items(corrected(record, number), record["text"], id_prefix="h")
            client.annotations.create(id=tasks[article_id].id, result=result, was_cancelled=False, lead_time=5.0)
    annotated_before = {article_id: answers(client, task.id) for article_id, task in tasks.items()}

    # The pull refits the current model's calibration on those decisions, and says so.
    pulled = run_toolkit("pull", *options, "--out", "annotations.jsonl")
    flat = " ".join(pulled.stdout.split())
    assert f"calibration of {model} refitted on " in flat, pulled.stdout
    new_id = flat.split(f"calibration of {model} refitted on ", 1)[1].split(": id ", 1)[1].split()[0]
    assert new_id.startswith("cal-") and new_id != old_id and f"(was {old_id})" in flat
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())
    (entry,) = [m for m in registry["projects"][cfg.project.title]["models"] if m["version"] == model]
    assert calibration.load(Path(entry["path"])).calibration_id == new_id
    # The calibration that scored the pushed predictions stays beside it.
    history = Path(entry["path"]) / calibration.HISTORY_DIR / f"{old_id}.json"
    assert history.is_file()

    # The next pre-annotation scores through it: its fingerprint names the new calibration.
    run_toolkit("preannotate", "articles.jsonl", *options, "--out", "second.jsonl")
    second = {r["id"]: r for r in read_jsonl(tmp_path / "second.jsonl")}
    new_scoring = f"beam{cfg.spacy.beam_width}+{new_id}"
    assert {r["model"]["scoring"] for r in second.values()} == {new_scoring}
    assert [second[i]["spans"] for i in waiting] != [first[i]["spans"] for i in waiting]  # new span scores
    new_version = f"{model} {new_scoring}"

    pushed = run_toolkit("push", "second.jsonl", *options)
    flat = " ".join(pushed.stdout.split())
    assert f"{WAITING} new prediction sets on existing tasks" in flat
    assert f"{PROJECT_ARTICLES - WAITING} annotated tasks kept as they are" in flat
    assert f"project model_version set to {new_version!r}" in flat
    assert project_of(client, project_config).model_version == new_version

    # The waiting tasks hold both sets of the one model, the new with the new scores; the
    # annotated ones only the first set, and their answers as they were.
    held: dict[int, dict[str, object]] = {}
    for prediction in client.predictions.list(project=project.id):
        held.setdefault(prediction.task, {})[prediction.model_version] = prediction
    for article_id, task in tasks.items():
        if article_id in waiting:
            assert sorted(held[task.id]) == sorted([old_version, new_version])
            fresh = held[task.id][new_version]
            assert fresh.score == second[article_id]["score"]
            region_scores = [item["score"] for item in fresh.result if "score" in item]
            assert region_scores == [s["score"] for s in second[article_id]["spans"] if "score" in s]
        else:
            assert list(held[task.id]) == [old_version]
        assert answers(client, task.id) == annotated_before[article_id]

    # The stream, as "Label All Tasks" serves it: the waiting tasks, each with the new set's
    # prediction alone, lowest new score first (ties in task order).
    invite = httpx.get(f"{server.url}/api/invite", headers=headers_of(client), timeout=30)
    invite.raise_for_status()
    annotator = Annotator(server.url, invite.json()["token"])
    served = []
    while (task := annotator.next_task(project.id)) is not None:
        assert [p["model_version"] for p in task["predictions"]] == [new_version]
        served.append((task["data"]["article_id"], task["predictions"][0]["score"]))
        annotator.submit(task["id"])
    assert sorted(article_id for article_id, _ in served) == sorted(waiting)
    assert [score for _, score in served] == sorted(second[article_id]["score"] for article_id in waiting)
