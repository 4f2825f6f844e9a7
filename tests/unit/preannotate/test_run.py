from __future__ import annotations

import json

import pytest
from spacy.tokens import Span as SpacySpan

from toolkit.config import Config
from toolkit.errors import InputError, ModelError, OutputError
from toolkit.nlp.pipeline import load_pipeline
from toolkit.preannotate.readers import ReadStats
from toolkit.preannotate.run import PreannotateStats, doc_spans, preannotate, preannotate_to_file
from toolkit.records import Article, ModelInfo


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
    assert by_text["the Great Hall of the People, Beijing"] == "LOC"  # FAC mapped to LOC
    assert stats.dropped_by_label["DATE"] == 1  # "Friday": DATE is not a project label
    assert predicted.model.model_version == f"{chosen.model.name}-3.8.0"
    assert (predicted.score is not None) == scored


def test_abbreviation_keeps_its_period(config, pipeline):
    text = "Officials in the U.S. said so."
    (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=pipeline)
    assert "U.S." in [span.text for span in predicted.spans]


def test_surrounding_space_and_punctuation_tokens_are_trimmed(config, greedy):
    # In the seed article the model predicts FAC "the Great Hall of the People, Beijing\n\n".
    doc = greedy.nlp.make_doc("He met Xi at the Great Hall of the People, Beijing\n\n, then left.")
    hall = next(t.i for t in doc if t.text == "the")
    newline = next(t.i for t in doc if t.is_space)
    doc.ents = [SpacySpan(doc, hall, newline + 1, label="FAC"), SpacySpan(doc, newline + 1, newline + 2, label="ORG")]
    stats = PreannotateStats()
    spans = doc_spans(doc, config, stats)
    assert [(s.text, s.label) for s in spans] == [("the Great Hall of the People, Beijing", "LOC")]
    assert (stats.trimmed, stats.dropped_empty) == (1, 1)


def test_scores_are_probabilities_and_uncertain_tasks_sort_first(config, pipeline):
    texts = {
        "clear": "Barack Obama spoke in Berlin.",
        "unclear": "Victoria told Florence about Jackson.",
        "none": "It rained all day.",
    }
    predicted = list(preannotate([Article(id=k, text=v) for k, v in texts.items()], config=config, pipeline=pipeline))
    for article in predicted:
        assert 0.0 <= article.score <= 1.0
        for span in article.spans:
            assert 0.0 <= span.score <= 1.0
            assert article.score <= span.score  # the task score is the least confident decision
    by_id = {article.id: article for article in predicted}
    assert by_id["clear"].score > 0.95
    assert by_id["unclear"].score < 0.8
    # Label Studio's data manager sorts by prediction score: ascending puts the uncertain first.
    assert [a.id for a in sorted(predicted, key=lambda a: a.score)][0] == "unclear"


@pytest.mark.parametrize("scored", [False, True])
def test_same_spans_in_memory_zones_and_worker_processes(config, pipeline, greedy, scored):
    chosen = pipeline if scored else greedy
    articles = [Article(id=str(i), text=f"Angela Merkel met Emmanuel Macron in Paris, {i} times.") for i in range(12)]
    one = list(preannotate(articles, config=config, pipeline=chosen, zone_size=1000))
    zoned = list(preannotate(articles, config=config, pipeline=chosen, zone_size=5))
    forked = list(preannotate(articles, config=config, pipeline=chosen, zone_size=5, n_process=2, batch_size=4))
    assert all((a.score is not None) == scored for a in forked)
    assert [a.to_json_dict() for a in zoned] == [a.to_json_dict() for a in one]
    assert [a.to_json_dict() for a in forked] == [a.to_json_dict() for a in one]


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
        (predicted,) = preannotate([Article(id="a", text=text)], config=config, pipeline=chosen)
        by_text = {span.text: span for span in predicted.spans}
        assert by_text["Angela Merkel"].label == merkel
        assert by_text["summit"].label == "EVENT"
        assert by_text["summit"].score is None  # a rule's match is not the model's guess
        assert by_text["Paris"].label == "GPE"


def test_bad_patterns_file(config, tmp_path):
    patterns = tmp_path / "patterns.jsonl"
    patterns.write_text('{"label": "MONEY", "pattern": "a lot"}\n')
    with pytest.raises(ModelError, match=r"patterns.jsonl:1: label 'MONEY' is not in labels or label_map"):
        load_pipeline(_with(config, patterns=str(patterns)))


def _write_inputs(folder, texts):
    folder.mkdir(exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"{i:03}.txt").write_text(text)
    return folder


def test_resume_skips_what_is_done(config, greedy, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin."])
    out = tmp_path / "out.jsonl"
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy) == 2
    first = out.read_text()
    # An interrupted run left half a line; two more articles arrived since.
    out.write_text(first + '{"id": "half')
    _write_inputs(
        inputs, ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin.", "Xi Jinping met Joe Biden.", "Rain."]
    )
    stats = PreannotateStats()
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy, stats=stats) == 2
    assert (stats.resumed, stats.truncated_tail) == (2, True)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert out.read_text().startswith(first)
    assert [r["text"] for r in records] == [
        "Angela Merkel visited Paris.",
        "Barack Obama spoke in Berlin.",
        "Xi Jinping met Joe Biden.",
        "Rain.",
    ]
    assert len({r["id"] for r in records}) == 4
    # Nothing left: a third run writes nothing and keeps the file.
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy) == 0
    assert len(out.read_text().splitlines()) == 4
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy, fresh=True) == 4


def test_the_output_is_never_read_as_input(config, greedy, tmp_path):
    inputs = _write_inputs(tmp_path, ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin."])
    out = inputs / "predictions.jsonl"
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy) == 2
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=greedy) == 0
    assert len(out.read_text().splitlines()) == 2


def test_resume_refuses_another_models_output(config, greedy, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris."])
    out = tmp_path / "out.jsonl"
    preannotate_to_file([inputs], out=out, config=config, pipeline=greedy)
    other = greedy.__class__(nlp=greedy.nlp, model=ModelInfo(name="other_model", version="1.0"), entity_labels=())
    with pytest.raises(
        OutputError, match=r"out.jsonl:1: written by model en_core_web_sm\S* 3.8.0, this run uses other_model 1.0"
    ):
        preannotate_to_file([inputs], out=out, config=config, pipeline=other)


def test_bad_input_fails_before_writing_and_skip_counts(config, greedy, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris.", ""])
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match=r"001.txt: empty file"):
        preannotate_to_file([inputs], out=out, config=config, pipeline=greedy)
    assert not out.exists()
    read_stats = ReadStats()
    written = preannotate_to_file(
        [inputs], out=out, config=config, pipeline=greedy, on_error="skip", read_stats=read_stats
    )
    assert written == 1
    assert read_stats.skipped == {"empty file": 1}
