"""`toolkit preannotate` as users meet it: inputs in every shape, bad input, resume, scores."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tests.conftest import light_config_path
from toolkit.cli import app

runner = CliRunner()
LIGHT_CONFIG = light_config_path()  # the tests are about the command, not the model


def invoke(*args: str):
    config = [] if "--config" in args or "-c" in args or "--help" in args else ["--config", str(LIGHT_CONFIG)]
    return runner.invoke(app, [*args, *config], env={"TOOLKIT_DEBUG": ""})


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.fixture
def reuters_config(tmp_path):
    """The bundled config with the Reuters-21578 field mapping added."""
    import yaml

    data = yaml.safe_load(LIGHT_CONFIG.read_text())
    data["input"] = {"fields": {"text": "body", "id": "attrs.newid", "title": "title", "date": "date"}}
    path = tmp_path / "reuters.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


BAD_INPUTS = {
    "binary.txt": (
        b"\x7fELF\x02\x01\x00\x00binary",
        "binary.txt: looks like a binary file (it contains NUL bytes), not text",
        "binary file",
    ),
    "latin1.txt": (b"Caf\xe9 in Paris.", "latin1.txt:1: not valid UTF-8 (byte offset 3)", "invalid UTF-8"),
    "empty.txt": (b"", "empty.txt: empty file", "empty file"),
    "record.jsonl": (
        b'{"id": "r1", "text": "Merkel."}\n{"id": "r2", "text": ""}\n',
        "record.jsonl:2: empty article (field 'text' holds no text)",
        "empty article",
    ),
    "broken.jsonl": (
        b'{"text": "Merkel."}\n{"text": "a"}\n{"text": \n',
        "broken.jsonl:3: broken JSON (Expecting value at column 10)",
        "broken JSON",
    ),
    "notext.jsonl": (
        b'{"body": "Merkel."}\n',
        "notext.jsonl:1: missing field 'text' (input.fields.text)",
        "missing text field",
    ),
    "huge.txt": (
        b"word " * 1_000_000,
        "huge.txt: file of 5,000,000 bytes is longer than input.max_chars (1,000,000)",
        "too long",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_each_bad_input_fails_with_file_and_line_and_writes_nothing(tmp_path, name):
    content, message, _ = BAD_INPUTS[name]
    good = tmp_path / "good.txt"
    good.write_text("Angela Merkel visited Paris.")
    bad = tmp_path / name
    bad.write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = invoke("preannotate", str(good), str(bad), "--out", str(out), "--no-scores")
    assert result.exit_code == 1, result.output
    assert f"Error: {tmp_path}/{message}" in result.output
    assert "--on-error skip" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()


def test_skip_goes_on_and_prints_counts_by_reason(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Angela Merkel visited Paris.")
    for name, (content, _, _) in BAD_INPUTS.items():
        (folder / name).write_bytes(content)
    out = tmp_path / "out.jsonl"
    result = invoke("preannotate", str(folder), "--out", str(out), "--on-error", "skip", "--no-scores")
    assert result.exit_code == 0, result.output
    # good.txt, r1 of record.jsonl, the first two lines of broken.jsonl ("Merkel." repeats r1's text).
    assert [r["text"] for r in records(out)] == ["Merkel.", "a", "Angela Merkel visited Paris."]
    assert (
        "Skipped 7 bad inputs: binary file 1, broken JSON 1, empty article 1, empty file 1, "
        "invalid UTF-8 1, missing text field 1, too long 1"
    ) in result.output
    assert "1 exact duplicate kept once" in result.output
    assert f"{folder}/broken.jsonl:3: broken JSON" in result.output


def test_on_error_takes_only_fail_or_skip(tmp_path):
    result = invoke("preannotate", str(tmp_path), "--out", str(tmp_path / "o.jsonl"), "--on-error", "ignore")
    assert result.exit_code == 2
    assert "'ignore' is not one of 'fail', 'skip'" in result.output


def test_scores_on_by_default_and_off_with_the_flag(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Victoria told Florence about Jackson.")
    scored, plain = tmp_path / "scored.jsonl", tmp_path / "plain.jsonl"
    result = invoke("preannotate", str(source), "--out", str(scored))
    assert result.exit_code == 0, result.output
    assert "scores on" in result.output
    (record,) = records(scored)
    assert 0 <= record["score"] <= 1 and all(0 <= s["score"] <= 1 for s in record["spans"])
    result = invoke("preannotate", str(source), "--out", str(plain), "--no-scores")
    assert result.exit_code == 0, result.output
    (record,) = records(plain)
    assert "score" not in record and all("score" not in s for s in record["spans"])


def test_rerun_resumes_and_fresh_starts_over(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text("Angela Merkel visited Paris.")
    out = tmp_path / "out.jsonl"
    assert invoke("preannotate", str(source), "--out", str(out), "--no-scores").exit_code == 0
    again = invoke(
        "preannotate", str(source), "--out", str(out), "--no-scores", "--n-process", "1", "--batch-size", "8"
    )
    assert again.exit_code == 0, again.output
    assert f"Nothing new: all 1 article is already in {out}" in again.output
    assert "Wrote 0 articles" not in again.output and "articles/s" not in again.output
    fresh = invoke("preannotate", str(source), "--out", str(out), "--no-scores", "--fresh")
    assert "Wrote 1 article " in fresh.output
    assert len(records(out)) == 1


def test_an_output_scored_otherwise_is_not_resumed(tmp_path):
    """The red-team case: a --no-scores output resumed with scores on appended scored records
    beside unscored ones. Now refused like an output of another model, naming the flag."""
    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "a", "text": "Angela Merkel visited Paris."}\n')
    out = tmp_path / "out.jsonl"
    assert invoke("preannotate", str(source), "--out", str(out), "--no-scores").exit_code == 0
    assert records(out)[0]["model"]["scoring"] == "unscored"
    source.write_text(source.read_text() + '{"id": "b", "text": "Kofi Annan left Geneva."}\n')
    mixed = invoke("preannotate", str(source), "--out", str(out))
    assert mixed.exit_code == 1
    flat = " ".join(mixed.output.split())
    assert f"{out}:1: scored unscored, this run scores beam8: an output holds one kind of score" in flat
    assert "hint: run with scores off as it was written (spacy.scores: false, or --no-scores), or start" in flat
    assert len(records(out)) == 1  # nothing appended
    assert invoke("preannotate", str(source), "--out", str(out), "--no-scores").exit_code == 0
    assert [record["model"]["scoring"] for record in records(out)] == ["unscored", "unscored"]


def test_json_array_with_the_reuters_mapping(tmp_path, reuters_config):
    source = tmp_path / "reut2-000.json"
    source.write_text(
        json.dumps(
            [
                {
                    "attrs": {"newid": "1"},
                    "title": "BAHIA COCOA",
                    "date": "26-FEB-1987 15:01:01.79",
                    "body": "Brazil exports cocoa to the United States.\n",
                },
                {"attrs": {"newid": "2"}, "title": "EMPTY", "date": "26-FEB-1987 15:02:20.00", "body": ""},
            ]
        )
    )
    out = tmp_path / "out.jsonl"
    result = invoke(
        "preannotate",
        str(source),
        "--config",
        str(reuters_config),
        "--out",
        str(out),
        "--on-error",
        "skip",
        "--no-scores",
    )
    assert result.exit_code == 0, result.output
    (record,) = records(out)
    assert (record["id"], record["title"], record["date"], record["date_original"]) == (
        "1",
        "BAHIA COCOA",
        "1987-02-26T15:01:01.790",
        "26-FEB-1987 15:01:01.79",
    )
    assert "Skipped 1 bad input: empty article 1" in result.output
    assert f"{source} record 2: empty article (field 'body' holds no text)" in result.output


def test_hints_name_the_flags_of_the_command(tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "a", "text": "Angela Merkel visited Paris."}\n{"text": \n')
    out = tmp_path / "out.jsonl"
    failed = invoke("preannotate", str(source), "--out", str(out), "--no-scores")
    assert failed.exit_code == 1
    assert "hint: fix or remove it, or skip bad input (input.on_error: skip, or --on-error skip)" in (failed.output)
    source.write_text('{"id": "a", "text": "Angela Merkel visited Paris."}\n')
    assert invoke("preannotate", str(source), "--out", str(out), "--no-scores").exit_code == 0
    source.write_text('{"id": "a", "text": "Angela Merkel visited Berlin."}\n')
    changed = invoke("preannotate", str(source), "--out", str(out), "--no-scores", "--on-error", "skip")
    assert changed.exit_code == 1
    assert "hint: start the output over (--fresh), or give the changed article a new id" in changed.output
    out.write_text(out.read_text().replace("3.8.0", "0.1"))
    other = invoke("preannotate", str(source), "--out", str(out), "--no-scores")
    assert other.exit_code == 1
    assert "hint: start the output over (--fresh), or write to another output file (--out)" in other.output
    assert "fresh=True" not in changed.output + other.output


def test_without_fork_a_ray_run_goes_on_in_this_process_unsupervised(monkeypatch, tmp_path):
    import os

    from toolkit.preannotate.backends._ray_supervise import supervised

    monkeypatch.delattr(os, "fork")  # Windows
    ran = []
    assert supervised(lambda: ran.append(os.getpid()), out=tmp_path / "out.jsonl") == 0
    assert ran == [os.getpid()]
