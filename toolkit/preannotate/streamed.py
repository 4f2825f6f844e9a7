"""Pre-annotation of inputs that a cluster's workers read themselves (JSONL and Parquet, local or
behind a URL), with nothing read in this process beforehand.

The workers read the files, turn rows into articles, count the bad ones and predict the
rest (:class:`~.backends.RowBackend`); what comes back, batch by batch and in input order,
is decided here as the local reader decides it: an exact duplicate is kept once, an id
reused for another text is bad input, an article already in the output (resume) is not
predicted. The skips the workers counted are merged into the read stats; this process
holds only the ids and text digests seen, not the articles.

The output is appended to record by record, as the local backend appends, so that a run
of any length that is interrupted, killed or left by its cluster loses at most its last
batch: the next run resumes after the records already written (a half-written last line
is cut off then). A Parquet predictions folder (``parts``) is written by the workers
instead: each batch's records go to a hidden pending part, which becomes a part here once
the batch is decided (:class:`~.parquet_output.PendingParts`, which takes the records as
``_Output`` does), so the records never come back to this process. With nothing read
beforehand, bad input is met while records are being written: with ``on_error="fail"``
the run stops there, and the articles before it stay in the output (whole records) for
the rerun to resume after. The progress total is
estimated from the inputs' sizes and the bytes read so far (see :func:`_estimate`) and is
exact at the end.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from toolkit.config import Config
from toolkit.errors import ClusterError, InputError, OutputError
from toolkit.io.predictions import new_run_id
from toolkit.preannotate.backends import RowBackend, StreamedBatch, StreamedRow
from toolkit.preannotate.output import START_OVER
from toolkit.preannotate.parquet_output import PendingParts
from toolkit.preannotate.readers import SKIP_SETTING, ReadStats, SeenTexts, nothing_to_do
from toolkit.preannotate.readers.rows import row_source
from toolkit.preannotate.readers.sources import RowInputs
from toolkit.preannotate.stats import PreannotateStats
from toolkit.progress import OnProgress, emit
from toolkit.records import PredictedArticle

PHASE = "articles"
POSITION = (1 << 40) - 1


def _estimate(predicted: int, bytes_seen: int, total_bytes: int) -> int:
    """The articles the whole run will predict, from those predicted in the bytes read so far:
    the inputs' sizes are known from the listing, their articles only once read."""
    if bytes_seen <= 0:
        return predicted
    return max(predicted, round(predicted * total_bytes / bytes_seen))


class _Order:
    """Checks that rows come back once each, in input order, and that every file was read to
    its end: what ``preserve_order`` and Ray's retries promise, checked, since a gap or a
    repeat would lose or duplicate an article."""

    def __init__(self, files: int) -> None:
        self.files = files
        self.file = 0
        self.position = 0

    def check(self, row: StreamedRow) -> None:
        if (row.file, row.position) != (self.file, self.position):
            raise ClusterError(
                f"the cluster returned row {row.position} of input {row.file + 1} where row {self.position} "
                f"of input {self.file + 1} was due"
            )
        if row.kind == "end":
            self.file, self.position = self.file + 1, 0
        else:
            self.position += 1

    def finish(self) -> None:
        if self.file != self.files:
            raise ClusterError(f"the cluster returned {self.file:,} of {self.files:,} inputs read to their end")


class _Output:
    """The records, appended to ``out`` (``fresh``: written anew) and flushed every
    ``flush_every``; :meth:`close` syncs what was written, however the run ends."""

    def __init__(self, out: Path, *, fresh: bool, flush_every: int) -> None:
        self.out = out
        self.flush_every = flush_every
        self.written = 0
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            self.handle = out.open("w" if fresh or not out.exists() else "a", encoding="utf-8")
        except OSError as error:
            raise OutputError(f"{out}: cannot write ({error.strerror})") from None

    def write(self, record: PredictedArticle | None, index: int) -> None:
        self.handle.write(json.dumps(record.to_json_dict(), ensure_ascii=False) + "\n")
        self.written += 1
        if self.written % self.flush_every == 0:
            self.handle.flush()

    def commit(self, pending: str | None, predicted: int) -> None:
        """The end of a batch: its records are written already."""

    def close(self) -> None:
        with self.handle:
            self.handle.flush()
            os.fsync(self.handle.fileno())


def preannotate_streamed(
    inputs: RowInputs,
    *,
    out: Path,
    config: Config,
    backend: RowBackend,
    on_error: Literal["fail", "skip"],
    done: Mapping[str, int],
    fresh: bool,
    stats: PreannotateStats,
    read_stats: ReadStats,
    on_progress: OnProgress | None,
    flush_every: int,
    parts: bool = False,
) -> int:
    """Pre-annotate ``inputs`` on the backend's workers into ``out``; returns how many articles were
    written. ``stats`` is the caller's ``PreannotateStats`` (it gets the articles, words, spans and
    resumed), ``read_stats`` what reading saw, as the local reader would report it. ``parts``:
    ``out`` is a Parquet predictions folder (prepared by the caller), written by the workers."""
    read_stats.files += len(inputs.files)
    total_bytes = inputs.total_bytes
    names = [file.name for file in inputs.files]
    # Where each article was first seen, as (file << 40 | position): an int, not its name.
    seen = SeenTexts(where=lambda packed: row_source(names[packed >> 40], packed & POSITION))
    order = _Order(len(inputs.files))
    bytes_seen = 0
    if parts:
        run_id = new_run_id()
        batches = backend.predict_rows(inputs, config.input, done=done, parts=out, run_id=run_id)  # joins
        output: _Output | PendingParts = PendingParts(out, run_id)
    else:
        batches = backend.predict_rows(inputs, config.input, done=done)  # joins the cluster
        output = _Output(out, fresh=fresh, flush_every=flush_every)
    try:
        for batch in batches:
            read_stats.skipped.update(batch.skipped)
            predicted = sum(1 for row in batch.rows if row.kind == "article")
            try:
                _decide(batch, output, order, seen, names, out, on_error, stats, read_stats, on_progress)
            finally:  # a batch cut short by bad input keeps what was decided before it
                output.commit(batch.pending, predicted)
            bytes_seen += sum(row.nbytes for row in batch.rows)
            emit(on_progress, PHASE, 0, total=_estimate(output.written, bytes_seen, total_bytes))
        order.finish()
        if read_stats.articles == 0 and not done:
            raise nothing_to_do(read_stats)
    except InputError as error:
        if output.written:
            error.hint = (
                *error.hint_pieces,
                f"; the {output.written:,} articles before it are in {out}, and the next run resumes after them",
            )
        raise
    finally:
        output.close()
        # A run stopped early (bad input, Ctrl-C) ends the cluster's iteration now, while the
        # cluster is up: left to the garbage collector, Ray may clean it up against a cluster
        # that is gone, and Ray ends the process when it finds its object store gone.
        close = getattr(batches, "close", None)
        if close is not None:
            close()
    emit(on_progress, PHASE, 0, total=output.written)
    return output.written


def _decide(
    batch: StreamedBatch,
    output: _Output | PendingParts,
    order: _Order,
    seen: SeenTexts,
    names: list[str],
    out: Path,
    on_error: Literal["fail", "skip"],
    stats: PreannotateStats,
    read_stats: ReadStats,
    on_progress: OnProgress | None,
) -> None:
    """One batch's rows, in order: bad input, duplicates, ids reused and resume decided as the local
    reader decides them, and each article kept handed to ``output``."""
    index = -1  # the row's place among the batch's predicted records
    for row in batch.rows:
        order.check(row)
        index += row.kind == "article"
        if row.kind == "bad":
            _bad(row.bad.message, read_stats, on_error)
        elif row.kind in ("article", "resumed"):
            verdict = seen.check(row.id, row.digest, row.file << 40 | row.position)
            if isinstance(verdict, str):
                read_stats.duplicates.append(verdict)
            elif verdict is not None:  # an id reused: decided here, so counted here
                read_stats.skipped[verdict.reason] += 1
                _bad(verdict.message, read_stats, on_error)
            else:
                read_stats.articles += 1
                read_stats.dates_not_parsed += row.date_not_parsed
                if row.kind == "resumed":
                    _resumed(row, names, out, stats)
                else:
                    record, words, counts = row.predicted
                    output.write(record, index)
                    stats.articles += 1
                    stats.words += words
                    stats.spans.merge(counts)
                    emit(on_progress, PHASE, 1, amounts={"words": words})


def _bad(message: str, read_stats: ReadStats, on_error: str) -> None:
    """A bad input (its count is already in ``read_stats``): the end of the run with ``fail``."""
    if on_error == "fail":
        raise InputError(message, hint=("fix or remove it, or ", SKIP_SETTING))
    read_stats.example(message)


def _resumed(row: StreamedRow, names: list[str], out: Path, stats: PreannotateStats) -> None:
    if row.changed:
        raise InputError(
            f"{row_source(names[row.file], row.position)}: article {row.id!r} has another text than in {out}, "
            "where it was pre-annotated before",
            hint=(START_OVER, ", or give the changed article a new id"),
        )
    stats.resumed += 1
