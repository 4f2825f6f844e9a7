"""`toolkit train` on the command line: what it prints, and its errors as one line with exit 1."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tests.unit.train.exports import CONFIG, articles, config, ids_in, write_export
from toolkit.cli import app
from toolkit.dataset.schema import split_of
from toolkit.render.format import plural


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    # `toolkit train` registers its model in train.models_dir (models/, from the working folder).
    monkeypatch.chdir(tmp_path)


@pytest.fixture(scope="module")
def export_root(tmp_path_factory):
    return write_export(tmp_path_factory.mktemp("cli-export"), articles(40, seed=2))


def test_train_prints_the_model_version_and_what_to_do_next(export_root, tmp_path):
    out = tmp_path / "model"
    args = ["train", str(export_root), "--out", str(out), "--config", str(CONFIG), "--base", "blank", "--epochs", "2"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert f"Wrote {out} (model version en_news_ner-0.0.0+" in done.output
    assert "from blank, seed 0" in done.output and "best validation F1" in done.output
    # What the start means, and how little the validation F1 rests on.
    assert "  start: blank (every weight begins at random)" in done.output
    validation = [r for r in articles(40, seed=2) if split_of(r["id"], dict(config().export.splits)) == "validation"]
    spans = sum(len(r["spans"]) for r in validation)
    assert f", on {plural(len(validation), 'article')} ({spans:,} spans)" in done.output
    assert (
        f"Note: the validation F1 rests on only {plural(len(validation), 'article')} ({spans:,} spans): " in done.output
    )
    assert "below 20 articles or 200 spans it is a rough figure" in " ".join(done.output.split())
    assert not done.output.startswith("\n") and "\n\n" not in done.output  # piped: no blank line of a progress bar
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
    assert "hint: choose another model folder, a new or empty one (--out), or move those" in done.output
    assert "Traceback" not in done.output
    nowhere = ["train", str(tmp_path / "nope"), "--out", str(tmp_path / "m"), "-c", str(CONFIG)]
    missing = CliRunner().invoke(app, nowhere)
    assert missing.exit_code == 1 and "no such export" in missing.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes"]


@pytest.mark.parametrize(
    ("train", "validation", "message", "about"),
    [
        (5, 3, "the train split has only 5 human-annotated articles; training needs at least 10", "13"),
        (12, 1, "the validation split has only 1 human-annotated article; training needs at least 2", "20"),
    ],
)
def test_too_few_articles_are_refused_with_the_minimum_and_how_many_to_annotate(
    tmp_path, train, validation, message, about
):
    """With 5 articles train ran and evaluate failed; with 6 a validation F1 of 1.000 came from one article."""
    cfg = config()
    numbers = set(ids_in("train", train, cfg) + ids_in("validation", validation, cfg) + ids_in("test", 1, cfg))
    root = write_export(tmp_path, [r for r in articles(max(numbers) + 1) if int(r["id"].split("-")[1]) in numbers])
    out = tmp_path / "model"
    done = CliRunner().invoke(app, ["train", str(root), "--out", str(out), "-c", str(CONFIG), "--base", "blank"])
    assert done.exit_code == 1, done.output
    assert f"Error: {root / 'v1'}: {message}\n" in done.output
    assert f"hint: annotate more articles (about {about} annotated articles in all at its share" in done.output
    assert "Traceback" not in done.output and not out.exists()


def test_promotion_is_decided_on_the_test_split_or_forced_and_models_lists_and_goes_back(export_root, tmp_path):
    """Issue 28: a trained model becomes the project's current one (the one preannotate runs)
    only when the test split shows it better, or when --promote forces it (said so)."""
    import json

    def train(out, *more):
        args = ["train", str(export_root), "--out", str(out), "--config", str(CONFIG), "--base", "blank"]
        done = CliRunner().invoke(app, [*args, "--epochs", "1", *more])
        assert done.exit_code == 0, done.output
        return done.output

    skipped = train(tmp_path / "a", "--no-promote")
    assert "Not promoted (--no-promote): en_core_web_sm (spacy.model) stays the project's current model" in skipped
    assert "`toolkit models use en_news_ner-0.0.0+" in skipped
    evaluated = train(tmp_path / "b", "--seed", "1")
    assert "Test split (" in evaluated and "(paired bootstrap over articles)" in evaluated
    registry = json.loads((tmp_path / "models" / "registry.json").read_text())["projects"]["News NER"]
    figures = [line for line in evaluated.splitlines() if line.startswith("Test split")][0]
    low = float(figures.split("95% interval [")[1].split(",")[0]) if "95% interval" in figures else None
    assert (registry["current"] is not None) == (low is not None and low > 0)
    forced = train(tmp_path / "c", "--seed", "2", "--promote")
    version = json.loads((tmp_path / "c" / "meta.json").read_text())["version"]
    if registry["current"] is None:
        assert "Promoted (forced by --promote; not shown better" in forced
    assert "is the project's current model" in forced and "toolkit preannotate INPUT --config" in forced

    listed = CliRunner().invoke(app, ["models", "list", "--config", str(CONFIG)])
    assert listed.exit_code == 0, listed.output
    assert "3 trained models" in listed.output
    current = [line for line in listed.output.splitlines() if line.lstrip().startswith("*")]
    assert len(current) == 1 and f"en_news_ner-{version}" in current[0]
    back = CliRunner().invoke(app, ["models", "use", "base", "--config", str(CONFIG)])
    assert back.exit_code == 0, back.output
    assert f"is now en_core_web_sm (configured spacy.model) (was en_news_ner-{version})" in back.output
    unknown = CliRunner().invoke(app, ["models", "use", "nope", "--config", str(CONFIG)])
    assert unknown.exit_code == 1 and "has no model 'nope'" in unknown.output and "Traceback" not in unknown.output


def test_without_test_articles_nothing_is_compared_and_nothing_promoted_unless_forced(tmp_path):
    cfg = config()
    chosen = set(ids_in("train", 12, cfg) + ids_in("validation", 2, cfg))
    records = [r for r in articles(max(chosen) + 1, seed=4) if int(r["id"].split("-")[1]) in chosen]
    root = write_export(tmp_path, records)
    args = ["train", str(root), "--config", str(CONFIG), "--base", "blank", "--epochs", "1"]
    done = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "a")])
    assert done.exit_code == 0, done.output
    assert "Not promoted (not compared: " in done.output and "test" in done.output
    assert "Test split (" not in done.output
    forced = CliRunner().invoke(app, [*args, "--out", str(tmp_path / "b"), "--seed", "3", "--promote"])
    assert forced.exit_code == 0, forced.output
    assert "Promoted (forced by --promote; not compared: " in forced.output
