"""toolkit report on the pull of a real loop: real Label Studio server, real spaCy model.

Two annotators accept the predictions of one task unchanged; one of them relabels a
span and deletes another in a second task and skips a third. The report must see the
progress, the lead times, full agreement on the shared task and, when pull carries the
predictions, exactly those edits.
"""

from __future__ import annotations

import copy
import json
import shutil
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ACCEPTED, EDITED, SKIPPED = "002_chip_plant.txt", "004_flood_relief.txt", "003_marathon.txt"


def test_report_on_a_real_pull(run_toolkit, project_config, client, tmp_path):
    config = ["--config", str(project_config)]
    samples = tmp_path / "samples"
    samples.mkdir()
    for name in (ACCEPTED, EDITED, SKIPPED):
        shutil.copy(ROOT / "samples" / name, samples / name)
    run_toolkit("preannotate", str(samples), *config, "--out", "predictions.jsonl")
    run_toolkit("push", "predictions.jsonl", *config)

    project = next(p for p in client.projects.list() if p.title == _title(project_config))
    tasks = {Path(task.data["source"]).name: task for task in client.tasks.list(project=project.id, fields="all")}
    second = client.users.create(username=f"second-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")

    (accepted_prediction,) = tasks[ACCEPTED].predictions
    client.annotations.create(
        id=tasks[ACCEPTED].id, result=accepted_prediction.result, was_cancelled=False, lead_time=3.0
    )
    client.annotations.create(
        id=tasks[ACCEPTED].id,
        result=accepted_prediction.result,
        was_cancelled=False,
        lead_time=5.0,
        completed_by=second.id,
    )
    (edited_prediction,) = tasks[EDITED].predictions
    assert len(edited_prediction.result) >= 3
    result = copy.deepcopy(edited_prediction.result[:-1])  # the last span deleted
    old_label = result[0]["value"]["labels"][0]
    result[0]["value"]["labels"] = ["EVENT" if old_label != "EVENT" else "ORG"]  # the first relabelled
    client.annotations.create(id=tasks[EDITED].id, result=result, was_cancelled=False, lead_time=20.0)
    client.annotations.create(id=tasks[SKIPPED].id, result=[], was_cancelled=True)

    run_toolkit("pull", *config, "--out", "annotations.jsonl")
    done = run_toolkit("report", "annotations.jsonl", *config, "--json", "--html", "exports/news-ner/report.html")
    report = json.loads(done.stdout)
    assert "Wrote the HTML report to exports/news-ner/report.html" in done.stderr
    assert (tmp_path / "exports" / "news-ner" / "report.html").read_text().startswith("<!doctype html>")

    assert report["progress"]["annotated"] == 2
    rows = sorted(report["annotators"], key=lambda row: row["tasks"])
    assert [(row["tasks"], row["median_lead_time"]) for row in rows] == [(1, 5.0), (2, (3.0 + 20.0) / 2)]

    agreement = report["agreement"]
    assert (agreement["status"], agreement["tasks"], agreement["annotators"], agreement["pairs"]) == ("ok", 1, 2, 1)
    overall = agreement["per_label"][-1]
    assert overall["label"] == "overall"
    assert overall["span_f1"] == overall["cohen_kappa"] == overall["krippendorff_alpha"] == 1.0

    records = [json.loads(line) for line in (tmp_path / "annotations.jsonl").read_text().splitlines()]
    source = "annotations.jsonl"
    if not any(record.get("predictions") for record in records):
        # A pull that does not carry the predictions yet: the report says there is nothing
        # to compare, and the predictions are added here the way pull records them.
        assert report["model"]["status"] == "not enough data"
        predicted_articles = {
            r["id"]: r for r in map(json.loads, (tmp_path / "predictions.jsonl").read_text().splitlines())
        }
        with (tmp_path / "with-predictions.jsonl").open("w") as handle:
            for record in records:
                article = predicted_articles[record["id"]]
                version = f"{article['model']['name']}-{article['model']['version']}"
                record["predictions"] = [{"model_version": version, "spans": article["spans"]}]
                handle.write(json.dumps(record) + "\n")
        source = "with-predictions.jsonl"
    model = json.loads(run_toolkit("report", source, *config, "--json").stdout)["model"]
    # Every predicted span accepted but the two edited.
    predicted = len(accepted_prediction.result) + len(edited_prediction.result)
    assert model["edits"] == {
        "accepted unchanged": predicted - 2,
        "boundary fixed": 0,
        "relabelled": 1,
        "deleted": 1,
        "added": 0,
    }
    exact = model["exact_span"][-1]
    assert (exact["true_positives"], exact["predicted"], exact["gold"]) == (predicted - 2, predicted, predicted - 1)
    assert model["strict_iob2"][-1]["true_positives"] == predicted - 2


def _title(config_path: Path) -> str:
    import yaml

    return yaml.safe_load(config_path.read_text())["project"]["title"]
