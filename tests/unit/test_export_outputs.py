"""The export folder: versions, a kill half-way, the card, DocBin, CoNLL, the diff, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import datasets
import pytest
import yaml
from typer.testing import CliRunner

from tests.unit.test_export_logic import GPE, PERSON, annotated, rows_of, write_jsonl
from toolkit._testing.faults import EXPORT_KILL_AT
from toolkit.cli import app
from toolkit.dataset.diff import diff_exports
from toolkit.dataset.export import export, latest_version
from toolkit.errors import OutputError
from toolkit.nlp.alignment import tag_names

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "configs" / "news-ner.yaml")


@pytest.fixture
def source(tmp_path) -> Path:
    records = [annotated(f"a{i}", [PERSON, GPE], task_id=i, predicted=[PERSON]) for i in range(12)]
    records.append(annotated("planted", [{"start": 9, "end": 12, "label": "ORG"}], task_id=99))
    return write_jsonl(tmp_path / "annotations.jsonl", records)


def add_article(source: Path, article_id: str = "new") -> None:
    """A new annotated article in the pull: the next export has something new to write."""
    with source.open("a") as handle:
        handle.write(json.dumps(annotated(article_id, [PERSON], task_id=500)) + "\n")


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, **(env or {})}
    environment.pop("TOOLKIT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "toolkit", *args], capture_output=True, text=True, env=environment, cwd=cwd, timeout=300
    )


def test_each_export_is_a_new_version_and_latest_points_at_it(tmp_path, source, config, pipeline):
    out = tmp_path / "exports" / "news-ner"
    first = export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    add_article(source)
    second = export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    assert (first.version, second.version) == ("v1", "v2")
    assert (out / "LATEST").read_text() == "v2\n"
    assert latest_version(out) == out / "v2"
    assert sorted(p.name for p in out.iterdir()) == ["LATEST", "v1", "v2"]
    assert sorted(p.name for p in (out / "v2").iterdir()) == sorted(
        [
            "README.md",
            "manifest.json",
            "loss_report.jsonl",
            "report.html",
            "dataset_dict.json",
            "data",
            "spacy",
            "conll",
            *[name for name in config.export.splits if second.stats.rows_per_split[name]],
            *[name for name in config.export.splits if not second.stats.rows_per_split[name]],
        ]
    )
    manifest = json.loads((out / "v2" / "manifest.json").read_text())
    import hashlib

    assert manifest["version"] == "v2"
    assert manifest["input"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["counts"]["rows"] == 14 and manifest["counts"]["lost_spans"] == 1
    assert manifest["versions"]["toolkit"] and manifest["versions"]["datasets"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / "v2" / name).read_bytes()).hexdigest() == digest


def test_a_folder_that_is_not_an_export_root_is_refused(tmp_path, source, config, pipeline):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "precious.txt").write_text("x")
    with pytest.raises(OutputError, match="is not an export folder"):
        export(source, config=config, out=tmp_path / "d", make_doc=pipeline.nlp.make_doc)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dataset_dict.json").write_text("{}")
    with pytest.raises(OutputError, match="old single-folder layout"):
        export(source, config=config, out=tmp_path / "old", make_doc=pipeline.nlp.make_doc)
    assert (tmp_path / "d" / "precious.txt").exists()


def test_files_next_to_the_versions_are_left_alone(tmp_path, source, config, pipeline):
    # `make run` writes the report page into the export root after the export.
    out = tmp_path / "out"
    export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    (out / "report.html").write_text("<html></html>")
    add_article(source)
    assert export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc).version == "v2"
    assert (out / "report.html").read_text() == "<html></html>"


@pytest.mark.parametrize("point", ["after-save", "before-manifest", "before-rename"])
def test_a_kill_half_way_leaves_the_previous_version_and_nothing_that_looks_complete(tmp_path, source, point):
    out = tmp_path / "out"
    assert run_cli("export", str(source), "--config", CONFIG, "--out", str(out)).returncode == 0
    add_article(source)
    killed = run_cli("export", str(source), "--config", CONFIG, "--out", str(out), env={EXPORT_KILL_AT: point})
    assert killed.returncode == -9
    (temp,) = [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert sorted(p.name for p in out.iterdir() if p != temp) == ["LATEST", "v1"]
    assert (out / "LATEST").read_text() == "v1\n"
    assert latest_version(out) == out / "v1"
    assert (temp / "manifest.json").exists() == (point == "before-rename")
    # The next export removes the dead process's folder and writes v2.
    done = run_cli("export", str(source), "--config", CONFIG, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == ["LATEST", "v1", "v2"]
    assert len(rows_of(out / "v2")) == 14


def test_card_yaml_parses_and_has_the_hub_metadata(tmp_path, source, config, pipeline):
    from huggingface_hub import DatasetCard

    sections = [("Model versus human: details", "From the report module."), "## Annotation report\n\n- Tasks: 13\n"]
    result = export(
        source,
        config=config,
        out=tmp_path / "out",
        make_doc=pipeline.nlp.make_doc,
        extra_sections=sections,
        model={"name": "en_core_web_sm", "version": "3.8.0"},
        with_report=False,
    )
    text = (result.path / "README.md").read_text()
    assert text.startswith("---\n")
    metadata = yaml.safe_load(text.split("---\n")[1])
    assert metadata["task_categories"] == ["token-classification"]
    assert metadata["task_ids"] == ["named-entity-recognition"]
    assert (metadata["language"], metadata["license"]) == ([config.export.language], config.export.license)
    features = {f["name"]: f for f in metadata["dataset_info"]["features"]}
    names = features["ner_tags"]["list"]["class_label"]["names"]
    assert [names[str(i)] for i in range(len(names))] == tag_names(config.labels)
    splits = {s["name"]: s["num_examples"] for s in metadata["dataset_info"]["splits"]}
    assert splits == {k: v for k, v in result.stats.rows_per_split.items() if v}
    card = DatasetCard.load(result.path / "README.md")
    assert card.data.task_ids == ["named-entity-recognition"]
    for heading in (
        "## Splits",
        "## Labels",
        "## Annotators and skips",
        "## Model versus human",
        "## Alignment and loss report",
        "## Versions",
    ):
        assert heading in card.text
    assert "**1 spans are lost**" in card.text and "inside the token 'Merkel'" in card.text
    assert "| en_core_web_sm 3.8.0 |" in card.text.replace("tokenizer pipeline ", "")
    assert card.text.rstrip().endswith(
        "## Model versus human: details\n\nFrom the report module.\n\n## Annotation report\n\n- Tasks: 13"
    )


def test_the_report_of_the_same_pull_goes_into_the_card_and_the_version_folder(tmp_path, source, config, pipeline):
    import json

    from toolkit.report.build import report

    result = export(source, config=config, out=tmp_path / "out", make_doc=pipeline.nlp.make_doc)
    card = (result.path / "README.md").read_text()
    page = (result.path / "report.html").read_text()
    expected = report(source, config=config, make_doc=pipeline.nlp.make_doc)
    assert f"annotated {expected.progress.annotated:,}" in card.split("## Annotation report", 1)[1]
    assert page.startswith("<!doctype html>") and "Model against human" in page
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert "report.html" in manifest["files"]
    assert not (
        export(source, config=config, out=tmp_path / "bare", make_doc=pipeline.nlp.make_doc, with_report=False).path
        / "report.html"
    ).exists()


def test_docbin_and_conll_come_from_the_same_alignment(tmp_path, source, config, pipeline):
    from spacy.tokens import DocBin

    result = export(source, config=config, out=tmp_path / "out", make_doc=pipeline.nlp.make_doc)
    rows = rows_of(result.path)
    names = tag_names(config.labels)
    # The n-th doc of a split's DocBin shards is the n-th row of the split.
    docs = {}
    loaded = datasets.load_from_disk(str(result.path))
    for split in config.export.splits:
        split_docs = [
            doc
            for path in sorted((result.path / "spacy").glob(f"{split}-*.spacy"))
            for doc in DocBin().from_disk(path).get_docs(pipeline.nlp.vocab)
        ]
        assert [doc.text for doc in split_docs] == loaded[split]["text"]
        docs.update({article_id: (split, doc) for article_id, doc in zip(loaded[split]["id"], split_docs)})
    assert set(docs) == set(rows)
    for article_id, (split, doc) in docs.items():
        assert split == rows[article_id]["split"]
        iob = [f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ != "O" else "O" for t in doc if not t.is_space]
        assert iob == [names[t] for t in rows[article_id]["ner_tags"]]
    assert [(e.start_char, e.end_char, e.label_) for e in docs["planted"][1].ents] == [(7, 13, "ORG")]
    conll_tags: list[list[str]] = []
    for split in config.export.splits:
        for block in (result.path / "conll" / f"{split}.conll").read_text().split("-DOCSTART- -X- -X- O\n\n")[1:]:
            conll_tags.append([line.split(" ")[-1] for line in block.splitlines() if line])
    assert sorted(conll_tags) == sorted([names[t] for t in row["ner_tags"]] for row in rows.values())


def test_diff_lists_articles_added_removed_and_spans_changed(tmp_path, config, pipeline):
    source = tmp_path / "a.jsonl"
    out = tmp_path / "out"
    write_jsonl(
        source, [annotated("keep", [PERSON]), annotated("edit", [PERSON], task_id=2), annotated("gone", [], task_id=3)]
    )
    export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    write_jsonl(
        source, [annotated("keep", [PERSON]), annotated("edit", [GPE], task_id=2), annotated("new", [], task_id=4)]
    )
    export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    diff = diff_exports(out / "v1", out)
    assert diff.new == out / "v2"
    assert (diff.added, diff.removed, diff.unchanged) == (["new"], ["gone"], 1)
    (change,) = diff.changed
    assert (change.article_id, change.added, change.removed) == ("edit", [(22, 27, "GPE")], [(0, 13, "PERSON")])
    result = CliRunner().invoke(app, ["export-diff", str(out / "v1"), str(out / "v2")])
    assert result.exit_code == 0
    assert "1 added, 1 removed, 1 changed, 1 unchanged" in result.stdout
    assert "~ edit: +22-27 GPE, -0-13 PERSON" in result.stdout
    as_json = json.loads(CliRunner().invoke(app, ["export-diff", str(out / "v1"), str(out / "v2"), "--json"]).stdout)
    assert as_json["articles_added"] == ["new"]


def test_cli_export_writes_a_version_and_reports_losses(tmp_path, source):
    done = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "1")
    assert done.returncode == 0, done.stderr
    assert f"Wrote 13 articles (13 human) to {tmp_path / 'out' / 'v1'}" in done.stdout
    assert "25 spans: 24 on token boundaries, 1 snapped (expand), 1 lost" in done.stdout
    assert "lost: article planted (task 99): ORG 9-12 'rke': inside the token 'Merkel'" in done.stdout
    failed = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "0")
    assert failed.returncode == 1
    # The same inputs as v1: no new version to refuse, but the limit is still checked.
    assert "Error: 1 spans lost in the alignment, more than --max-loss 0 (the inputs are those of v1" in failed.stderr
    add_article(source)
    failed = run_cli("export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), "--max-loss", "0")
    assert failed.returncode == 1
    assert "Error: 1 spans lost in the alignment, more than --max-loss 0; nothing written" in failed.stderr
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
def test_cli_argument_checks_fail_before_any_work(tmp_path, source, args, message):
    env = {"HF_HOME": str(tmp_path / "hf"), "HF_TOKEN": "", "HF_HUB_OFFLINE": "1"}
    done = run_cli(
        "export", str(source), "--config", CONFIG, "--out", str(tmp_path / "out"), *args, env=env, cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"Error: {message}" in done.stderr
    assert not (tmp_path / "out").exists()
