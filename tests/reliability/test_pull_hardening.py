"""Pull against a real Label Studio server when the project, its tasks or a kept raw pull are not as pushed.

- a labeling config extended by hand with a second ``Labels`` control on another field;
- a task text edited in Label Studio after the push (predictions and human spans re-anchored);
- an answer whose every span is dropped (said as such, not as "no spans");
- ``--from-raw`` with a corrupt gzip, without its manifest, of another project; an output
  that cannot be written (no orphan raw pull left);
- raw pulls: mode 0600, no annotator names or emails, replayed to the same output;
- adjudicated decisions after annotators agree, delete an answer, or a second reviewer
  decides: they stand, are reported, replay from the raw pull and reach the export.
"""

from __future__ import annotations

import gzip
import json
import stat
from pathlib import Path

import pytest

from tests.reliability import tally
from tests.reliability.conftest import delete_project, project_by_title, run, title_of, write_config
from tests.reliability.data import read_jsonl

pytestmark = pytest.mark.integration

MUSEUM = "Visitors queued at the Rijksmuseum in Amsterdam on Monday."
OBAMA = "Barack Obama met Angela Merkel in Berlin on Monday with Olaf Scholz."
EDITED = "BREAKING: Donald Trump met Angela Merkel in Berlin."


def _article(article_id: str, text: str, spans: list[tuple[str, str]], source: str = "") -> dict:
    found = []
    for needle, label in spans:
        start = text.index(needle)
        found.append({"start": start, "end": start + len(needle), "label": label, "text": needle})
    return {
        "id": article_id,
        "text": text,
        "title": article_id,
        "date": "2024-05-01",
        "source": source,
        "model": {"name": "en_core_web_sm", "version": "3.8.0"},
        "spans": found,
    }


def _push(tmp_path: Path, server, articles: list[dict], **sections) -> Path:
    config = write_config(tmp_path / "config.yaml", **sections)
    (tmp_path / "predictions.jsonl").write_text("".join(json.dumps(a, ensure_ascii=False) + "\n" for a in articles))
    run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=_key(server))
    return config


def _key(server) -> str:
    return server.api_key.get_secret_value()


def _pull(tmp_path: Path, server, config: Path, *args: str, expect: int = 0):
    return run(
        "pull",
        "--config",
        str(config),
        "--out",
        "annotations.jsonl",
        *args,
        cwd=tmp_path,
        url=server.url,
        key=_key(server),
        expect=expect,
    )


def _tasks(client, config: Path) -> dict[str, object]:
    project = project_by_title(client, title_of(config))
    return {task.data["article_id"]: task for task in client.tasks.list(project=project.id, fields="all")}


def _ledger(tmp_path: Path) -> list[dict]:
    return read_jsonl(tmp_path / "annotations.ledger.jsonl")


def _raw_pulls(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / ".toolkit" / "pulls").glob("*/raw/*.json.gz"))


# --- a second Labels control, on another field ------------------------------------------


def test_spans_of_another_labels_control_never_enter_the_article(server, client, tmp_path):
    """A human added ``<Labels name="meta" toName="src">`` over ``$source`` to the labeling
    config: a span on the source (``museum``, also inside "Rijksmuseum" in the text) is not
    an article span; it is counted and in the ledger with its control's name."""
    config = _push(
        tmp_path,
        server,
        [_article("museum", MUSEUM, [("Rijksmuseum", "ORG"), ("Amsterdam", "GPE")], source="museum press office")],
    )
    try:
        project = project_by_title(client, title_of(config))
        extended = project.label_config.replace(
            "</View>",
            '  <Labels name="meta" toName="src"><Label value="ORG"/></Labels>\n'
            '  <Text name="src" value="$source"/>\n</View>',
        )
        client.projects.update(id=project.id, label_config=extended)
        task = _tasks(client, config)["museum"]
        (prediction,) = task.predictions
        meta = {
            "id": "meta1",
            "from_name": "meta",
            "to_name": "src",
            "type": "labels",
            "value": {"start": 0, "end": 6, "text": "museum", "labels": ["ORG"]},
        }
        client.annotations.create(id=task.id, result=[*prediction.result, meta], was_cancelled=False)
        done = _pull(tmp_path, server, config)
        (record,) = read_jsonl(tmp_path / "annotations.jsonl")
        assert [(s["label"], s["text"]) for s in record["spans"]] == [("ORG", "Rijksmuseum"), ("GPE", "Amsterdam")]
        others = [e for e in _ledger(tmp_path) if e["kind"] == "span_other_control"]
        assert len(others) == 1 and "'meta'" in others[0]["reason"] and others[0]["raw"]["text"] == "museum"
        assert not any(e["kind"] == "span_repaired" for e in _ledger(tmp_path))
        assert "other controls" in done.stdout and "meta 1" in done.stdout
        summary = json.loads(_pull(tmp_path, server, config, "--json").stdout)
        assert summary["counts"]["other_control_spans"] == {"meta": 1} and summary["counts"]["spans_in"] == 2
        tally.add("bad_inputs")
        tally.add("bad_input_skips")
        tally.add("spans_checked", 3)
    finally:
        delete_project(client, title_of(config))


# --- a task text edited in Label Studio after the push ----------------------------------


def test_predictions_follow_a_text_edited_in_label_studio_or_are_reported(server, client, tmp_path):
    """The text is edited after the push ("BREAKING: " prepended, the name at the start
    replaced, the end cut): the model's spans are re-anchored like the human's; a span
    whose text is gone ('Barack Obama', now 'Donald Trump' at its offsets) or past the new
    end is dropped and in the ledger, never re-read from the new text."""
    config = _push(
        tmp_path,
        server,
        [
            _article(
                "edited",
                OBAMA,
                [("Barack Obama", "PERSON"), ("Angela Merkel", "PERSON"), ("Berlin", "GPE"), ("Olaf Scholz", "PERSON")],
            )
        ],
    )
    try:
        task = _tasks(client, config)["edited"]
        (prediction,) = task.predictions
        client.annotations.create(id=task.id, result=prediction.result, was_cancelled=False)
        client.tasks.update(id=task.id, data={**task.data, "text": EDITED})
        done = _pull(tmp_path, server, config)
        (record,) = read_jsonl(tmp_path / "annotations.jsonl")
        assert record["text"] == EDITED
        expected = [(27, 40, "PERSON", "Angela Merkel"), (44, 50, "GPE", "Berlin")]
        assert [(s["start"], s["end"], s["label"], s["text"]) for s in record["spans"]] == expected
        (predicted,) = record["predictions"]
        assert [(s["start"], s["end"], s["label"], s["text"]) for s in predicted["spans"]] == expected
        ledger = _ledger(tmp_path)
        dropped = sorted((e["raw"]["text"], e["reason"]) for e in ledger if e["kind"] == "prediction_dropped")
        assert [text for text, _ in dropped] == ["Barack Obama", "Olaf Scholz"], ledger
        assert sum(e["kind"] == "prediction_repaired" for e in ledger) == 2
        assert [e["kind"] for e in ledger].count("task_text_changed") == 1
        assert (
            "text edited in Label Studio" in done.stdout and "predicted spans: 2 re-anchored, 2 dropped" in done.stdout
        )
        tally.add("bad_inputs")
        tally.add("bad_input_skips")
        tally.add("spans_checked", 8)
    finally:
        delete_project(client, title_of(config))


# --- an answer whose every span was dropped ---------------------------------------------


def test_an_answer_whose_spans_were_all_dropped_is_not_called_empty(server, client, tmp_path):
    """One annotator answered "no entities here" (an empty result), another labelled only
    with a label the config does not have: the totals tell the two apart."""
    config = _push(
        tmp_path,
        server,
        [_article("empty", MUSEUM, [("Amsterdam", "GPE")]), _article("animal", OBAMA, [("Berlin", "GPE")])],
    )
    try:
        tasks = _tasks(client, config)
        client.annotations.create(id=tasks["empty"].id, result=[], was_cancelled=False)
        (prediction,) = tasks["animal"].predictions
        odd = json.loads(json.dumps(prediction.result[0]))
        odd["value"]["labels"] = ["ANIMAL"]
        client.annotations.create(id=tasks["animal"].id, result=[odd], was_cancelled=False)
        done = _pull(tmp_path, server, config)
        assert "2 submitted (1 with no spans, kept; 1 whose every span was dropped, in the ledger)" in done.stdout, (
            done.stdout
        )
        summary = json.loads(_pull(tmp_path, server, config, "--json").stdout)
        assert summary["counts"]["empty_annotations"] == 1 and summary["counts"]["all_spans_dropped"] == 1
        tally.add("bad_inputs")
        tally.add("bad_input_skips")
    finally:
        delete_project(client, title_of(config))


# --- kept raw pulls ----------------------------------------------------------------------


def _draft(client, task_id: int, result: list) -> None:
    from toolkit.labelstudio.client import post_json

    # The SDK has no call for drafts; post_json raises on an error answer.
    post_json(client, f"api/tasks/{task_id}/drafts", json.dumps({"result": result, "lead_time": 4}).encode())


def _pulled(tmp_path: Path, server, client) -> tuple[Path, Path]:
    """A project with an annotated task and a draft on another, pulled once: (config, raw pull)."""
    config = _push(
        tmp_path,
        server,
        [
            _article("kept", MUSEUM, [("Rijksmuseum", "ORG"), ("Amsterdam", "GPE")]),
            _article("drafted", OBAMA, [("Berlin", "GPE")]),
        ],
    )
    tasks = _tasks(client, config)
    (prediction,) = tasks["kept"].predictions
    client.annotations.create(id=tasks["kept"].id, result=prediction.result, was_cancelled=False)
    _draft(client, tasks["drafted"].id, tasks["drafted"].predictions[0].result)
    _draft(client, tasks["kept"].id, prediction.result[:1])
    _pull(tmp_path, server, config)
    (raw,) = _raw_pulls(tmp_path)
    return config, raw


def _copy_raw(raw: Path, folder: Path, *, manifest: bool = True, body: bytes | None = None) -> Path:
    folder.mkdir()
    copy = folder / raw.name
    copy.write_bytes(raw.read_bytes() if body is None else body)
    if manifest:
        name = raw.name.removesuffix(".json.gz") + ".manifest.json"
        (folder / name).write_bytes((raw.parent / name).read_bytes())
    return copy


def test_from_raw_refuses_what_it_cannot_check_and_a_failed_pull_leaves_no_raw_pull(server, client, tmp_path):
    config, raw = _pulled(tmp_path, server, client)
    try:
        packed = raw.read_bytes()
        flipped = bytearray(packed)
        for index in range(len(flipped) // 2, len(flipped) // 2 + 8):
            flipped[index] ^= 0xFF
        cases = {
            "not gzip": (_copy_raw(raw, tmp_path / "plain", body=b'[{"id": 1}]'), "cannot read the raw pull"),
            "corrupt gzip": (_copy_raw(raw, tmp_path / "corrupt", body=bytes(flipped)), "cannot read the raw pull"),
            "cut gzip": (_copy_raw(raw, tmp_path / "cut", body=packed[: len(packed) // 2]), "cannot read the raw pull"),
            "no manifest": (_copy_raw(raw, tmp_path / "alone", manifest=False), "no manifest"),
        }
        for name, (copy, message) in cases.items():
            done = run(
                "pull",
                "--config",
                str(config),
                "--out",
                f"{name}.jsonl",
                "--from-raw",
                str(copy),
                cwd=tmp_path,
                expect=1,
            )
            assert message in done.stderr and copy.name in done.stderr, (name, done.stderr)
            assert not (tmp_path / f"{name}.jsonl").exists()
        # The raw pull of this project, under the config of another one.
        other = write_config(tmp_path / "other.yaml")
        done = run(
            "pull", "--config", str(other), "--out", "other.jsonl", "--from-raw", str(raw), cwd=tmp_path, expect=1
        )
        assert "is a pull of project" in done.stderr and title_of(config) in done.stderr, done.stderr
        assert not (tmp_path / "other.jsonl").exists()
        # The same raw pull under its own config replays.
        run("pull", "--config", str(config), "--out", "replayed.jsonl", "--from-raw", str(raw), cwd=tmp_path)
        # An output that cannot be written: the pull fails and keeps no raw pull of its own.
        (tmp_path / "blocked").write_text("a file, not a folder\n")
        done = run(
            "pull",
            "--config",
            str(config),
            "--out",
            "blocked/annotations.jsonl",
            cwd=tmp_path,
            url=server.url,
            key=_key(server),
            expect=1,
        )
        assert "blocked" in done.stderr
        assert _raw_pulls(tmp_path) == [raw]
        assert not [p for p in raw.parent.iterdir() if p.name.startswith(".")]
        tally.add("bad_inputs", len(cases) + 1)
        tally.add("bad_input_errors", len(cases) + 1)
        tally.add("faults")
    finally:
        delete_project(client, title_of(config))


def test_raw_pulls_are_private_hold_no_names_or_emails_and_replay_the_same(server, client, tmp_path):
    config, raw = _pulled(tmp_path, server, client)
    try:
        email = client.users.whoami().email
        assert email and "@" in email
        manifest = raw.with_name(raw.name.removesuffix(".json.gz") + ".manifest.json")
        for path in (raw, manifest):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        with gzip.open(raw, "rt", encoding="utf-8") as handle:
            stored = handle.read()
        tasks = json.loads(stored)
        assert sum(len(task["drafts"]) for task in tasks) == 2
        assert email not in stored and "created_username" not in stored
        about = json.loads(manifest.read_text())
        assert "names and emails removed" in about["stored"]["identities"]
        pulled = (tmp_path / "annotations.jsonl").read_text(), (tmp_path / "annotations.ledger.jsonl").read_text()
        run("pull", "--config", str(config), "--out", "replayed.jsonl", "--from-raw", str(raw), cwd=tmp_path)
        replayed = (tmp_path / "replayed.jsonl").read_text(), (tmp_path / "replayed.ledger.jsonl").read_text()
        assert replayed == pulled
        assert sum(json.loads(line)["kind"] == "annotation_draft" for line in replayed[1].splitlines()) == 2
        tally.add("spans_checked", 2)
    finally:
        delete_project(client, title_of(config))


# --- adjudicated decisions: they stand, whatever the annotators and reviewers do later ----------------

PARIS = "Angela Merkel met Emmanuel Macron in Paris on Monday."
VIENNA = "Olaf Scholz arrived in Vienna for talks with Siemens."
LISBON = "Pedro Sanchez opened a Reuters office in Lisbon."


def _result(text: str, *spans: tuple[str, str]) -> list[dict]:
    items = []
    for number, (needle, label) in enumerate(spans):
        start = text.index(needle)
        value = {"start": start, "end": start + len(needle), "text": needle, "labels": [label]}
        items.append({"id": f"r{number}", "from_name": "label", "to_name": "text", "type": "labels", "value": value})
    return items


def _user(client, name: str):
    import uuid

    return client.users.create(username=f"{name}-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")


def test_adjudicated_decisions_stand_are_reported_and_replay(server, client, tmp_path):
    """Issue 27, items 1, 2, 6, 7. Three disputes are adjudicated; then on ``paris`` the second
    annotator changes to the first's answer (both agree on GPE, the reviewer decided LOC); on
    ``vienna`` the second annotator deletes their annotation; on ``lisbon`` a second reviewer
    submits another decision. Every decision stands (stale where the versions changed), the
    annotators' spans it overrules and the earlier review decision are in the ledger, pull and
    adjudicate report the changes, a replay of the raw pull takes the same decisions, and
    ``decision_stale`` reaches the export, its card and report.html."""
    texts = {"paris": PARIS, "vienna": VIENNA, "lisbon": LISBON}
    config = _push(tmp_path, server, [_article(article_id, text, []) for article_id, text in texts.items()])
    review_title = title_of(config) + " (adjudication)"
    try:
        tasks = _tasks(client, config)
        second, judge, other_judge = _user(client, "second"), _user(client, "judge"), _user(client, "judge2")
        first_answers = {
            "paris": _result(PARIS, ("Angela Merkel", "PERSON"), ("Paris", "GPE")),
            "vienna": _result(VIENNA, ("Olaf Scholz", "PERSON"), ("Vienna", "GPE"), ("Siemens", "ORG")),
            "lisbon": _result(LISBON, ("Pedro Sanchez", "PERSON"), ("Lisbon", "GPE")),
        }
        second_answers = {
            "paris": _result(PARIS, ("Angela Merkel", "PERSON"), ("Paris", "LOC")),
            "vienna": _result(VIENNA, ("Olaf Scholz", "PERSON"), ("Vienna", "GPE")),
            "lisbon": _result(LISBON, ("Pedro Sanchez", "PERSON"), ("Reuters", "ORG"), ("Lisbon", "GPE")),
        }
        theirs = {}
        for article_id, task in tasks.items():
            client.annotations.create(id=task.id, result=first_answers[article_id], was_cancelled=False)
            theirs[article_id] = client.annotations.create(
                id=task.id, result=second_answers[article_id], was_cancelled=False, completed_by=second.id
            ).id
        run("adjudicate", "--config", str(config), cwd=tmp_path, url=server.url, key=_key(server))
        review = project_by_title(client, review_title)
        review_tasks = {t.data["article_id"]: t for t in client.tasks.list(project=review.id, fields="all")}
        assert sorted(review_tasks) == ["lisbon", "paris", "vienna"]
        decided = {
            "paris": _result(PARIS, ("Angela Merkel", "PERSON"), ("Paris", "LOC")),
            "vienna": _result(VIENNA, ("Olaf Scholz", "PERSON"), ("Vienna", "GPE")),
            "lisbon": _result(LISBON, ("Pedro Sanchez", "PERSON"), ("Lisbon", "GPE")),
        }
        for article_id, task in review_tasks.items():
            client.annotations.create(
                id=task.id, result=decided[article_id], was_cancelled=False, completed_by=judge.id
            )
        # Later: a second reviewer decides lisbon again (Reuters kept): the newest decision wins.
        newest = _result(LISBON, ("Pedro Sanchez", "PERSON"), ("Reuters", "ORG"), ("Lisbon", "GPE"))
        client.annotations.create(
            id=review_tasks["lisbon"].id, result=newest, was_cancelled=False, completed_by=other_judge.id
        )
        first_decision = [
            a["id"] for a in client.tasks.get(id=review_tasks["lisbon"].id).annotations if len(a["result"]) == 2
        ]
        # The annotators change their minds after the decisions.
        client.annotations.update(id=theirs["paris"], result=first_answers["paris"])
        client.annotations.delete(id=theirs["vienna"])

        done = _pull(tmp_path, server, config)
        records = {r["id"]: r for r in read_jsonl(tmp_path / "annotations.jsonl")}
        ledger = _ledger(tmp_path)
        labels = {a: [(s["text"], s["label"]) for s in r["spans"]] for a, r in records.items()}
        assert labels == {
            "paris": [("Angela Merkel", "PERSON"), ("Paris", "LOC")],
            "vienna": [("Olaf Scholz", "PERSON"), ("Vienna", "GPE")],
            "lisbon": [("Pedro Sanchez", "PERSON"), ("Reuters", "ORG"), ("Lisbon", "GPE")],
        }
        decisions = {a: r["decision"] for a, r in records.items()}
        assert all(d["status"] == "adjudicated" for d in decisions.values()), decisions
        assert {a: d.get("stale", False) for a, d in decisions.items()} == {
            "paris": True,
            "vienna": True,
            "lisbon": False,
        }
        overruled = sorted(
            (e["article_id"], e["span"]["text"], e["span"]["label"]) for e in ledger if e["kind"] == "span_overruled"
        )
        assert overruled == [("paris", "Paris", "GPE"), ("paris", "Paris", "GPE"), ("vienna", "Siemens", "ORG")]
        (not_chosen,) = [e for e in ledger if e["kind"] == "adjudication_not_chosen"]
        assert not_chosen["article_id"] == "lisbon" and [not_chosen["annotation_id"]] == first_decision
        assert not_chosen["annotator"].startswith("ann-") and not_chosen["annotator"] != decisions["lisbon"]["by"]
        assert "2 adjudicated articles changed by an annotator after adjudication" in done.stdout, done.stdout
        assert "paris" in done.stdout and "vienna" in done.stdout
        assert "1 earlier review decision" in done.stdout
        summary = json.loads(_pull(tmp_path, server, config, "--json").stdout)["counts"]
        assert sorted(summary["changed_after_adjudication"]) == ["paris", "vienna"]
        assert (summary["adjudicated"], summary["adjudications_not_chosen"]) == (3, 1)
        later = json.loads(
            run("adjudicate", "--config", str(config), "--json", cwd=tmp_path, url=server.url, key=_key(server)).stdout
        )
        assert sorted(later["changed_after_adjudication"]) == ["paris", "vienna"]

        # A replay of the kept raw pull takes the same decisions: the same output and ledger.
        raw = _raw_pulls(tmp_path)[-1]
        replay = run("pull", "--config", str(config), "--out", "replayed.jsonl", "--from-raw", str(raw), cwd=tmp_path)
        assert (tmp_path / "replayed.jsonl").read_text() == (tmp_path / "annotations.jsonl").read_text()
        assert (tmp_path / "replayed.ledger.jsonl").read_text() == (tmp_path / "annotations.ledger.jsonl").read_text()
        assert "2 adjudicated articles changed" in replay.stdout

        # The stale flag reaches the export, its card and report.html.
        run("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", cwd=tmp_path)
        import datasets

        version = tmp_path / "dataset" / (tmp_path / "dataset" / "LATEST").read_text().strip()
        rows = {row["id"]: row for split in datasets.load_from_disk(str(version)).values() for row in split}
        assert {a: (r["decision"], r["decision_stale"]) for a, r in rows.items()} == {
            "paris": ("adjudicated", True),
            "vienna": ("adjudicated", True),
            "lisbon": ("adjudicated", False),
        }
        card = (version / "README.md").read_text()
        assert "`decision_stale`" in card and "2 adjudicated articles" in card
        run("report", "annotations.jsonl", "--config", str(config), "--html", "report.html", cwd=tmp_path)
        html = (tmp_path / "report.html").read_text()
        assert "2 adjudicated articles changed by an annotator" in html and "vienna" in html
        # Every annotator span (12 in Label Studio now) is used or overruled (ledger); every
        # decision span (7 taken, 2 in the earlier lisbon decision) is in a record or the ledger.
        annotator_lost = summary["spans_in"] - (
            summary["spans_used"] + sum(summary["spans_dropped"].values()) + summary["spans_not_chosen"]
        )
        taken = sum(s.get("origin") == "adjudication" for r in records.values() for s in r["spans"])
        decision_lost = 9 - taken - sum(e["raw"]["spans"] for e in ledger if e["kind"] == "adjudication_not_chosen")
        assert (summary["spans_in"], annotator_lost, decision_lost) == (12, 0, 0)
        tally.add("bad_inputs", 3)
        tally.add("bad_input_read", 3)
        tally.add("spans_checked", 12 + 9)
        tally.add("spans_lost", annotator_lost + decision_lost)
    finally:
        delete_project(client, review_title)
        delete_project(client, title_of(config))
