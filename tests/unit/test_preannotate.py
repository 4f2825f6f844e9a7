from __future__ import annotations

from spacy.tokens import Span as SpacySpan

from toolkit.preannotate import PreannotateStats, doc_spans, preannotate
from toolkit.records import Article


def test_loads_only_what_ner_needs(pipeline):
    assert pipeline.nlp.pipe_names == ["ner"]
    assert pipeline.model.version == "3.8.0"
    assert {"PERSON", "ORG", "GPE", "FAC"} <= set(pipeline.entity_labels)


def test_spans_are_mapped_trimmed_and_match_the_text(config, pipeline):
    text = (
        "US Secretary of State Antony Blinken meets with Chinese President Xi Jinping at the Great Hall "
        "of the People, Beijing\n\nHe flew home on Friday."
    )
    stats = PreannotateStats()
    (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=pipeline, stats=stats)
    for span in predicted.spans:
        assert text[span.start : span.end] == span.text
        assert span.text == span.text.strip()
        assert span.label in config.labels
    by_text = {span.text: span.label for span in predicted.spans}
    assert by_text["Antony Blinken"] == "PERSON"
    assert by_text["the Great Hall of the People, Beijing"] == "LOC"  # FAC mapped to LOC
    assert stats.dropped_by_label["DATE"] == 1  # "Friday": DATE is not a project label
    assert predicted.model.model_version == f"{pipeline.model.name}-3.8.0"


def test_abbreviation_keeps_its_period(config, pipeline):
    text = "Officials in the U.S. said so."
    (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=pipeline)
    assert "U.S." in [span.text for span in predicted.spans]


def test_surrounding_space_and_punctuation_tokens_are_trimmed(config, pipeline):
    # In the seed article the model predicts FAC "the Great Hall of the People, Beijing\n\n".
    doc = pipeline.nlp.make_doc("He met Xi at the Great Hall of the People, Beijing\n\n, then left.")
    hall = next(t.i for t in doc if t.text == "the")
    newline = next(t.i for t in doc if t.is_space)
    doc.ents = [SpacySpan(doc, hall, newline + 1, label="FAC"), SpacySpan(doc, newline + 1, newline + 2, label="ORG")]
    stats = PreannotateStats()
    spans = doc_spans(doc, config, stats)
    assert [(s.text, s.label) for s in spans] == [("the Great Hall of the People, Beijing", "LOC")]
    assert (stats.trimmed, stats.dropped_empty) == (1, 1)
