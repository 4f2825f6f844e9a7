"""`toolkit train` on the command line: what it prints, and its errors as one line with exit 1."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.unit.train.exports import CONFIG, articles, write_export
from toolkit.cli import app


@pytest.fixture(scope="module")
def export_root(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("cli-export"), articles(30, seed=2))


def test_train_prints_the_model_version_and_what_to_do_next(export_root, tmp_path):
    out = tmp_path / "model"
    args = ["train", str(export_root), "--out", str(out), "--config", str(CONFIG), "--base", "blank", "--epochs", "2"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"Wrote {out} (model version en_news_ner-0.0.0+" in done.output
    assert "from blank (blank), seed 0" in done.output and "best validation F1" in done.output
    assert f"toolkit preannotate INPUT --model {out}" in done.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0 and f"Replaced {out}" in again.output


def test_errors_are_one_line_with_a_hint_and_nothing_is_written(export_root, tmp_path):
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("x")
    args = ["train", str(export_root), "--out", str(foreign), "--config", str(CONFIG), "--base", "blank"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 1
    assert "Error: " in done.output and "not a model `toolkit train` wrote" in done.output
    assert "hint: choose another --out" in done.output and "Traceback" not in done.output
    nowhere = ["train", str(tmp_path / "nope"), "--out", str(tmp_path / "m"), "-c", str(CONFIG)]
    missing = CliRunner().invoke(app, nowhere)
    assert missing.exit_code == 1 and "no such export" in missing.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]
