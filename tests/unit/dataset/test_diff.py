from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.unit.dataset.builders import GPE, PERSON, annotated, write_jsonl
from toolkit.cli import app
from toolkit.dataset.diff import diff_exports
from toolkit.dataset.export import export


def test_diff_lists_articles_added_removed_and_spans_changed(tmp_path, config, make_doc):
    source = tmp_path / "a.jsonl"
    out = tmp_path / "out"
    write_jsonl(
        source, [annotated("keep", [PERSON]), annotated("edit", [PERSON], task_id=2), annotated("gone", [], task_id=3)]
    )
    export(source, config=config, out=out, make_doc=make_doc)
    write_jsonl(
        source, [annotated("keep", [PERSON]), annotated("edit", [GPE], task_id=2), annotated("new", [], task_id=4)]
    )
    export(source, config=config, out=out, make_doc=make_doc)
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
