"""A Data Manager people can scan (issue 30), on a real server: every task has a title, and
no column repeats another; the exported dataset's title stays the article's own."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest
import yaml

from toolkit.config import load_config
from toolkit.labelstudio.client import get_json
from toolkit.labelstudio.labeling import labeling_config, text_sha256
from toolkit.records import ModelInfo, PredictedArticle

pytestmark = pytest.mark.integration

MODEL = ModelInfo(name="test-model", version="1")
MARKETS = "Oil prices rose on Tuesday in London after the cartel said it would cut output."
RATES = "The central bank in Frankfurt raised rates again on Thursday."
OLD = "An article pushed before tasks had titles mentions Berlin."


def write_predictions(path: Path) -> None:
    records = [
        # A .txt input in the seed layout: no headline, so the file name is shown.
        PredictedArticle(id="markets", text=MARKETS, source="/in/2024-03-01-markets.txt", model=MODEL, spans=[]),
        PredictedArticle(
            id="rates", text=RATES, title="Rates rise again", source="/in/rates.txt", model=MODEL, spans=[]
        ),
        PredictedArticle(id="old", text=OLD, source="/in/old.txt", model=MODEL, spans=[]),
    ]
    path.write_text("".join(json.dumps(r.model_dump(mode="json", exclude_none=True)) + "\n" for r in records))


def test_every_task_has_a_title_and_the_dataset_keeps_the_true_one(run_toolkit, client, project_config, tmp_path):
    config = ["--config", str(project_config)]
    title = yaml.safe_load(project_config.read_text())["project"]["title"]
    # The project already holds a task pushed before this change: an empty title, its own id as group.
    project = client.projects.create(title=title, label_config=labeling_config(load_config(project_config)))
    old_data = {
        "text": OLD,
        "article_id": "old",
        "title": "",
        "date": "",
        "source": "/in/old.txt",
        "text_sha256": text_sha256(OLD),
        "group": "old",
    }
    client.projects.import_tasks(id=project.id, request=[{"data": old_data}])
    write_predictions(tmp_path / "predictions.jsonl")

    pushed = run_toolkit("push", "predictions.jsonl", *config)
    assert "2 new tasks" in pushed.stdout, pushed.stdout
    tasks = {task.data["article_id"]: task for task in client.tasks.list(project=project.id, fields="all")}
    assert sorted(tasks) == ["markets", "old", "rates"]  # the old task is not sent again for its new shape
    assert tasks["old"].data == old_data  # and left as it was
    assert tasks["markets"].data["title"] == "2024-03-01-markets"
    assert tasks["rates"].data["title"] == "Rates rise again"
    # Articles without near-duplicates: no group column repeating article_id, no copy_of.
    assert not {"group", "copy_of"} & (set(tasks["markets"].data) | set(tasks["rates"].data))
    meta = {key: get_json(client, f"api/tasks/{tasks[key].id}/", {}).get("meta") for key in ("markets", "rates")}
    assert meta["markets"] == {"title_from": "file name"} and not meta["rates"]

    for key in ("markets", "rates", "old"):
        client.annotations.create(id=tasks[key].id, result=[], was_cancelled=False)
    run_toolkit("pull", *config, "--out", "annotations.jsonl")
    run_toolkit("export", "annotations.jsonl", *config, "--out", "dataset")
    dataset = datasets.load_from_disk(str(tmp_path / "dataset" / "v1"))
    rows = {row["id"]: row for split in dataset.values() for row in split}
    # The file name was only shown: the article has no title, and the dataset says so.
    assert {key: rows[key]["title"] for key in rows} == {"markets": None, "rates": "Rates rise again", "old": None}
