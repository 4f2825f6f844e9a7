"""`toolkit export` as a user runs it: what it prints, the limits it checks, the arguments it refuses."""

from __future__ import annotations

import pytest

from tests.unit.dataset.builders import CONFIG, add_article
from tests.unit.dataset.builders import invoke_cli as run_cli


def test_cli_export_writes_a_version_and_reports_losses(tmp_path, source):
    done = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "1")
    assert done.returncode == 0, done.stderr
    assert f"Wrote 13 articles (13 human) to {tmp_path / 'out' / 'v1'}" in done.stdout
    assert "25 spans: 24 on token boundaries, 1 snapped (expand), 1 lost" in done.stdout
    assert "lost: article planted (task 99): ORG 9-12 'rke': inside the token 'Merkel'" in done.stdout
    assert f"annotation report: {tmp_path / 'out' / 'v1' / 'report.html'}" in done.stdout
    failed = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "0")
    assert failed.returncode == 1
    # The same inputs as v1: no new version to refuse, but the limit is still checked.
    assert "Error: 1 span lost in the alignment, more than --max-loss 0 (the inputs are those of v1" in failed.stderr
    assert "hint: fix the spans in Label Studio, or allow more with --max-loss" in failed.stderr
    add_article(source)
    failed = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "0")
    assert failed.returncode == 1
    assert "Error: 1 span lost in the alignment, more than --max-loss 0; nothing written" in failed.stderr
    assert "Traceback" not in failed.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["LATEST", "v1"]
    again = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "1")
    assert again.returncode == 0 and "(14 human)" in again.stdout
    unchanged = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"))
    assert unchanged.returncode == 0, unchanged.stderr
    assert (
        "Nothing changed since v2 (same pull, ledger, config and toolkit version): no new version" in unchanged.stdout
    )
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["LATEST", "v1", "v2"]


def test_cli_export_names_the_out_option_for_a_folder_that_is_not_an_export_root(tmp_path, source):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "precious.txt").write_text("x")
    done = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "d"))
    assert done.returncode == 1
    assert "is not an export folder (it holds precious.txt)" in done.stderr
    assert "hint: choose another export root, or an empty folder (--out)" in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--push-to-hub", "no-owner"], "--push-to-hub 'no-owner': expected OWNER/NAME"),
        (["--push-to-hub", "me/bad name!"], "--push-to-hub 'me/bad name!': not a valid repo id"),
        (["--push-to-hub", "me/news-ner"], "--push-to-hub needs a Hugging Face token"),
        (["--public"], "--public goes with --push-to-hub"),
        (["--include-predictions", "missing.jsonl"], "missing.jsonl: file not found"),
    ],
)
def test_cli_argument_checks_fail_before_any_work(tmp_path, source, args, message, monkeypatch):
    # No token: none in the environment, and none saved by a login on this machine.
    env = {"HF_TOKEN": "", "HF_HUB_OFFLINE": "1"}
    monkeypatch.setattr("huggingface_hub.constants.HF_TOKEN_PATH", str(tmp_path / "hf" / "token"))
    done = run_cli(
        "export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), *args, env=env, cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Error: {message}" in done.stderr
    assert not (tmp_path / "out").exists()


def test_an_empty_export_says_load_dataset_cannot_read_it_yet(tmp_path):
    """The first export of `make run` has no rows: `load_dataset` on it failed with "no data files"."""
    import json

    source = tmp_path / "a.jsonl"
    source.write_text("")
    entry = {"kind": "task_not_annotated", "task_id": 1, "article_id": "x", "reason": "no submitted annotation"}
    (tmp_path / "a.ledger.jsonl").write_text(json.dumps(entry) + "\n")
    done = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    version = tmp_path / "out" / "v1"
    assert f"Nothing annotated yet: wrote an empty dataset (every column, no rows) to {version}" in done.stdout
    assert f"datasets.load_from_disk({str(version)!r}) reads it; datasets.load_dataset cannot yet " in done.stdout
    assert "`datasets.load_dataset` cannot yet (a version without rows has no parquet files)" in (
        (version / "README.md").read_text()
    )
