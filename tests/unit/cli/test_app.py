"""The command line as users meet it: exit codes and messages, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tests.conftest import CONFIG_PATH, ROOT
from toolkit.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"TOOLKIT_DEBUG": "", **(env or {})})


def test_help_lists_every_command():
    result = invoke("--help")
    assert result.exit_code == 0
    for command in ("preannotate", "push", "pull", "export", "labelstudio"):
        assert command in result.output


def test_bad_config_is_reported_as_where_what_lines(tmp_path):
    config = tmp_path / "c.yaml"
    config.write_text("project: {title: T}\nlabels: [PERSON]\nspacy: {modle: x}\n")
    result = invoke("pull", "--config", str(config), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1
    assert f"Error: {config}: invalid config" in result.output
    assert "[spacy.modle] unknown key" in result.output
    assert "Traceback" not in result.output


def test_bad_input_names_file_and_line_and_writes_nothing(tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "Angela Merkel visited Paris."}\n{"text": "broken"\n')
    out = tmp_path / "out.jsonl"
    result = invoke("preannotate", str(source), "--out", str(out))
    assert result.exit_code == 1
    assert f"{source}:2: broken JSON" in result.output
    assert not out.exists()


def test_missing_input_fails_before_loading_the_model(tmp_path):
    result = invoke("preannotate", str(tmp_path / "none.txt"), "--out", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1
    assert "none.txt: no such file or folder" in result.output


def test_preannotate_writes_records(tmp_path):
    source = tmp_path / "a.txt"
    source.write_text(" date 2025-01-02 Angela Merkel visited Paris on Monday.\n")
    out = tmp_path / "out.jsonl"
    result = invoke("preannotate", str(source), "--out", str(out))
    assert result.exit_code == 0, result.output
    (record,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert record["date"] == "2025-01-02"
    assert record["text"] == "Angela Merkel visited Paris on Monday."
    assert {(s["text"], s["label"]) for s in record["spans"]} == {("Angela Merkel", "PERSON"), ("Paris", "GPE")}
    assert record["model"]["version"] == "3.8.0"
    assert "Next: toolkit push" in result.output


def test_push_without_a_server_says_how_to_get_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("")
    env = {"LABEL_STUDIO_URL": "", "LABEL_STUDIO_API_KEY": ""}
    result = invoke("push", str(predictions), "--config", str(_bundled_config()), env=env)
    assert result.exit_code == 1
    assert "no Label Studio server configured and the local one is not running" in result.output
    assert "toolkit labelstudio up" in result.output


def test_half_configured_server_is_an_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("")
    result = invoke(
        "push",
        str(predictions),
        "--config",
        str(_bundled_config()),
        env={"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": ""},
    )
    assert result.exit_code == 1
    assert "sets LABEL_STUDIO_URL but not LABEL_STUDIO_API_KEY" in result.output


def test_unreachable_server_is_a_clear_error_and_the_key_is_not_shown(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    predictions = tmp_path / "p.jsonl"
    predictions.write_text('{"id": "a", "text": "Anna.", "model": {"name": "m", "version": "1"}, "spans": []}\n')
    secret = "sekret-key-0123456789abcdef"
    result = invoke(
        "push",
        str(predictions),
        "--config",
        str(_bundled_config()),
        env={"LABEL_STUDIO_URL": "http://127.0.0.1:9", "LABEL_STUDIO_API_KEY": secret},
    )
    assert result.exit_code == 1
    assert "cannot reach Label Studio at http://127.0.0.1:9" in result.output
    assert secret not in result.output


def test_debug_shows_the_traceback(tmp_path):
    result = runner.invoke(app, ["--debug", "pull", "--config", str(tmp_path / "none.yaml"), "--out", "x"])
    assert result.exit_code == 1
    assert result.exception is not None and "config file not found" in str(result.exception)


@pytest.fixture(autouse=True)
def _no_debug(monkeypatch):
    monkeypatch.setenv("TOOLKIT_DEBUG", "")


def _bundled_config():
    return CONFIG_PATH


def test_a_hint_names_the_flag_of_the_command_that_has_it_else_the_setting(capsys):
    """One map of settings to flags (``_app.FLAGS``): a remedy is said with the flag only where
    the failed command has that flag; no hint is patched by matching its words."""
    from toolkit.cli._app import print_error
    from toolkit.errors import OutputError, Remedy

    error = OutputError(
        "out.jsonl: made by another model",
        hint=(Remedy("start the output over", "fresh=True"), ", or ", Remedy("skip bad input", "input.on_error: skip")),
    )
    assert error.hint == "start the output over (fresh=True), or skip bad input (input.on_error: skip)"
    print_error(error, frozenset({"--fresh", "--out"}))
    said = capsys.readouterr().err
    assert "hint: start the output over (--fresh), or skip bad input (input.on_error: skip)" in said
    print_error(error)
    assert (
        "hint: start the output over (fresh=True), or skip bad input (input.on_error: skip)" in capsys.readouterr().err
    )


def test_the_cli_uses_typers_public_api_only():
    """Commands get --debug and their usage line from a TyperCommand subclass given as ``cls``,
    not from patching the command objects Typer built; no private Typer module is imported."""
    import ast
    from pathlib import Path

    import toolkit.cli

    for path in Path(toolkit.cli.__file__).parent.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert not (node.module or "").startswith("typer._"), f"{path.name}: imports {node.module}"
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    assert not (isinstance(target, ast.Attribute) and target.attr == "collect_usage_pieces"), path.name


def test_ctrl_c_inside_exec_of_a_string_still_exits_130_under_python_m(tmp_path):
    """A KeyboardInterrupt raised in code exec() runs from a string (as dataclasses build their
    methods) and caught by the CLI made `python -m toolkit` end by SIGINT (-2), not 130."""
    (tmp_path / "interrupted_in_exec.py").write_text(
        "import sys\n"
        "import typer\n"
        "from toolkit.cli._app import _reporting_errors\n"
        "try:\n"
        "    _reporting_errors(lambda: exec('raise KeyboardInterrupt'))\n"
        "except typer.Exit as done:\n"
        "    sys.exit(done.exit_code)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "interrupted_in_exec"], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 130, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("Error: interrupted (Ctrl-C)")
