"""``preannotate_to_file``: scan, resume, run, write; stats as values, progress as events.

A tokenizer-only pipeline stands in for the model: nothing here is about its predictions.
"""

from __future__ import annotations

import json
from collections import Counter

import pytest

from toolkit.errors import InputError, OutputError
from toolkit.preannotate import PreannotateStats, ReadStats, preannotate, preannotate_to_file
from toolkit.preannotate.spans import SpanCounts
from toolkit.progress import ProgressEvent
from toolkit.records import Article, ModelInfo


def _write_inputs(folder, texts):
    folder.mkdir(exist_ok=True)
    for i, text in enumerate(texts):
        (folder / f"{i:03}.txt").write_text(text)
    return folder


def test_resume_skips_what_is_done(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin."])
    out = tmp_path / "out.jsonl"
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline) == 2
    first = out.read_text()
    # An interrupted run left half a line; two more articles arrived since.
    out.write_text(first + '{"id": "half')
    _write_inputs(
        inputs, ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin.", "Xi Jinping met Joe Biden.", "Rain."]
    )
    stats = PreannotateStats()
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline, stats=stats) == 2
    assert (stats.resumed, stats.truncated_tail, stats.articles) == (2, True, 2)
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
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline) == 0
    assert len(out.read_text().splitlines()) == 4
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline, fresh=True) == 4


def test_the_output_is_never_read_as_input(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path, ["Angela Merkel visited Paris.", "Barack Obama spoke in Berlin."])
    out = inputs / "predictions.jsonl"
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline) == 2
    assert preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline) == 0
    assert len(out.read_text().splitlines()) == 2
    with pytest.raises(InputError, match="the only input is the output file itself"):
        preannotate_to_file([out], out=out, config=config, pipeline=blank_pipeline)


def test_resume_refuses_another_models_output(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris."])
    out = tmp_path / "out.jsonl"
    preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline)
    other = blank_pipeline.__class__(
        nlp=blank_pipeline.nlp, model=ModelInfo(name="other", version="1.0"), entity_labels=()
    )
    with pytest.raises(OutputError, match=r"out.jsonl:1: written by model blank_en 0.0.0, this run uses other 1.0"):
        preannotate_to_file([inputs], out=out, config=config, pipeline=other)


def test_a_changed_text_under_a_done_id_is_refused_whatever_on_error(config, blank_pipeline, tmp_path):
    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "a", "text": "One."}\n')
    out = tmp_path / "out.jsonl"
    preannotate_to_file([source], out=out, config=config, pipeline=blank_pipeline)
    source.write_text('{"id": "a", "text": "One, changed."}\n')
    with pytest.raises(InputError, match=r"a.jsonl:1: article 'a' has another text than in .*out.jsonl") as raised:
        preannotate_to_file([source], out=out, config=config, pipeline=blank_pipeline, on_error="skip")
    assert raised.value.hint == "start the output over (fresh=True), or give the changed article a new id"
    assert preannotate_to_file([source], out=out, config=config, pipeline=blank_pipeline, fresh=True) == 1


def test_bad_input_fails_before_writing_and_skip_counts(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris.", ""])
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match=r"001.txt: empty file"):
        preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline)
    assert not out.exists()
    read_stats = ReadStats()
    written = preannotate_to_file(
        [inputs], out=out, config=config, pipeline=blank_pipeline, on_error="skip", read_stats=read_stats
    )
    assert written == 1
    assert read_stats.skipped == {"empty file": 1}


def test_every_input_bad_writes_nothing(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["", "   "])
    out = tmp_path / "out.jsonl"
    with pytest.raises(InputError, match=r"every input was bad \(2 skipped: empty file 2\); nothing to pre-annotate"):
        preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline, on_error="skip")
    assert not out.exists()


def test_progress_events_count_articles_and_words_after_the_scan(config, blank_pipeline, tmp_path):
    inputs = _write_inputs(tmp_path / "in", ["Angela Merkel visited Paris.", "Rain  again.", "Done."])
    out = tmp_path / "out.jsonl"
    events: list[ProgressEvent] = []
    preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline, on_progress=events.append)
    assert events[0] == ProgressEvent("articles", 0, total=3)
    assert [(e.advance, dict(e.amounts)) for e in events[1:]] == [
        (1, {"words": 5}),
        (1, {"words": 3}),
        (1, {"words": 2}),
    ]
    events.clear()
    preannotate_to_file([inputs], out=out, config=config, pipeline=blank_pipeline, on_progress=events.append)
    assert events == [ProgressEvent("articles", 0, total=0)]  # all resumed: the bar knows there is nothing to do


class _FakeBackend:
    """A backend as a cluster would be one: it hands back predicted articles and their counts."""

    def __init__(self, model):
        self.model = model

    def predict(self, articles):
        from toolkit.preannotate.backends import Predicted
        from toolkit.records import PredictedArticle

        for article in articles:
            predicted = PredictedArticle(**article.model_dump(), model=self.model, spans=[])
            yield Predicted(predicted, len(article.text.split()), SpanCounts(dropped_by_label=Counter({"DATE": 1})))


def test_any_backend_runs_and_its_counts_are_summed_by_the_caller(config, blank_pipeline):
    stats = PreannotateStats()
    articles = [Article(id=str(i), text=f"Text number {i}.") for i in range(3)]
    backend = _FakeBackend(blank_pipeline.model)
    predicted = list(preannotate(articles, config=config, pipeline=blank_pipeline, stats=stats, backend=backend))
    assert [a.id for a in predicted] == ["0", "1", "2"]
    assert (stats.articles, stats.words, stats.spans.dropped_by_label) == (3, 9, Counter({"DATE": 3}))


def test_preannotate_stats_merge():
    first = PreannotateStats(articles=2, words=10, spans=SpanCounts(kept=3), resumed=1)
    second = PreannotateStats(articles=1, words=4, spans=SpanCounts(kept=1, trimmed=1), truncated_tail=True)
    assert first.merge(second) is first
    assert first == PreannotateStats(
        articles=3, words=14, spans=SpanCounts(kept=4, trimmed=1), resumed=1, truncated_tail=True
    )
