"""`toolkit pull --from-raw`: the whole pull pipeline on a kept raw export, without a server."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.records import AnnotatedArticle, LedgerEntry

TEXT = "😀 Angela Merkel visited Paris.\r\nThen Berlin."


def labels(start, end, label, text=None, origin="manual"):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"type": "labels", "from_name": "label", "to_name": "text", "value": value, "origin": origin}


TASKS = [
    {
        "id": 1,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z",
        "data": {"text": TEXT, "article_id": "a1"},
        "annotations": [
            {
                "id": 10,
                "completed_by": 1,
                "was_cancelled": False,
                "updated_at": "2026-01-02T00:00:00Z",
                "lead_time": 5.0,
                "result": [
                    labels(2, 15, "PERSON", "Angela Merkel", "prediction"),
                    labels(24, 29, "GPE", "Paris"),
                    labels(36, 42, "GPE", "Berlin"),
                    labels(0, 1, "WEAPON"),
                ],
                "parent_prediction": 7,
            },
            {"id": 11, "completed_by": 2, "was_cancelled": True, "updated_at": "2026-01-02T00:00:00Z", "result": []},
        ],
        "drafts": [{"id": 3, "user": "x@example.com", "created_username": "x@example.com, 2", "result": []}],
        "predictions": [{"id": 7, "model_version": "spacy-1", "result": [labels(2, 15, "PERSON")]}],
    },
    {
        "id": 2,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "data": {"text": "Nothing here."},
        "annotations": [],
        "drafts": [],
        "predictions": [],
    },
]


def write_raw(folder: Path, tasks, *, sha: str | None = None) -> Path:
    body = json.dumps(tasks, ensure_ascii=False).encode()
    raw = folder / "20260101T000000000Z.json.gz"
    with gzip.open(raw, "wb") as handle:
        handle.write(body)
    manifest = {
        "server": "http://127.0.0.1:8080",
        "project": {"id": 5},
        "export": {"sha256": sha or hashlib.sha256(body).hexdigest()},
    }
    (folder / "20260101T000000000Z.manifest.json").write_text(json.dumps(manifest))
    return raw


@pytest.fixture
def config_path(tmp_path):
    data = yaml.safe_load((Path(__file__).resolve().parents[3] / "configs" / "news-ner.yaml").read_text())
    data["pull"]["secret_file"] = str(tmp_path / "secret")
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_pull_from_raw_prints_totals_and_writes_output_and_ledger(tmp_path, config_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_ANNOTATOR_SECRET", raising=False)
    raw = write_raw(tmp_path, TASKS)
    out = tmp_path / "annotations.jsonl"
    result = CliRunner().invoke(app, ["pull", "--config", str(config_path), "--out", str(out), "--from-raw", str(raw)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 annotated article with 3 spans" in result.output
    assert "1 not annotated" in result.output and "1 skipped, 1 draft (not used)" in result.output
    assert "spans dropped: label not in the config 1" in result.output
    assert "spans repaired: offsets counted CRLF as one character 1" in result.output
    assert "manifest does not name its project: not checked against the config" in result.output
    (record,) = [AnnotatedArticle.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [(s.text, s.origin) for s in record.spans] == [
        ("Angela Merkel", "prediction"),
        ("Paris", "manual"),
        ("Berlin", "manual"),
    ]
    assert record.annotations[0].model_version == "spacy-1" and record.drafts == 1 and len(record.skipped_by) == 1
    assert record.predictions[0].model_version == "spacy-1"
    ledger = [
        LedgerEntry.model_validate_json(line)
        for line in (tmp_path / "annotations.ledger.jsonl").read_text().splitlines()
    ]
    assert sorted(e.kind for e in ledger) == [
        "annotation_draft",
        "annotation_skipped",
        "span_dropped",
        "span_repaired",
        "task_not_annotated",
    ]
    assert "example.com" not in out.read_text() + (tmp_path / "annotations.ledger.jsonl").read_text()

    as_json = CliRunner().invoke(
        app, ["pull", "--config", str(config_path), "--out", str(out), "--from-raw", str(raw), "--json"]
    )
    summary = json.loads(as_json.stdout)
    assert summary["counts"]["records"] == 1 and summary["counts"]["spans_in"] == 4 and summary["project_id"] == 5


def test_pull_from_raw_refuses_a_raw_pull_that_does_not_match_its_manifest(tmp_path, config_path):
    raw = write_raw(tmp_path, TASKS, sha="0" * 64)
    result = CliRunner().invoke(
        app, ["pull", "--config", str(config_path), "--out", str(tmp_path / "o.jsonl"), "--from-raw", str(raw)]
    )
    assert result.exit_code == 1
    assert "does not match the sha256 of its manifest" in result.output and not (tmp_path / "o.jsonl").exists()


def test_pull_from_a_broken_raw_export_is_a_clear_error(tmp_path, config_path):
    body = b'[{"id": 1, "data": {"text": "x"}}, {"id": '
    raw = tmp_path / "broken.json.gz"
    with gzip.open(raw, "wb") as handle:
        handle.write(body)
    (tmp_path / "broken.manifest.json").write_text(json.dumps({"export": {"sha256": hashlib.sha256(body).hexdigest()}}))
    result = CliRunner().invoke(
        app, ["pull", "--config", str(config_path), "--out", str(tmp_path / "o.jsonl"), "--from-raw", str(raw)]
    )
    assert result.exit_code == 1 and "the export is not valid JSON" in result.output
    assert not (tmp_path / "o.jsonl").exists()


def test_a_raw_pull_kept_without_decisions_says_its_disputes_take_the_policys_answer(tmp_path, config_path):
    """Issue 27: a raw pull kept by a version that did not keep the review project's decisions."""
    disputed = {
        "id": 3,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-02T00:00:00Z",
        "data": {"text": "Angela Merkel visited Paris.", "article_id": "a3"},
        "annotations": [
            {"id": 30, "completed_by": 1, "updated_at": "2026-01-02T00:00:00Z", "result": [labels(22, 27, "GPE")]},
            {"id": 31, "completed_by": 2, "updated_at": "2026-01-02T00:00:00Z", "result": [labels(22, 27, "LOC")]},
        ],
        "drafts": [],
        "predictions": [],
    }
    raw = write_raw(tmp_path, [disputed])
    result = CliRunner().invoke(
        app, ["pull", "--config", str(config_path), "--out", str(tmp_path / "o.jsonl"), "--from-raw", str(raw)]
    )
    assert result.exit_code == 0, result.output
    assert "kept without the review project's decisions" in result.output
    assert "1 disputed article takes the policy's answer here" in " ".join(result.output.split())


def test_pull_prints_span_counts_that_add_up(tmp_path, config_path, monkeypatch):
    monkeypatch.delenv("TOOLKIT_ANNOTATOR_SECRET", raising=False)
    raw = write_raw(tmp_path, TASKS)
    out = tmp_path / "annotations.jsonl"
    result = CliRunner().invoke(app, ["pull", "--config", str(config_path), "--out", str(out), "--from-raw", str(raw)])
    assert result.exit_code == 0, result.output
    assert "Wrote 1 annotated article with 3 spans" in result.output
    assert "  spans: 4 spans in submitted annotations = 3 used + 1 dropped + 0 in annotations not chosen; " in (
        result.output
    )
