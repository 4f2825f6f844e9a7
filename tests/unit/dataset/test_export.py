from __future__ import annotations

import json
import re
from pathlib import Path

import datasets
import pytest

from tests.unit.dataset.builders import GPE, PERSON, TEXT, annotated, rows_of, write_jsonl
from toolkit.dataset import ExportStats, export
from toolkit.dataset.inputs import check_inputs
from toolkit.dataset.rows import RowSettings, build_row
from toolkit.errors import InputError, LossOverLimitError
from toolkit.nlp.alignment import tags_to_spans
from toolkit.records import tag_names


class Appendix:
    """An attachment that counts the articles it sees and writes one file into the version."""

    files = (("appendix", "appendix.txt"),)

    def __init__(self) -> None:
        self.seen: list[str] = []

    def add(self, article) -> None:
        self.seen.append(article.id)

    def finish(self, folder: Path) -> str:
        (folder / "appendix.txt").write_text(f"{len(self.seen)} articles\n")
        return f"## Appendix\n\n{len(self.seen)} articles seen."


def test_export_writes_a_loadable_dataset_with_class_label_names(tmp_path, config, make_doc):
    records = [annotated(f"a{i}", [PERSON, GPE], task_id=i, predicted=[PERSON]) for i in range(20)]
    source = write_jsonl(tmp_path / "annotations.jsonl", records)
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    assert result.path == tmp_path / "out" / "v1"
    names = tag_names(config.labels)
    loaded = datasets.load_from_disk(str(result.path))
    assert set(loaded) == set(config.export.splits)
    assert sum(len(split) for split in loaded.values()) == 20 == result.stats.articles
    assert all(split.features["ner_tags"].feature.names == names for split in loaded.values())
    # The parquet files carry the ClassLabel names too, for load_dataset and the Hub.
    parquet = {name: str(result.path / "data" / f"{name}-*.parquet") for name in config.export.splits}
    from_parquet = datasets.load_dataset("parquet", data_files=parquet)
    assert all(split.features["ner_tags"].feature.names == names for split in from_parquet.values())
    assert sorted(row["id"] for split in from_parquet.values() for row in split) == sorted(r["id"] for r in records)
    row = rows_of(result.path)["a0"]
    assert [names[t] for t in row["ner_tags"]] == ["B-PERSON", "I-PERSON", "O", "B-GPE", "O"]
    assert row["spans"] == [PERSON, GPE]
    assert (row["source"], row["n_annotators"], row["annotators"], row["model_version"], row["n_corrections"]) == (
        "human",
        1,
        ["annotator-1"],
        "m-1",
        1,
    )
    assert result.stats.edits == {"accepted unchanged": 20, "added": 20}


def test_tags_and_spans_of_every_row_agree(tmp_path, config, make_doc):
    texts = [
        "The Red Cross sent aid to Bratislava on the Danube.",
        "Angela Merkel met Emmanuel Macron in Paris.\n\nThe European Union agreed.",
        "Nothing to see here.",
    ]
    spans = [
        [
            {"start": 4, "end": 13, "label": "ORG"},
            {"start": 26, "end": 36, "label": "GPE"},
            {"start": 44, "end": 50, "label": "LOC"},
        ],
        [
            PERSON,
            {"start": 18, "end": 33, "label": "PERSON"},
            {"start": 37, "end": 42, "label": "GPE"},
            {"start": 49, "end": 63, "label": "ORG"},
        ],
        [],
    ]
    records = [annotated(f"r{i}-{k}", spans[k], text=texts[k], task_id=i * 3 + k) for i in range(10) for k in range(3)]
    source = write_jsonl(tmp_path / "a.jsonl", records)
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    assert result.stats.lost == []
    names = tag_names(config.labels)
    for row in rows_of(result.path).values():
        doc = make_doc(row["text"])
        words = [t for t in doc if not t.is_space]
        assert row["tokens"] == [t.text for t in words]
        offsets = [(t.idx, t.idx + len(t.text)) for t in words]
        from_tags = tags_to_spans(offsets, [names[t] for t in row["ner_tags"]])
        assert from_tags == [(s["start"], s["end"], s["label"]) for s in row["spans"]]


def test_splits_are_disjoint_and_stable_when_articles_are_added(tmp_path, config, make_doc):
    first = [annotated(f"s{i}", [PERSON], task_id=i) for i in range(40)]
    source = write_jsonl(tmp_path / "a.jsonl", first)
    v1 = export(source, config=config, out=tmp_path / "out", make_doc=make_doc).path
    write_jsonl(source, [annotated(f"new{i}", [GPE], task_id=100 + i) for i in range(40)] + first[::-1])
    v2 = export(source, config=config, out=tmp_path / "out", make_doc=make_doc).path
    assert (v1.name, v2.name) == ("v1", "v2")
    for version, count in ((v1, 40), (v2, 80)):
        loaded = datasets.load_from_disk(str(version))
        ids = [row_id for split in loaded.values() for row_id in split["id"]]
        assert len(ids) == len(set(ids)) == count
    before, after = rows_of(v1), rows_of(v2)
    assert {k: r["split"] for k, r in before.items()} == {k: after[k]["split"] for k in before}


def test_max_loss_fails_the_export_and_writes_nothing(tmp_path, config, make_doc):
    planted = annotated("planted", [{"start": 9, "end": 12, "label": "ORG"}])
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("fine", [PERSON], task_id=2), planted])
    with pytest.raises(LossOverLimitError, match="1 span lost in the alignment, more than max_loss 0") as raised:
        export(source, config=config, out=tmp_path / "out", make_doc=make_doc, max_loss=0)
    assert "inside the token 'Merkel'" in str(raised.value)
    assert (raised.value.lost, raised.value.limit, raised.value.exit_code) == (1, 0, 1)
    assert isinstance(raised.value, InputError)
    assert [p.name for p in (tmp_path / "out").iterdir()] == []
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc, max_loss=1)
    report = [json.loads(line) for line in (result.path / "loss_report.jsonl").read_text().splitlines()]
    assert report == [
        {
            "article_id": "planted",
            "task_id": 1,
            "start": 9,
            "end": 12,
            "label": "ORG",
            "text": "rke",
            "carried": [7, 13],
            "reason": "inside the token 'Merkel'; the tags carry 7-13 'Merkel' instead",
        }
    ]
    # The row keeps the span as annotated; the tags carry the whole token.
    row = rows_of(result.path)["planted"]
    assert row["spans"] == [{"start": 9, "end": 12, "label": "ORG"}]
    assert result.manifest["counts"]["lost_spans"] == 1
    # The same inputs again: no version to refuse, but the limit still holds.
    with pytest.raises(LossOverLimitError, match=re.escape("more than max_loss 0 (the inputs are those of v1")):
        export(source, config=config, out=tmp_path / "out", make_doc=make_doc, max_loss=0)


def test_include_predictions_adds_model_rows_for_articles_no_human_annotated(tmp_path, config, make_doc):
    source = write_jsonl(
        tmp_path / "a.jsonl",
        [annotated("human", [PERSON], predicted=[PERSON, GPE])],
    )
    write_jsonl(
        tmp_path / "a.ledger.jsonl",
        [
            {"kind": "task_only_skipped", "reason": "every annotation skipped", "task_id": 9, "article_id": "skipped"},
            {
                "kind": "annotation_skipped",
                "reason": "skipped",
                "task_id": 9,
                "annotation_id": 3,
                "article_id": "skipped",
            },
        ],
    )
    model = {"name": "core_web_sm", "version": "3.8.0"}
    predictions = write_jsonl(
        tmp_path / "predictions.jsonl",
        [
            {"id": article_id, "text": TEXT, "model": model, "spans": [{**GPE, "score": 0.9}]}
            for article_id in ("human", "model-only", "skipped")
        ],
    )
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc, predictions=predictions)
    rows = rows_of(result.path)
    assert set(rows) == {"human", "model-only"}
    assert rows["human"]["source"] == "human" and rows["human"]["n_corrections"] == 1
    model_row = rows["model-only"]
    assert (model_row["source"], model_row["n_annotators"], model_row["model_version"], model_row["n_corrections"]) == (
        "model",
        0,
        "core_web_sm-3.8.0",
        None,
    )
    assert model_row["spans"] == [GPE]
    assert (result.stats.human_rows, result.stats.model_rows) == (1, 1)
    assert (result.stats.skipped_annotations, result.stats.only_skipped_tasks) == (1, 1)


def test_empty_splits_still_load(tmp_path, config, make_doc):
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("only", [], text="Paris.")])
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    loaded = datasets.load_from_disk(str(result.path))
    assert sorted(len(split) for split in loaded.values()) == [0, 0, 1]
    assert all(split.features["ner_tags"].feature.names[0] == "O" for split in loaded.values())
    # An empty split has no parquet file (load_dataset fails on one); the card lists only the others.
    (only,) = [name for name, split in loaded.items() if len(split)]
    assert [p.name for p in (result.path / "data").iterdir()] == [f"{only}-00000-of-00001.parquet"]
    assert list(datasets.load_dataset(str(result.path))) == [only]


def test_an_empty_file_that_is_not_a_pull_is_an_error(tmp_path, config, make_doc):
    source = write_jsonl(tmp_path / "a.jsonl", [])
    with pytest.raises(InputError, match="a.jsonl: no annotated articles in it, and no pull ledger next to it"):
        export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    assert not (tmp_path / "out").exists()


def test_a_pull_with_nothing_annotated_yet_exports_an_empty_dataset_with_its_schema(tmp_path, config, make_doc):
    # The first `make run`: tasks are pushed, nobody has annotated, the pull is empty.
    source = write_jsonl(tmp_path / "a.jsonl", [])
    not_annotated = {"kind": "task_not_annotated", "task_id": 1, "article_id": "x", "reason": "no submitted annotation"}
    write_jsonl(tmp_path / "a.ledger.jsonl", [not_annotated])
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    assert result.version == "v1" and not result.unchanged and result.stats.articles == 0
    loaded = datasets.load_from_disk(str(result.path))
    assert list(loaded) == list(config.export.splits)
    assert all(len(split) == 0 for split in loaded.values())
    assert loaded["train"].features["ner_tags"].feature.names == tag_names(config.labels)
    assert "## Nothing is annotated yet" in (result.path / "README.md").read_text()


def test_the_same_inputs_write_no_new_version_and_a_change_does(tmp_path, config, make_doc):
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("a", [PERSON])])
    write_jsonl(tmp_path / "a.ledger.jsonl", [])
    out = tmp_path / "out"
    first = export(source, config=config, out=out, make_doc=make_doc)
    again = export(source, config=config, out=out, make_doc=make_doc)
    assert (first.version, again.version, again.unchanged) == ("v1", "v1", True)
    assert sorted(p.name for p in out.iterdir()) == ["LATEST", "v1"]
    # Only the ledger changed (a new draft, say): the card's figures change, so a new version.
    write_jsonl(
        tmp_path / "a.ledger.jsonl", [{"kind": "annotation_draft", "task_id": 1, "article_id": "a", "reason": "draft"}]
    )
    third = export(source, config=config, out=out, make_doc=make_doc)
    assert (third.version, third.unchanged) == ("v2", False)
    write_jsonl(tmp_path / "a.jsonl", [annotated("a", [PERSON, GPE])])
    fourth = export(source, config=config, out=out, make_doc=make_doc)
    assert (fourth.version, fourth.unchanged) == ("v3", False)
    assert (out / "LATEST").read_text().strip() == "v3"
    # Another option (here: an attachment, as toolkit.compose's report) is another dataset card.
    fifth = export(source, config=config, out=out, make_doc=make_doc, attachment=Appendix())
    assert (fifth.version, fifth.unchanged) == ("v4", False)
    assert export(source, config=config, out=out, make_doc=make_doc, attachment=Appendix()).unchanged


def test_an_attachment_sees_every_checked_article_and_is_published_with_the_version(tmp_path, source, config, make_doc):
    appendix = Appendix()
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc, attachment=appendix)
    assert appendix.seen == [f"a{i}" for i in range(12)] + ["planted"]
    assert (result.path / "appendix.txt").read_text() == "13 articles\n"
    assert "appendix.txt" in result.manifest["files"]
    assert result.attached == (("appendix", result.path / "appendix.txt"),)
    assert (result.path / "README.md").read_text().rstrip().endswith("## Appendix\n\n13 articles seen.")


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (annotated("x", [{"start": 0, "end": 99, "label": "PERSON"}]), "a.jsonl:2: span 0-99 ends beyond the text"),
        (
            annotated("x", [{"start": 0, "end": 6, "label": "DATE"}]),
            "a.jsonl:2: span label 'DATE' is not in the config's labels",
        ),
        (annotated("first", [PERSON]), "a.jsonl:2: article id 'first' again (first on line 1)"),
        ({"id": "x", "text": TEXT}, "a.jsonl:2: not an annotated article record"),
    ],
)
def test_bad_input_is_an_error_naming_the_line(tmp_path, config, make_doc, record, message):
    source = write_jsonl(tmp_path / "a.jsonl", [annotated("first", [PERSON]), record])
    with pytest.raises(InputError, match=re.escape(message)):
        export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    assert not (tmp_path / "out").exists()  # the input is checked before the export root is made


def test_policy_all_gives_one_row_per_annotator_in_one_split(tmp_path, config, make_doc):
    # pull.policy: all writes the same article once per annotator; each is a row, never split apart.
    first = annotated("same", [PERSON], task_id=1, policy="all")
    second = {**annotated("same", [], task_id=2, policy="all"), "task_id": 1}
    source = write_jsonl(tmp_path / "a.jsonl", [first, second])
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    loaded = datasets.load_from_disk(str(result.path))
    rows = [(name, row["spans"]) for name, split in loaded.items() for row in split]
    assert len(rows) == 2 and len({name for name, _ in rows}) == 1
    assert sorted(len(spans) for _, spans in rows) == [0, 1]
    again = write_jsonl(tmp_path / "b.jsonl", [first, first])
    with pytest.raises(InputError, match=re.escape("b.jsonl:2: article id 'same' again (first on line 1)")):
        export(again, config=config, out=tmp_path / "out2", make_doc=make_doc)


def test_the_stats_are_the_sum_of_the_rows_counts_and_the_inputs_counts(tmp_path, source, config, make_doc):
    write_jsonl(
        tmp_path / "annotations.ledger.jsonl",
        [{"kind": "annotation_draft", "task_id": 1, "article_id": "a1", "reason": "draft"}],
    )
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    _, expected = check_inputs(source, None, config=config)
    settings = RowSettings.of(config, make_doc)
    for line in source.read_text().splitlines():
        expected += build_row(json.loads(line), "human", settings).counts
    assert result.stats == expected
    assert (result.stats.articles, result.stats.ledger["annotation_draft"], len(result.stats.lost)) == (13, 1, 1)
    assert result.stats.rows_per_split.total() == 13
    assert result.manifest["counts"]["rows"] == 13


def test_a_second_export_into_the_same_root_counts_everything_again(tmp_path, source, config, make_doc):
    # The same rows (only the ledger differs): whatever could be reused, the counts are whole.
    out = tmp_path / "out"
    first = export(source, config=config, out=out, make_doc=make_doc)
    write_jsonl(tmp_path / "annotations.ledger.jsonl", [])
    second = export(source, config=config, out=out, make_doc=make_doc)
    assert (first.version, second.version) == ("v1", "v2")
    assert second.stats.ledger_found and not first.stats.ledger_found
    ignored = {"ledger_found"}
    assert {k: v for k, v in vars(second.stats).items() if k not in ignored} == {
        k: v for k, v in vars(first.stats).items() if k not in ignored
    }
    assert second.stats.articles == 13 and second.manifest["counts"] == first.manifest["counts"]
    assert rows_of(first.path) == rows_of(second.path)
    assert second.stats != ExportStats()


def test_a_near_duplicate_group_is_exported_into_one_split(tmp_path, config, make_doc):
    # 30 copies of one story (push's group "story-0") and 30 articles alone: the copies
    # would spread over every split by their own ids; grouped, they follow their group.
    copies = [annotated(f"story-{i}", [PERSON], task_id=i, group="story-0") for i in range(30)]
    copies[0].pop("group")  # the group's first article carries no group: it is its own
    alone = [annotated(f"alone-{i}", [GPE], task_id=100 + i) for i in range(30)]
    source = write_jsonl(tmp_path / "a.jsonl", copies + alone)
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    rows = rows_of(result.path)
    assert {rows[f"story-{i}"]["split"] for i in range(30)} == {rows["story-0"]["split"]}
    assert len({rows[f"alone-{i}"]["split"] for i in range(30)}) > 1  # the others still spread
    # The card's and manifest's counts per split are of the same assignment as the rows.
    counted = {name: sum(1 for row in rows.values() if row["split"] == name) for name in config.export.splits}
    assert {name: result.stats.rows_per_split.get(name, 0) for name in counted} == counted


@pytest.mark.parametrize("missing", ["annotations", "predictions"])
def test_the_export_names_a_missing_input_and_the_command_that_writes_it(tmp_path, source, config, make_doc, missing):
    files = {"annotations": source, "predictions": None, missing: tmp_path / "none.jsonl"}
    with pytest.raises(InputError, match="none.jsonl: file not found") as raised:
        export(
            files["annotations"],
            config=config,
            out=tmp_path / "out",
            make_doc=make_doc,
            predictions=files["predictions"],
        )
    writer = "pull" if missing == "annotations" else "preannotate"
    assert raised.value.hint == f"write it with `toolkit {writer} --out FILE.jsonl`"
    assert not (tmp_path / "out").exists()
