from __future__ import annotations

from collections import Counter

from tests.unit.dataset.builders import GPE, PERSON, TEXT, annotated
from toolkit.dataset.rows import RowSettings, build_row
from toolkit.metrics.edits import corrections
from toolkit.records import Span, tag_names


def test_corrections_count_spans_changed_against_the_prediction():
    human = [Span(start=0, end=13, label="PERSON"), Span(start=22, end=27, label="LOC")]
    predicted = [
        Span(start=0, end=13, label="PERSON"),
        Span(start=22, end=27, label="GPE"),
        Span(start=14, end=21, label="ORG"),
    ]
    assert corrections(human, predicted) == (1, 1, 2)
    assert corrections(predicted, predicted) == (3, 0, 0)


def test_a_human_row_carries_its_provenance_and_counts_its_edits(config, make_doc):
    settings = RowSettings.of(config, make_doc)
    relabelled = {**GPE, "label": "LOC"}
    row = build_row(annotated("a", [PERSON, relabelled], predicted=[PERSON, GPE]), "human", settings)
    names = tag_names(config.labels)
    assert [names[t] for t in row.values["ner_tags"]] == ["B-PERSON", "I-PERSON", "O", "B-LOC", "O"]
    assert row.values["tokens"] == ["Angela", "Merkel", "visited", "Paris", "."]
    assert (row.values["source"], row.values["annotators"], row.values["model_version"]) == (
        "human",
        ["annotator-1"],
        "m-1",
    )
    # n_corrections by exact key: the relabelled span is one deleted and one added.
    assert row.values["n_corrections"] == 2
    counts = row.counts
    assert (counts.articles, counts.human_rows, counts.model_rows, counts.spans, counts.aligned_strict) == (
        1,
        1,
        0,
        2,
        2,
    )
    assert (counts.rows_with_prediction, counts.rows_unchanged, counts.corrections) == (1, 0, 2)
    assert counts.edits == Counter({"accepted unchanged": 1, "relabelled": 1})
    assert counts.rows_per_split == Counter({row.split: 1})
    assert counts.labels_per_split[row.split] == Counter(PERSON=1, LOC=1)
    assert counts.annotations_per_annotator == Counter({"annotator-1": 1})


def test_a_row_without_a_prediction_has_no_corrections(config, make_doc):
    settings = RowSettings.of(config, make_doc)
    record = annotated("a", [PERSON])
    record["annotations"][0]["model_version"] = None
    row = build_row(record, "human", settings)
    assert (row.values["model_version"], row.values["n_corrections"], row.counts.rows_with_prediction) == (
        None,
        None,
        0,
    )
    assert row.counts.edits == Counter()


def test_a_model_row_names_the_model_and_counts_as_model(config, make_doc):
    settings = RowSettings.of(config, make_doc)
    record = {"id": "m", "text": TEXT, "model": {"name": "core_web_sm", "version": "3.8.0"}, "spans": [GPE]}
    row = build_row(record, "model", settings)
    assert (row.values["source"], row.values["n_annotators"], row.values["model_version"]) == (
        "model",
        0,
        "core_web_sm-3.8.0",
    )
    assert (row.counts.model_rows, row.counts.human_rows, row.counts.source_per_split[row.split]["model"]) == (1, 0, 1)


def test_a_span_inside_a_token_is_lost_and_counted(config, make_doc):
    row = build_row(
        annotated("p", [{"start": 9, "end": 12, "label": "ORG"}]), "human", RowSettings.of(config, make_doc)
    )
    (lost,) = row.counts.lost
    assert lost.reason == "inside the token 'Merkel'; the tags carry 7-13 'Merkel' instead"
    assert (row.counts.aligned_non_strict, [(s.start_char, s.end_char) for s in row.kept]) == (1, [(7, 13)])
