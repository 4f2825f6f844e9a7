"""The export root: versions, LATEST, a kill half-way, folders that are not export roots."""

from __future__ import annotations

import hashlib
import json

import pytest

from tests.faults import EXPORT_KILL_AT
from tests.unit.dataset.builders import CONFIG, add_article, rows_of, run_cli
from toolkit.compose import ReportAttachment
from toolkit.dataset import export
from toolkit.errors import OutputError
from toolkit.hooks import Hooks, installed
from toolkit.io.exports import latest_version


def test_each_export_is_a_new_version_and_latest_points_at_it(tmp_path, source, config, make_doc):
    out = tmp_path / "exports" / "news-ner"
    first = export(source, config=config, out=out, make_doc=make_doc)
    add_article(source)
    report = ReportAttachment(source, config=config, make_doc=make_doc)
    second = export(source, config=config, out=out, make_doc=make_doc, attachment=report)
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
    assert manifest["version"] == "v2"
    assert manifest["input"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    assert manifest["counts"]["rows"] == 14 and manifest["counts"]["lost_spans"] == 1
    assert manifest["versions"]["toolkit"] and manifest["versions"]["datasets"]
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / "v2" / name).read_bytes()).hexdigest() == digest


def test_a_folder_that_is_not_an_export_root_is_refused(tmp_path, source, config, make_doc):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "precious.txt").write_text("x")
    with pytest.raises(OutputError, match="is not an export folder"):
        export(source, config=config, out=tmp_path / "d", make_doc=make_doc)
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "dataset_dict.json").write_text("{}")
    with pytest.raises(OutputError, match="old single-folder layout"):
        export(source, config=config, out=tmp_path / "old", make_doc=make_doc)
    assert (tmp_path / "d" / "precious.txt").exists()


def test_files_next_to_the_versions_are_left_alone(tmp_path, source, config, make_doc):
    # `make run` writes the report page into the export root after the export.
    out = tmp_path / "out"
    export(source, config=config, out=out, make_doc=make_doc)
    (out / "report.html").write_text("<html></html>")
    add_article(source)
    assert export(source, config=config, out=out, make_doc=make_doc).version == "v2"
    assert (out / "report.html").read_text() == "<html></html>"


def test_the_export_calls_its_named_steps_in_order_before_it_publishes(tmp_path, source, config, make_doc):
    # The hook points the kill test below stops at, handed in and seen in-process.
    out = tmp_path / "out"
    seen = []
    with installed(Hooks(export_step=lambda step: seen.append((step, (out / "LATEST").exists())))):
        export(source, config=config, out=out, make_doc=make_doc)
    assert seen == [("after-save", False), ("before-manifest", False), ("before-rename", False)]
    assert (out / "LATEST").read_text() == "v1\n"


@pytest.mark.parametrize("point", ["after-save", "before-manifest", "before-rename"])
def test_a_kill_half_way_leaves_the_previous_version_and_nothing_that_looks_complete(
    tmp_path, source, config, make_doc, point
):
    # Only the killed export needs a process of its own; the ones around it run here.
    out = tmp_path / "out"
    export(source, config=config, out=out, make_doc=make_doc)
    add_article(source)
    killed = run_cli("export", str(source), "--config", CONFIG, "--out", str(out), env={EXPORT_KILL_AT: point})
    assert killed.returncode == -9
    (temp,) = [p for p in out.iterdir() if p.name.startswith(".tmp-")]
    assert sorted(p.name for p in out.iterdir() if p != temp) == ["LATEST", "v1"]
    assert (out / "LATEST").read_text() == "v1\n"
    assert latest_version(out) == out / "v1"
    assert (temp / "manifest.json").exists() == (point == "before-rename")
    # The next export removes the dead process's folder and writes v2.
    assert export(source, config=config, out=out, make_doc=make_doc).version == "v2"
    assert sorted(p.name for p in out.iterdir()) == ["LATEST", "v1", "v2"]
    assert len(rows_of(out / "v2")) == 14
