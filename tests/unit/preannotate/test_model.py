"""Pre-annotation with the trained model: the components run, labels mapped, scores, patterns."""

from __future__ import annotations

import json

import pytest

from toolkit.config import Config
from toolkit.errors import ModelError
from toolkit.nlp.pipeline import load_pipeline
from toolkit.preannotate import PreannotateStats, preannotate
from toolkit.records import Article


@pytest.fixture(scope="module")
def greedy(config):
    return load_pipeline(config, scores=False)


def _with(config: Config, **spacy) -> Config:
    return config.model_copy(update={"spacy": config.spacy.model_copy(update=spacy)})


def test_loads_only_what_ner_needs(pipeline, greedy):
    assert pipeline.nlp.pipe_names == ["ner"]
    assert greedy.nlp.pipe_names == ["ner"]
    assert pipeline.model.version == "3.8.0"
    assert {"PERSON", "ORG", "GPE", "FAC"} <= set(pipeline.entity_labels)
    assert (pipeline.scores, greedy.scores) == (True, False)


@pytest.mark.parametrize("scored", [False, True])
def test_spans_are_mapped_trimmed_and_match_the_text(config, pipeline, greedy, scored):
    text = (
        "US Secretary of State Antony Blinken meets with Chinese President Xi Jinping at the Great Hall "
        "of the People, Beijing\n\nHe flew home on Friday."
    )
    stats = PreannotateStats()
    chosen = pipeline if scored else greedy
    (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=chosen, stats=stats)
    for span in predicted.spans:
        assert text[span.start : span.end] == span.text
        assert span.text == span.text.strip()
        assert span.label in config.labels
    by_text = {span.text: span.label for span in predicted.spans}
    assert by_text["Antony Blinken"] == "PERSON"
    assert by_text["the Great Hall of the People"] == "LOC"  # FAC mapped to LOC (en_core_web_md)
    assert stats.spans.dropped_by_label["DATE"] == 1  # "Friday": DATE is not a project label
    assert (stats.articles, stats.spans.kept) == (1, len(predicted.spans))
    # The prediction set's name says how it was scored: sets scored otherwise never share a name.
    scoring = f"beam{config.spacy.beam_width}" if scored else "unscored"
    assert predicted.model.model_version == f"{chosen.model.name}-3.8.0 {scoring}"
    assert (predicted.score is not None) == scored


def test_abbreviation_keeps_its_period(config, pipeline):
    text = "Officials in the U.S. said so."
    (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=pipeline)
    assert "U.S." in [span.text for span in predicted.spans]


def test_scores_are_probabilities_and_uncertain_tasks_sort_first(config, pipeline):
    texts = {
        "clear": "Angela Merkel visited Paris on Monday.",  # en_core_web_md: 0.9995
        "unclear": "Victoria told Florence about Jackson.",
        "none": "It rained all day.",
    }
    predicted = list(preannotate([Article(id=k, text=v) for k, v in texts.items()], config=config, pipeline=pipeline))
    for article in predicted:
        assert 0.0 <= article.score <= 1.0
        for span in article.spans:
            assert 0.0 <= span.score <= 1.0
    by_id = {article.id: article for article in predicted}
    assert by_id["clear"].score > 0.95
    assert by_id["unclear"].score < 0.8
    # Label Studio's data manager sorts by prediction score: ascending puts the uncertain first.
    assert [a.id for a in sorted(predicted, key=lambda a: a.score)][0] == "unclear"


def test_patterns_merge_with_the_model_and_win_on_overlap(config, tmp_path):
    patterns = tmp_path / "patterns.jsonl"
    patterns.write_text(
        json.dumps({"label": "ORG", "pattern": "Angela Merkel"})
        + "\n"  # overlaps the model's PERSON
        + json.dumps({"label": "EVENT", "pattern": [{"LOWER": "summit"}]})
        + "\n"
    )
    text = "Angela Merkel went to the summit in Paris."
    for win, merkel in [(True, "ORG"), (False, "PERSON")]:
        chosen = load_pipeline(_with(config, patterns=str(patterns), patterns_win=win), scores=True)
        assert chosen.nlp.pipe_names == ["ner", "toolkit_patterns"]
        stats = PreannotateStats()
        (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=chosen, stats=stats)
        by_text = {span.text: span for span in predicted.spans}
        assert by_text["Angela Merkel"].label == merkel
        assert by_text["summit"].label == "EVENT"
        assert by_text["summit"].score is None  # a rule's match is not the model's guess
        assert by_text["Paris"].label == "GPE"
        assert stats.spans.pattern_spans >= 1


def test_bad_patterns_file(config, tmp_path):
    patterns = tmp_path / "patterns.jsonl"
    patterns.write_text('{"label": "MONEY", "pattern": "a lot"}\n')
    with pytest.raises(ModelError, match=r"patterns.jsonl:1: label 'MONEY' is not in labels or label_map"):
        load_pipeline(_with(config, patterns=str(patterns)))
