"""What the README tells a new user is what the code does (issue 27, a fresh clone's stumbles)."""

from __future__ import annotations

from typer.testing import CliRunner

from tests.conftest import ROOT
from toolkit.cli import app

README = " ".join((ROOT / "README.md").read_text().split())


def test_the_readme_says_how_to_choose_the_port_and_that_it_is_remembered():
    from toolkit.labelstudio.localserver import DEFAULT_PORT

    assert "`toolkit labelstudio up --port 8090`" in README and "the port is remembered" in README
    assert f"`TOOLKIT_LABEL_STUDIO_PORT` (in the environment) is used, else {DEFAULT_PORT}" in README


def test_config_goes_after_the_command_as_the_readme_says():
    assert "`--config` (default `configs/news-ner.yaml`, relative to the working folder) after the command's name" in (
        README
    )
    assert "`export-diff` and `labelstudio` read none" in README
    before = CliRunner().invoke(app, ["--config", "x.yaml", "report", "a.jsonl"])
    assert before.exit_code == 2 and "No such option: --config" in before.output
    for command in (["export-diff"], ["labelstudio", "up"]):
        assert "--config" not in CliRunner().invoke(app, [*command, "--help"]).output


def test_the_minimums_and_the_warning_size_in_the_readme_are_the_codes():
    from toolkit.metrics.spans import FEW_ARTICLES, FEW_SPANS
    from toolkit.train.training import MIN_TRAIN_ROWS, MIN_VALIDATION_ROWS

    assert (
        f"train refuses fewer than {MIN_TRAIN_ROWS} human-annotated articles in the export's train split or "
        f"{MIN_VALIDATION_ROWS} in its validation split" in README
    )
    warning = f"Below {FEW_ARTICLES} articles or {FEW_SPANS} spans, train's validation F1 and evaluate's scores are"
    assert warning in README
    assert "stops at train until about 30 articles" not in README
