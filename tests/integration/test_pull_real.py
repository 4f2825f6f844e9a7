"""Pull against a real Label Studio server: every human decision accounted for.

Tasks are imported and annotated through the SDK as annotators would leave them
(skips, drafts, empty answers, a second annotator who disagrees, texts with characters
outside the BMP and CRLF line ends), then the real ``toolkit pull`` runs in a subprocess.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml

from tests import faults
from toolkit.config import load_config
from toolkit.labelstudio.labeling import labeling_config

pytestmark = pytest.mark.integration

EMOJI_TEXT = "🚀 Rocket Lab 🇳🇿 launched from Mahia; Team 🚀 Alpha cheered in Auckland."
CRLF_TEXT = "Storm hits coast.\r\nResidents of Dover fled.\r\nThe Met Office warned Kent."
PLAIN = {
    "two": "Angela Merkel met Emmanuel Macron in Paris.",
    "skip": "Nothing to see in this sentence about Berlin.",
    "empty": "The weather was fine all week.",
    "none": "Olaf Scholz spoke in Hamburg.",
    "draft": "Reuters reported from Tokyo.",
    "gone": "A task that will be deleted mentions Rome.",
}


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def span(
    text: str, needle: str, label: str, *, origin: str = "manual", offset_text: str | None = None, occurrence: int = 0
):
    """A result item; ``offset_text`` counts offsets in another rendering of the text (a buggy client)."""
    base = offset_text if offset_text is not None else text
    start = -1
    for _ in range(occurrence + 1):
        start = base.index(needle, start + 1)
    return {
        "id": uuid.uuid4().hex[:8],
        "from_name": "label",
        "to_name": "text",
        "type": "labels",
        "origin": origin,
        "value": {"start": start, "end": start + len(needle), "text": needle, "labels": [label]},
    }


def utf16_index(text: str, needle: str) -> int:
    return len(text[: text.index(needle)].encode("utf-16-le")) // 2


@pytest.fixture
def runner(server, tmp_path):
    base_env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key.get_secret_value()}
    base_env.pop("TOOLKIT_DEBUG", None)
    base_env.pop("TOOLKIT_ANNOTATOR_SECRET", None)

    def run(*args: str, expect: int = 0, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        toolkit, environment = faults.command({**base_env, **(env or {})})  # the fault launcher when env asks
        done = subprocess.run(
            [*toolkit, *args],
            cwd=tmp_path,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == expect, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert server.api_key.get_secret_value() not in done.stdout + done.stderr
        return done

    return run


@pytest.fixture
def project(client, project_config):
    """A project with the config's labels and tasks, each with a model prediction."""
    config = load_config(project_config)
    created = client.projects.create(title=config.project.title, label_config=labeling_config(config))
    texts = {"emoji": EMOJI_TEXT, "crlf": CRLF_TEXT, **PLAIN}
    payload = [
        {
            "data": {"text": text, "article_id": key, "title": key, "date": "", "source": ""},
            "predictions": [
                {"model_version": "spacy-test-1", "result": [span(text, text.split()[1], "ORG", origin="prediction")]}
            ],
        }
        for key, text in texts.items()
    ]
    response = client.projects.import_tasks(id=created.id, request=payload, return_task_ids=True)
    client.projects.update(id=created.id, model_version="spacy-test-1")
    ids = dict(zip(texts, response.task_ids))
    return {"id": created.id, "tasks": ids, "texts": texts}


@pytest.fixture(scope="session")
def second_user(client):
    name = f"annotator-{uuid.uuid4().hex[:8]}"
    return client.users.create(username=name, email=f"{name}@example.com", password=uuid.uuid4().hex)


def with_pull(config_path: Path, tmp_path: Path, name: str, **pull) -> str:
    data = yaml.safe_load(config_path.read_text())
    data["pull"] = {**data.get("pull", {}), **pull}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def make_draft(client, task_id: int, result: list) -> None:
    from toolkit.labelstudio.client import post_json

    # The SDK has no call for drafts; post_json raises on an error answer.
    post_json(client, f"api/tasks/{task_id}/drafts", json.dumps({"result": result, "lead_time": 4}).encode())


def test_every_decision_is_accounted_for(runner, server, client, project, project_config, second_user, tmp_path):
    tasks, texts = project["tasks"], project["texts"]
    # Emoji before and inside spans, offsets in code points; one span sent in UTF-16 units.
    emoji_start = utf16_index(EMOJI_TEXT, "Auckland")
    auckland = span(EMOJI_TEXT, "Auckland", "GPE")
    auckland["value"].update(start=emoji_start, end=emoji_start + len("Auckland"))
    emoji_result = [
        span(EMOJI_TEXT, "Rocket Lab", "ORG", origin="prediction"),
        span(EMOJI_TEXT, "Mahia", "GPE"),
        span(EMOJI_TEXT, "Team 🚀 Alpha", "ORG", origin="prediction-changed"),
        auckland,
    ]
    client.annotations.create(id=tasks["emoji"], result=emoji_result, was_cancelled=False, lead_time=7.5)
    # CRLF: one span right, one counted as if CRLF were one character, one padded with whitespace.
    crlf_result = [
        span(CRLF_TEXT, "Dover", "GPE"),
        span(CRLF_TEXT, "Kent", "GPE", offset_text=CRLF_TEXT.replace("\r\n", "\n")),
    ]
    padded = span(CRLF_TEXT, "Met Office", "ORG")
    padded["value"].update(start=padded["value"]["start"] - 1, text=" Met Office")
    crlf_result.append(padded)
    client.annotations.create(id=tasks["crlf"], result=crlf_result, was_cancelled=False)
    # Skipped only; an empty answer; a draft only; a label not in the config; a span outside the text.
    client.annotations.create(id=tasks["skip"], result=[], was_cancelled=True)
    client.annotations.create(id=tasks["empty"], result=[], was_cancelled=False)
    make_draft(client, tasks["draft"], [span(texts["draft"], "Tokyo", "GPE")])
    broken = span(texts["two"], "Paris", "GPE")
    broken["value"].update(start=200, end=205, text="Xyzzy")
    two = [span(texts["two"], "Angela Merkel", "PERSON"), span(texts["two"], "Macron", "WEAPON"), broken]
    client.annotations.create(id=tasks["two"], result=two, was_cancelled=False)
    client.annotations.create(id=tasks["two"], result=[], was_cancelled=True, completed_by=second_user.id)

    done = runner("pull", "--config", str(project_config), "--out", "annotations.jsonl")
    assert "Wrote 4 annotated articles with 8 spans" in done.stdout
    assert "1 only skipped" in done.stdout and "1 draft (not used)" in done.stdout
    records = {r["id"]: r for r in read_jsonl(tmp_path / "annotations.jsonl")}
    assert set(records) == {"emoji", "crlf", "empty", "two"}

    emoji = records["emoji"]
    assert [(s["text"], s["label"], s["origin"]) for s in emoji["spans"]] == [
        ("Rocket Lab", "ORG", "prediction"),
        ("Mahia", "GPE", "manual"),
        ("Team 🚀 Alpha", "ORG", "prediction-changed"),
        ("Auckland", "GPE", "manual"),
    ]
    assert all(EMOJI_TEXT[s["start"] : s["end"]] == s["text"] for s in emoji["spans"])
    assert emoji["text"] == EMOJI_TEXT
    (annotation,) = emoji["annotations"]
    assert annotation["lead_time"] == 7.5 and annotation["model_version"] == "spacy-test-1"
    assert all(
        s["annotator"] == annotation["annotator"] and s["annotation_id"] == annotation["id"] for s in emoji["spans"]
    )
    assert emoji["predictions"][0]["model_version"] == "spacy-test-1"

    crlf = records["crlf"]
    assert crlf["text"] == CRLF_TEXT
    assert [(CRLF_TEXT[s["start"] : s["end"]], s["label"]) for s in crlf["spans"]] == [
        ("Dover", "GPE"),
        ("Met Office", "ORG"),
        ("Kent", "GPE"),
    ]
    assert records["empty"]["spans"] == [] and len(records["empty"]["annotations"]) == 1
    assert [s["text"] for s in records["two"]["spans"]] == ["Angela Merkel"]
    assert len(records["two"]["skipped_by"]) == 1 and records["two"]["skipped_by"][0].startswith("ann-")

    ledger = read_jsonl(tmp_path / "annotations.ledger.jsonl")
    kinds = {(e["kind"], e["article_id"], e["reason"]) for e in ledger}
    assert ("task_only_skipped", "skip", "every annotation was skipped (1)") in kinds
    assert ("task_not_annotated", "none", "no submitted annotation: not human data") in kinds
    assert ("task_not_annotated", "draft", "no submitted annotation: not human data") in kinds
    assert ("annotation_draft", "draft", "a draft, never submitted: not used") in kinds
    assert ("span_dropped", "two", "label not in the config") in kinds
    assert ("span_dropped", "two", "offsets outside the text") in kinds
    assert ("span_repaired", "emoji", "offsets were UTF-16 code units") in kinds
    assert ("span_repaired", "crlf", "offsets counted CRLF as one character") in kinds
    assert ("span_repaired", "crlf", "whitespace trimmed") in kinds
    assert sum(1 for e in ledger if e["kind"] == "annotation_skipped") == 2
    assert all(e["kind"].startswith("task_") or e["annotator"].startswith("ann-") for e in ledger)
    everything = (tmp_path / "annotations.jsonl").read_text() + (tmp_path / "annotations.ledger.jsonl").read_text()
    assert "example.com" not in everything and "admin@" not in everything

    # --json: the same totals for scripts; every span accounted for.
    summary = json.loads(runner("pull", "--config", str(project_config), "--out", "annotations.jsonl", "--json").stdout)
    counts = summary["counts"]
    assert (
        counts["spans_in"] == counts["spans_used"] + sum(counts["spans_dropped"].values()) + counts["spans_not_chosen"]
    )
    assert (counts["tasks"], counts["records"], counts["drafts"], counts["skipped_annotations"]) == (8, 4, 1, 2)
    assert counts["spans_dropped"] == {"label not in the config": 1, "offsets outside the text": 1}
    assert summary["tasks"] == {"new": 0, "changed": 0, "unchanged": 8, "deleted": 0}

    # The raw pull is kept compressed, without names and emails, with a manifest that reproduces it.
    raw = Path(tmp_path / summary["raw"])
    manifest = json.loads(Path(tmp_path / summary["manifest"]).read_text())
    with gzip.open(raw, "rb") as handle:
        stored = handle.read()
    assert hashlib.sha256(stored).hexdigest() == manifest["stored"]["sha256"]
    assert (
        manifest["export"]["sha256"] == summary["sha256"] and b"admin@" not in stored and b"example.com" not in stored
    )
    assert manifest["server"] == server.url and "api_key" not in json.dumps(manifest).lower()
    assert manifest["project"]["id"] == project["id"] and manifest["counts"]["tasks"] == 8
    runner("pull", "--config", str(project_config), "--out", "replayed.jsonl", "--from-raw", summary["raw"])
    assert (tmp_path / "replayed.jsonl").read_text() == (tmp_path / "annotations.jsonl").read_text()
    # The snapshot route (predictions expanded, snapshot deleted afterwards) gives the same records.
    runner(
        "pull", "--config", with_pull(project_config, tmp_path, "snapshot", export="snapshot"), "--out", "snap.jsonl"
    )
    assert read_jsonl(tmp_path / "snap.jsonl") == read_jsonl(tmp_path / "annotations.jsonl")
    assert list(client.projects.exports.list(id=project["id"])) == []


def test_incremental_pull_merges_changes_and_drops_deleted_tasks(runner, client, project, project_config, tmp_path):
    tasks, texts = project["tasks"], project["texts"]
    first = client.annotations.create(
        id=tasks["none"], result=[span(texts["none"], "Olaf Scholz", "PERSON")], was_cancelled=False
    )
    client.annotations.create(id=tasks["gone"], result=[span(texts["gone"], "Rome", "GPE")], was_cancelled=False)
    client.annotations.create(id=tasks["empty"], result=[], was_cancelled=False)
    config = ["--config", str(project_config)]
    runner("pull", *config, "--out", "annotations.jsonl")
    before = {r["id"]: r for r in read_jsonl(tmp_path / "annotations.jsonl")}
    assert set(before) == {"none", "gone", "empty"}

    client.annotations.update(
        id=first.id, result=[span(texts["none"], "Olaf Scholz", "PERSON"), span(texts["none"], "Hamburg", "GPE")]
    )
    client.tasks.delete(id=tasks["gone"])
    client.annotations.create(id=tasks["draft"], result=[span(texts["draft"], "Reuters", "ORG")], was_cancelled=False)

    done = runner("pull", *config, "--out", "annotations.jsonl")
    assert "1 deleted in Label Studio (dropped)" in done.stdout
    summary = json.loads(runner("pull", *config, "--out", "again.jsonl", "--json").stdout)
    assert summary["tasks"] == {"new": 0, "changed": 0, "unchanged": 7, "deleted": 0}
    after = {r["id"]: r for r in read_jsonl(tmp_path / "annotations.jsonl")}
    assert set(after) == {"none", "empty", "draft"}
    assert [s["text"] for s in after["none"]["spans"]] == ["Olaf Scholz", "Hamburg"]
    assert after["empty"] == before["empty"]
    ledger = read_jsonl(tmp_path / "annotations.ledger.jsonl")
    assert [(e["task_id"], e["article_id"]) for e in ledger if e["kind"] == "task_deleted"] == [(tasks["gone"], "gone")]


def test_incremental_report_counts_changed_and_new(runner, client, project, project_config, tmp_path):
    tasks, texts = project["tasks"], project["texts"]
    created = client.annotations.create(id=tasks["none"], result=[], was_cancelled=False)
    config = ["--config", str(project_config)]
    runner("pull", *config, "--out", "a.jsonl")
    client.annotations.update(id=created.id, result=[span(texts["none"], "Hamburg", "GPE")])
    client.tasks.delete(id=tasks["gone"])
    client.projects.import_tasks(
        id=project["id"], request=[{"data": {"text": "A new task about Oslo.", "article_id": "new"}}]
    )
    summary = json.loads(runner("pull", *config, "--out", "a.jsonl", "--json").stdout)
    assert summary["mode"] == "incremental"
    assert summary["tasks"] == {"new": 1, "changed": 1, "unchanged": 6, "deleted": 1}
    assert summary["deleted_tasks"] == [tasks["gone"]] and summary["watermark"] > summary["previous_watermark"]


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("latest", [[("Emmanuel Macron", "PERSON"), ("Paris", "GPE")]]),
        ("ground_truth", [[("Angela Merkel", "PERSON"), ("Emmanuel Macron", "ORG")]]),
        ("majority", [[("Emmanuel Macron", "PERSON"), ("Paris", "GPE")]]),
        (
            "all",
            [
                [("Angela Merkel", "PERSON"), ("Emmanuel Macron", "ORG")],
                [("Emmanuel Macron", "PERSON"), ("Paris", "GPE")],
            ],
        ),
    ],
)
def test_two_annotators_who_disagree(runner, client, project, project_config, second_user, tmp_path, policy, expected):
    text, task_id = project["texts"]["two"], project["tasks"]["two"]
    older = client.annotations.create(
        id=task_id,
        was_cancelled=False,
        result=[span(text, "Angela Merkel", "PERSON"), span(text, "Emmanuel Macron", "ORG")],
    )
    client.annotations.update(id=older.id, ground_truth=True)
    newer = client.annotations.create(
        id=task_id,
        was_cancelled=False,
        completed_by=second_user.id,
        result=[span(text, "Emmanuel Macron", "PERSON"), span(text, "Paris", "GPE")],
    )
    # The second user's annotation must be the newer one, whatever the update above did to the first.
    client.annotations.update(id=newer.id, lead_time=3.0)
    config = with_pull(project_config, tmp_path, policy, policy=policy)
    summary = json.loads(runner("pull", "--config", config, "--out", f"{policy}.jsonl", "--json").stdout)
    records = read_jsonl(tmp_path / f"{policy}.jsonl")
    assert [[(s["text"], s["label"]) for s in r["spans"]] for r in records] == expected
    assert all(r["policy"] == policy and len(r["annotations"]) == 2 for r in records)
    annotators = {a["annotator"] for a in records[0]["annotations"]}
    assert len(annotators) == 2  # two people, two stable anonymous ids
    counts = summary["counts"]
    assert (
        counts["spans_in"]
        == 4
        == counts["spans_used"] + sum(counts["spans_dropped"].values()) + counts["spans_not_chosen"]
    )
    if policy == "majority":
        assert counts["spans_dropped"] == {"outvoted": 2} and records[0]["chosen"] == sorted([older.id, newer.id])
    # The same annotator gets the same id in the next pull.
    again = read_jsonl(tmp_path / f"{policy}.jsonl")
    runner("pull", "--config", config, "--out", f"{policy}-2.jsonl")
    assert read_jsonl(tmp_path / f"{policy}-2.jsonl") == again


def test_download_is_retried_and_fails_clearly(runner, client, project, project_config, tmp_path):
    client.annotations.create(id=project["tasks"]["empty"], result=[], was_cancelled=False)
    config = with_pull(project_config, tmp_path, "retry", retries=2)
    summary = json.loads(
        runner("pull", "--config", config, "--out", "a.jsonl", "--json", env={faults.FAIL_DOWNLOADS: "2"}).stdout
    )
    assert summary["download_attempts"] == 3 and summary["counts"]["records"] == 1
    failed = runner("pull", "--config", config, "--out", "b.jsonl", expect=1, env={faults.FAIL_DOWNLOADS: "3"})
    # Each download broke off as a dropped connection does: three attempts, then one clear error.
    assert f"to export project {project['id']} (after 3 attempts)" in failed.stderr, failed.stderr
    assert failed.stderr.startswith("Error: ") and "Traceback" not in failed.stderr
    assert not (tmp_path / "b.jsonl").exists()
    # No snapshot is left behind on the server.
    assert list(client.projects.exports.list(id=project["id"])) == []


def test_a_refused_api_key_is_a_clear_error(runner, project, project_config, tmp_path):
    done = runner(
        "pull",
        "--config",
        str(project_config),
        "--out",
        "a.jsonl",
        expect=1,
        env={"LABEL_STUDIO_API_KEY": "0123456789abcdef0123456789abcdef01234567"},
    )
    assert "refused the API key" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "a.jsonl").exists()
