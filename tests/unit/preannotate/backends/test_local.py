"""The in-process backend: the same predictions in one zone, in many, and in worker processes."""

from __future__ import annotations

import pytest

from toolkit.nlp.pipeline import load_pipeline
from toolkit.preannotate.backends.local import LocalBackend
from toolkit.preannotate.spans import SpanCounts
from toolkit.records import Article


@pytest.fixture(scope="module")
def greedy(config):
    return load_pipeline(config, scores=False)


def _predict(backend: LocalBackend, articles: list[Article]):
    return [
        (predicted.article.to_json_dict(), predicted.words, predicted.counts) for predicted in backend.predict(articles)
    ]


@pytest.mark.parametrize("scored", [False, True])
def test_same_spans_in_memory_zones_and_worker_processes(config, pipeline, greedy, scored):
    chosen = pipeline if scored else greedy
    articles = [Article(id=str(i), text=f"Angela Merkel met Emmanuel Macron in Paris, {i} times.") for i in range(12)]
    one = _predict(LocalBackend(chosen, config, zone_size=1000), articles)
    zoned = _predict(LocalBackend(chosen, config, zone_size=5), articles)
    forked = _predict(LocalBackend(chosen, config, zone_size=5, n_process=2, batch_size=4), articles)
    assert all(("score" in article) == scored for article, _, _ in forked)
    assert zoned == one
    assert forked == one
    assert [article["id"] for article, _, _ in one] == [str(i) for i in range(12)]
    assert all(words == 11 for _, words, _ in one)  # tokens, punctuation included
    total = SpanCounts()
    for _, _, counts in one:
        total.merge(counts)
    assert total.kept == sum(len(article["spans"]) for article, _, _ in one)


def test_articles_longer_than_spacys_default_limit(config, blank_pipeline):
    config = config.model_copy(update={"input": config.input.model_copy(update={"max_chars": 1_500_000})})
    text = "word " * 220_000  # 1,100,000 characters: over nlp.max_length's default
    (predicted,) = LocalBackend(blank_pipeline, config).predict([Article(id="long", text=text.strip())])
    assert predicted.words == 220_000
