from __future__ import annotations

import json

import datasets
import pytest

from toolkit.export import ExportStats, align, export, split_of, tag_names
from toolkit.records import Span


def test_tag_names_follow_config_order():
    assert tag_names(["PERSON", "ORG"]) == ["O", "B-PERSON", "I-PERSON", "B-ORG", "I-ORG"]


def test_strict_alignment_and_iob2(pipeline):
    doc = pipeline.nlp.make_doc("Angela Merkel visited New York.\n\nShe left.")
    stats = ExportStats()
    tags = align(doc, [Span(start=0, end=13, label="PERSON"), Span(start=22, end=30, label="GPE")], stats, "t")
    assert [t.text for t in doc if not t.is_space] == ["Angela", "Merkel", "visited", "New", "York", ".", "She", "left", "."]
    assert tags == ["B-PERSON", "I-PERSON", "O", "B-GPE", "I-GPE", "O", "O", "O", "O"]
    assert (stats.aligned_strict, stats.aligned_expanded, stats.lost) == (2, 0, [])


def test_partial_token_span_expands_and_overlap_is_reported(pipeline):
    doc = pipeline.nlp.make_doc("Angela Merkel visited Paris.")
    stats = ExportStats()
    spans = [Span(start=1, end=13, label="PERSON"), Span(start=7, end=13, label="ORG")]
    tags = align(doc, spans, stats, "article a")
    assert tags == ["B-PERSON", "I-PERSON", "O", "O", "O"]
    assert stats.aligned_expanded == 1
    assert stats.lost == ["article a: span 7-13 ORG overlaps another span"]


def test_split_is_a_function_of_the_id_only():
    splits = {"train": 0.8, "validation": 0.1, "test": 0.1}
    assigned = {f"id-{i}": split_of(f"id-{i}", splits) for i in range(2000)}
    assert assigned == {key: split_of(key, splits) for key in assigned}
    shares = {name: sum(v == name for v in assigned.values()) / 2000 for name in splits}
    assert shares["train"] == pytest.approx(0.8, abs=0.04)
    assert set(assigned.values()) == set(splits)


def test_export_writes_a_loadable_dataset(tmp_path, config, pipeline):
    records = [
        {"id": f"a{i}", "text": "Angela Merkel visited Paris.", "task_id": i, "spans": [{"start": 0, "end": 13, "label": "PERSON"}],
         "chosen": [i], "annotations": [{"id": i, "annotator": "annotator-1", "spans": [{"start": 0, "end": 13, "label": "PERSON"}]}]}
        for i in range(20)
    ]
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in records))
    out = tmp_path / "dataset"
    stats = export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    loaded = datasets.load_from_disk(str(out))
    assert set(loaded) == set(config.export.splits)
    assert sum(len(split) for split in loaded.values()) == 20 == stats.articles
    names = loaded["train"].features["ner_tags"].feature.names
    assert names == tag_names(config.labels)
    row = next(split[0] for split in loaded.values() if len(split))
    assert [names[t] for t in row["ner_tags"]] == ["B-PERSON", "I-PERSON", "O", "O", "O"]
    assert row["spans"] == [{"start": 0, "end": 13, "label": "PERSON"}]
    # A second export replaces the first whole.
    export(source, config=config, out=out, make_doc=pipeline.nlp.make_doc)
    assert sum(len(split) for split in datasets.load_from_disk(str(out)).values()) == 20


def test_empty_splits_still_load(tmp_path, config, pipeline):
    source = tmp_path / "annotations.jsonl"
    record = {"id": "only", "text": "Paris.", "task_id": 1, "spans": [], "chosen": [1], "annotations": [{"id": 1, "annotator": "a", "spans": []}]}
    source.write_text(json.dumps(record) + "\n")
    export(source, config=config, out=tmp_path / "d", make_doc=pipeline.nlp.make_doc)
    loaded = datasets.load_from_disk(str(tmp_path / "d"))
    assert sorted(len(split) for split in loaded.values()) == [0, 0, 1]
    assert all(split.features["ner_tags"].feature.names[0] == "O" for split in loaded.values())


def test_export_refuses_to_replace_a_folder_that_is_not_a_dataset(tmp_path, config, pipeline):
    from toolkit.errors import OutputError

    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "precious.txt").write_text("x")
    source = tmp_path / "a.jsonl"
    source.write_text("")
    with pytest.raises(OutputError, match="is not an exported dataset"):
        export(source, config=config, out=tmp_path / "d", make_doc=pipeline.nlp.make_doc)
    assert (tmp_path / "d" / "precious.txt").exists()
