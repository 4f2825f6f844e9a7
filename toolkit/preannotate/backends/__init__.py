"""Where the model runs: a backend takes articles and yields them predicted, with their counts.

The in-process backend (:mod:`.local`) runs ``nlp.pipe``, with ``n_process`` worker
processes if asked. Another backend (a cluster) implements the same :class:`Backend`:
it yields one :class:`Predicted` per article, in the order of the articles, and returns
every count as a value, so nothing it does has to mutate the caller's objects.

A backend whose workers read the inputs themselves (:mod:`.ray`) is also a
:class:`PlannedBackend`: it takes the plan of what to run (:mod:`..readers.plan`)
instead of the articles, so the articles never pass through this process. For JSONL and
Parquet inputs it is also a :class:`RowBackend`: its workers read the files themselves
(:mod:`..readers.rows`), with nothing read before in this process.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, runtime_checkable

from toolkit.config import InputConfig
from toolkit.preannotate.readers.plan import InputPlan
from toolkit.preannotate.readers.sources import RowInputs
from toolkit.preannotate.readers.stats import BadInput
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


class StreamedRow(NamedTuple):
    """What a worker made of one row of an input it read itself (:mod:`..readers.rows`), in input order.

    ``kind``: ``article`` (predicted), ``resumed`` (already in the output: not predicted;
    ``changed`` when its text differs from the output's), ``bad`` (a bad input, counted
    on the worker), ``none`` (a blank line) or ``end`` (the end of file ``file``).
    """

    file: int
    position: int
    nbytes: int
    kind: Literal["article", "resumed", "bad", "none", "end"]
    predicted: Predicted | None = None
    bad: BadInput | None = None
    id: str | None = None
    digest: int | None = None  # readers.text_key of the text
    date_not_parsed: bool = False
    changed: bool = False


class StreamedBatch(NamedTuple):
    rows: list[StreamedRow]
    skipped: Counter[str]  # the batch's bad inputs by reason, counted on the worker
    # With a Parquet predictions folder: the hidden part the worker wrote the batch's predicted
    # records to, in row order (their rows then carry only the counts); None if it predicted none.
    pending: str | None = None


@runtime_checkable
class RowBackend(Protocol):
    def predict_rows(
        self,
        inputs: RowInputs,
        options: InputConfig,
        *,
        done: Mapping[str, int],
        parts: Path | None = None,
        run_id: str | None = None,
    ) -> Iterator[StreamedBatch]:
        """The inputs read, turned into articles and predicted on the workers, batch by batch in
        input order; the articles in ``done`` (id -> text key) are not predicted. With ``parts`` (a
        Parquet predictions folder the workers can reach) each batch's records are written there as
        a pending part of run ``run_id`` (:func:`toolkit.io.predictions.pending_name`)."""
        ...
