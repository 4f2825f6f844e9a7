"""The in-process backend: ``nlp.pipe`` over chunks of articles, one memory zone per chunk.

Documents are processed inside ``nlp.memory_zone()``, one zone per chunk of articles,
so the strings a long stream adds to the vocabulary are freed again and memory stays
flat; with ``n_process > 1`` the worker processes are started afresh for each chunk,
which frees theirs too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.preannotate.backends import Predicted
from toolkit.preannotate.spans import count_words, scored_doc_spans
from toolkit.records import Article, PredictedArticle

if TYPE_CHECKING:
    from toolkit.nlp.pipeline import Pipeline

# Articles per memory zone (and per set of worker processes with n_process > 1): large
# enough that starting workers is a small share of the time, small enough that the
# vocabulary of one zone is a small share of the memory.
ZONE_SIZE = 5000


def _chunks(items: Iterable[Article], size: int) -> Iterator[list[Article]]:
    iterator = iter(items)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


class LocalBackend:
    """spaCy in this process (and in ``nlp.pipe``'s worker processes with ``n_process > 1``)."""

    def __init__(
        self,
        pipeline: Pipeline,
        config: Config,
        *,
        n_process: int | None = None,
        batch_size: int | None = None,
        zone_size: int = ZONE_SIZE,
    ) -> None:
        self.pipeline = pipeline
        self.config = config
        self.n_process = n_process or config.spacy.n_process
        self.batch_size = batch_size or config.spacy.batch_size
        self.zone_size = zone_size

    def predict(self, articles: Iterable[Article]) -> Iterator[Predicted]:
        nlp, config, model = self.pipeline.nlp, self.config, self.pipeline.model
        # spaCy refuses texts longer than nlp.max_length (1,000,000 by default) with E088,
        # which would stop the whole batch; input.max_chars is the limit the user set, and
        # the readers already hold every article to it.
        nlp.max_length = max(nlp.max_length, config.input.max_chars)
        for chunk in _chunks(articles, self.zone_size):
            # Docs (and the strings they added) are only valid inside the zone: each one is
            # turned into a record before the zone closes.
            with nlp.memory_zone():
                # Plain texts, not as_tuples: spaCy's as_tuples tokenizes in the main process
                # (it makes Docs to carry the context), which with n_process > 1 is serial
                # work the workers then wait for. nlp.pipe keeps the order, so zip is exact.
                texts = (article.text for article in chunk)
                docs = nlp.pipe(texts, batch_size=self.batch_size, n_process=self.n_process)
                for doc, article in zip(docs, chunk, strict=True):
                    spans, score, counts = scored_doc_spans(doc, config, article.text)
                    predicted = PredictedArticle(**article.model_dump(), model=model, spans=spans, score=score)
                    yield Predicted(predicted, count_words(doc), counts)
