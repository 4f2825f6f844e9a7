"""Where the model runs: a backend takes articles and yields them predicted, with their counts.

The in-process backend (:mod:`.local`) runs ``nlp.pipe``, with ``n_process`` worker
processes if asked. Another backend (a cluster) implements the same :class:`Backend`:
it yields one :class:`Predicted` per article, in the order of the articles, and returns
every count as a value, so nothing it does has to mutate the caller's objects.

A backend whose workers read the inputs themselves (:mod:`.ray`) is also a
:class:`PlannedBackend`: it takes the plan of what to run (:mod:`..readers.plan`)
instead of the articles, so the articles never pass through this process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple, Protocol, runtime_checkable

from toolkit.config import InputConfig
from toolkit.preannotate.readers.plan import InputPlan
from toolkit.preannotate.spans import SpanCounts
from toolkit.records import Article, PredictedArticle


class Predicted(NamedTuple):
    """One article as the model predicted it, with the words it held and what its spans counted."""

    article: PredictedArticle  # None when the worker wrote it itself (a Parquet predictions folder)
    words: int
    counts: SpanCounts


class Backend(Protocol):
    def predict(self, articles: Iterable[Article]) -> Iterator[Predicted]:
        """One :class:`Predicted` per article, in order."""
        ...


@runtime_checkable
class PlannedBackend(Protocol):
    def predict_planned(
        self, plan: InputPlan, options: InputConfig, *, parts: Path | None = None
    ) -> Iterator[Predicted]:
        """One :class:`Predicted` per planned article, in the plan's order. With ``parts`` (a
        Parquet predictions folder) the workers write the records there and each
        :class:`Predicted` carries only the counts (``article`` is None)."""
        ...
