"""Pre-annotate articles with a spaCy pipeline: articles -> predicted articles, into a file.

``preannotate_to_file`` reads every input once without the model (bad input stops the
run before anything is written), skips what an earlier run already wrote to the output
(:mod:`.output`), runs a backend over the rest (:mod:`.backends`; in this process by
default) and appends the predicted articles to the output. Progress goes out as
``toolkit.progress`` events: phase ``"articles"``, its ``total`` once the scan knows it,
then ``advance=1`` with ``amounts={"words": n}`` per article.

With ``spacy.scores`` (the default) the NER decodes with a beam over the same weights
and each span gets a confidence in [0, 1] and each article a task score; see
``toolkit.nlp.scoring`` for what they mean. An optional EntityRuler patterns file
(``spacy.patterns``) adds rule-based entities; on overlap the pattern's entity wins
(``spacy.patterns_win: false`` lets the model's win instead). Pattern entities carry
no score: they are not the model's guess.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from toolkit.config import Config
from toolkit.errors import InputError, Remedy
from toolkit.io.locks import output_lock
from toolkit.preannotate.backends import Backend, PlannedBackend, Predicted, RowBackend
from toolkit.preannotate.output import START_OVER, read_resume, write_records
from toolkit.preannotate.readers import ReadStats, expand_inputs, nothing_to_do, read_articles, read_positioned
from toolkit.preannotate.readers.plan import InputPlan
from toolkit.preannotate.readers.sources import RowInputs, row_inputs
from toolkit.preannotate.stats import PreannotateStats
from toolkit.progress import OnProgress, emit
from toolkit.records import Article, PredictedArticle

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from toolkit.nlp.pipeline import Pipeline

PHASE = "articles"
# What a parquet output needs, in the hint of its refusal; the command line names its flag.
PARQUET_NEEDS = (
    Remedy("run on Ray", "spacy.backend: ray", config=True),
    ", or ",
    Remedy("write JSONL", "format: jsonl", in_words="write JSONL"),
)
# The output as the refusal of a second run names it, by format.
OUTPUT_WHAT = {"jsonl": "predictions file", "parquet": "predictions folder"}


def preannotate(
    articles: Iterable[Article],
    *,
    config: Config,
    pipeline: Pipeline,
    stats: PreannotateStats | None = None,
    on_progress: OnProgress | None = None,
    backend: Backend | None = None,
    n_process: int | None = None,
    batch_size: int | None = None,
) -> Iterator[PredictedArticle]:
    """Run the pipeline over the articles, yielding one predicted article per article, in order.

    ``stats`` receives the counts the backend hands back; ``n_process`` and
    ``batch_size`` configure the default, in-process backend.
    """
    if backend is None:
        from toolkit.preannotate.backends.local import LocalBackend

        backend = LocalBackend(pipeline, config, n_process=n_process, batch_size=batch_size)
    yield from _counted(backend.predict(articles), stats, on_progress)


def _counted(
    predictions: Iterable[Predicted], stats: PreannotateStats | None, on_progress: OnProgress | None
) -> Iterator[PredictedArticle]:
    """The predicted articles, their counts added to ``stats`` and one progress event each."""
    stats = stats if stats is not None else PreannotateStats()
    for predicted, words, counts in predictions:
        stats.articles += 1
        stats.words += words
        stats.spans.merge(counts)
        emit(on_progress, PHASE, 1, amounts={"words": words})
        yield predicted


def scan_inputs(
    inputs: Sequence[Path | str],
    *,
    config: Config,
    on_error: Literal["fail", "skip"],
    done: Mapping[str, int],
    out: Path | None = None,
    plan: InputPlan | None = None,
) -> tuple[int, ReadStats]:
    """Read every input once without the model, so that the first bad input fails here,
    before any output is written; returns how many articles are left to do, and what
    the read saw.

    An article already done (in ``done``, from :func:`~.output.read_resume`) whose text
    has changed since is refused, whatever ``on_error``: the output would keep the old text.
    ``plan``, when given, receives where each article left to do is.
    """
    stats = ReadStats()
    todo = 0
    for path, position, article in read_positioned(inputs, stats, options=config.input, on_error=on_error):
        previous = done.get(article.id)
        if previous is None:
            todo += 1
            if plan is not None:
                plan.add(path, position)
        elif previous != hash(article.text):
            raise InputError(
                f"{article.source}: article {article.id!r} has another text than in {out or 'the output'}, "
                "where it was pre-annotated before",
                hint=(START_OVER, ", or give the changed article a new id"),
            )
    return todo, stats


def _preannotate_rows(
    rows: RowInputs,
    *,
    out: Path,
    config: Config,
    pipeline: Pipeline,
    backend: RowBackend,
    on_error: Literal["fail", "skip"],
    fresh: bool,
    stats: PreannotateStats,
    read_stats: ReadStats | None,
    on_progress: OnProgress | None,
    flush_every: int,
    parquet: bool,
) -> int:
    """JSONL and Parquet inputs read by the backend's workers, nothing read here first (:mod:`.streamed`)."""
    from toolkit.preannotate.streamed import preannotate_streamed

    if not rows.files:
        raise InputError(f"{out}: the only input is the output {'folder' if parquet else 'file'} itself")
    if parquet:
        from toolkit.preannotate.parquet_output import prepare_folder, read_resume_folder

        prepare_folder(out, fresh=fresh)
        resume = read_resume_folder(out, pipeline.model, digests=True) if not fresh else None
    else:
        resume = read_resume(out, pipeline.model, digests=True) if not fresh else None
    stats.truncated_tail = stats.truncated_tail or (resume is not None and resume.truncated_tail)
    return preannotate_streamed(
        rows,
        out=out,
        config=config,
        backend=backend,
        on_error=on_error,
        done=resume.done if resume is not None else {},
        fresh=fresh,
        stats=stats,
        read_stats=read_stats if read_stats is not None else ReadStats(),
        on_progress=on_progress,
        flush_every=flush_every,
        parts=parquet,
    )


def preannotate_to_file(
    inputs: Sequence[Path | str],
    *,
    out: Path,
    config: Config,
    pipeline: Pipeline,
    on_error: Literal["fail", "skip"] | None = None,
    fresh: bool = False,
    n_process: int | None = None,
    batch_size: int | None = None,
    backend: Backend | None = None,
    stats: PreannotateStats | None = None,
    read_stats: ReadStats | None = None,
    on_progress: OnProgress | None = None,
    output_format: Literal["jsonl", "parquet"] = "jsonl",
) -> int:
    """Pre-annotate the inputs into ``out`` (JSONL), resuming a run that wrote part of it.

    ``output_format="parquet"``: ``out`` is a Parquet predictions folder whose parts the
    backend's workers write (a :class:`~.backends.PlannedBackend` that takes ``parts``; for
    inputs its workers read themselves, a :class:`~.backends.RowBackend` that does).

    All inputs are read once before the model runs, so bad input stops the run
    (``on_error="fail"``, default ``input.on_error``) before anything is written. With a
    :class:`~.backends.RowBackend` and only JSONL and Parquet inputs (local or URLs), the
    backend's workers read them instead, and nothing is read here first (:mod:`.streamed`):
    bad input then stops the run where it is met, the articles before it kept in ``out``.
    Records are appended and flushed batch by batch; a rerun skips the ids already in
    ``out`` (``fresh`` starts over). ``stats`` and ``read_stats``, when given, receive
    the run's counts. Returns how many articles were written.

    The output's lock (:func:`output_lock`) is held for the whole run, whatever the
    backend: a second run on the same ``out`` is refused at once (OutputLockedError)
    instead of appending the same articles a second time.
    """
    with output_lock(out, what=OUTPUT_WHAT[output_format]):
        return _preannotate_locked(
            inputs, out=out, config=config, pipeline=pipeline, on_error=on_error, fresh=fresh, n_process=n_process,
            batch_size=batch_size, backend=backend, stats=stats, read_stats=read_stats, on_progress=on_progress,
            output_format=output_format,
        )  # fmt: skip


def _preannotate_locked(
    inputs: Sequence[Path | str],
    *,
    out: Path,
    config: Config,
    pipeline: Pipeline,
    on_error: Literal["fail", "skip"] | None,
    fresh: bool,
    n_process: int | None,
    batch_size: int | None,
    backend: Backend | None,
    stats: PreannotateStats | None,
    read_stats: ReadStats | None,
    on_progress: OnProgress | None,
    output_format: Literal["jsonl", "parquet"],
) -> int:
    stats = stats if stats is not None else PreannotateStats()
    on_error = on_error or config.input.on_error
    # The output is never an input, even when it sits in a folder being read: it grows
    # while the inputs are read a second time.
    parquet = output_format == "parquet"
    real_out = os.path.realpath(out)
    if isinstance(backend, RowBackend):
        rows = row_inputs(inputs, exclude=real_out)
        if rows is not None:
            return _preannotate_rows(
                rows, out=out, config=config, pipeline=pipeline, backend=backend, on_error=on_error, fresh=fresh,
                stats=stats, read_stats=read_stats, on_progress=on_progress,
                flush_every=batch_size or config.spacy.batch_size, parquet=parquet,
            )  # fmt: skip
    if parquet and not isinstance(backend, PlannedBackend):
        raise InputError("Parquet predictions folders are written by a cluster's workers", hint=PARQUET_NEEDS)
    inputs = [
        path
        for path in expand_inputs(inputs)
        if os.path.realpath(path) != real_out and not (parquet and os.path.realpath(path).startswith(real_out + os.sep))
    ]
    if not inputs:
        raise InputError(f"{out}: the only input is the output {'folder' if parquet else 'file'} itself")
    if parquet:
        from toolkit.preannotate.parquet_output import prepare_folder, read_resume_folder

        prepare_folder(out, fresh=fresh)
        resume = read_resume_folder(out, pipeline.model) if not fresh else None
    else:
        resume = read_resume(out, pipeline.model) if not fresh else None
    done = resume.done if resume is not None else {}
    # A backend whose workers read the inputs gets the plan of what to run instead of the articles.
    plan = InputPlan() if isinstance(backend, PlannedBackend) else None
    todo, scanned = scan_inputs(inputs, config=config, on_error=on_error, done=done, out=out, plan=plan)
    if read_stats is not None:
        read_stats.merge(scanned)
    stats.resumed += scanned.articles - todo
    stats.truncated_tail = stats.truncated_tail or (resume is not None and resume.truncated_tail)
    if scanned.articles == 0 and not done:
        raise nothing_to_do(scanned)
    emit(on_progress, PHASE, 0, total=todo)
    if plan is not None:
        options = {"parts": out} if parquet else {}
        planned = backend.predict_planned(plan, config.input, **options) if plan.articles else iter(())
        predicted = _counted(planned, stats, on_progress)
        if parquet:  # the workers wrote the parts; what came back is the counts
            return sum(1 for _ in predicted)
        return write_records(out, predicted, fresh=fresh, flush_every=batch_size or config.spacy.batch_size)
    # The second read: same articles, same order (the scan's counts are the ones reported).
    again = read_articles(inputs, options=config.input, on_error=on_error)
    predicted = preannotate(
        (article for article in again if article.id not in done),
        config=config,
        pipeline=pipeline,
        stats=stats,
        on_progress=on_progress,
        backend=backend,
        n_process=n_process,
        batch_size=batch_size,
    )
    return write_records(out, predicted, fresh=fresh, flush_every=batch_size or config.spacy.batch_size)
