from __future__ import annotations

import json

from typer.testing import CliRunner

from tests.unit.dataset.builders import GPE, PERSON, add_article, annotated, rows_of, write_jsonl
from toolkit.cli import app
from toolkit.dataset import export
from toolkit.dataset.diff import diff_exports


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


def test_diff_reports_a_label_reorder_first_and_compares_rows_by_tag_name(tmp_path, config, make_doc):
    """Reordered labels move every ner_tags id: the diff says so before anything else, and
    compares rows by tag name (no row changed), on the console and in --json."""
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("one", [PERSON, GPE]), annotated("two", [GPE], task_id=2)])
    out = tmp_path / "out"
    export(source, config=config, out=out, make_doc=make_doc)
    reordered = config.model_copy(update={"labels": list(reversed(config.labels))})
    export(source, config=reordered, out=out, make_doc=make_doc)
    assert rows_of(out / "v1")["one"]["ner_tags"] != rows_of(out / "v2")["one"]["ner_tags"]  # the ids did move

    diff = diff_exports(out / "v1", out / "v2")
    assert diff.schema is not None
    assert diff.schema.labels_added == diff.schema.labels_removed == []
    assert ("B-PERSON", 1 + 2 * config.labels.index("PERSON"), 1 + 2 * reordered.labels.index("PERSON")) in (
        diff.schema.ids_moved
    )
    assert (diff.changed, diff.unchanged) == ([], 2)

    result = CliRunner().invoke(app, ["export-diff", str(out / "v1"), str(out / "v2")])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "Schema changed:"
    assert "ner_tags changed (labels reordered)" in lines[1]
    assert "ner_tags ids moved" in lines[2] and "B-PERSON" in lines[2]
    assert "0 changed, 2 unchanged" in result.stdout

    as_json = json.loads(CliRunner().invoke(app, ["export-diff", str(out / "v1"), str(out / "v2"), "--json"]).stdout)
    assert next(iter(as_json)) == "schema_changed" and as_json["schema_changed"] is True
    assert as_json["schema"]["ner_tags_new"][1:3] == [f"B-{reordered.labels[0]}", f"I-{reordered.labels[0]}"]
    assert as_json["articles_changed"] == [] and as_json["articles_unchanged"] == 2


def test_diff_reports_a_label_added_and_a_same_schema_says_nothing(tmp_path, config, make_doc):
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("one", [PERSON])])
    out = tmp_path / "out"
    export(source, config=config, out=out, make_doc=make_doc)
    add_article(source)
    export(source, config=config, out=out, make_doc=make_doc)
    assert diff_exports(out / "v1", out / "v2").schema is None
    assert "Schema" not in CliRunner().invoke(app, ["export-diff", str(out / "v1"), str(out / "v2")]).stdout
    export(source, config=config.model_copy(update={"labels": [*config.labels, "EVENT2"]}), out=out, make_doc=make_doc)
    diff = diff_exports(out / "v2", out / "v3")
    assert diff.schema is not None and diff.schema.labels_added == ["EVENT2"] and diff.schema.ids_moved == []
    assert "labels added: EVENT2" in diff.schema.lines()[0]
