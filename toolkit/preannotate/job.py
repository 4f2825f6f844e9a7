"""A pre-annotation job, as ``toolkit preannotate`` runs it: the model chosen, the backend
built, the run (supervised in a child process on Ray) and what it did (``PreannotateResult``).

``preannotation_job`` takes the output's lock first, so that a second run on the same output
is refused before a model loads or a cluster starts; checks that the local inputs exist
(before the model loads); loads the pipeline (``model``: a trained model folder in place of
``spacy.model``; without it, the project's current model from the model registry, else
``spacy.model``) and builds the backend: in this process, or a Ray cluster
(:mod:`.backends.ray`), joined or started only when there is something to run.

:meth:`PreannotateJob.run` runs :func:`~.preannotation.preannotate_to_file`. On Ray it runs
in a forked child (:mod:`.backends._ray_supervise`): a cluster that dies mid-run ends its
driver without a word, and the parent turns that into one error line. The child goes on
from the call with the result; the parent gets only the child's exit code (what the run
did was said by the child).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from toolkit.config import Config
from toolkit.io.locks import output_lock
from toolkit.io.models_registry import ModelEntry, current_model
from toolkit.preannotate.preannotation import OUTPUT_WHAT, PHASE, preannotate_to_file
from toolkit.preannotate.readers import ReadStats
from toolkit.preannotate.stats import PreannotateStats
from toolkit.progress import OnProgress, ProgressEvent

if TYPE_CHECKING:  # spaCy and Ray take seconds to import: only where they run
    from toolkit.nlp.pipeline import Pipeline
    from toolkit.preannotate.backends.ray import Cluster, RayBackend

# Opens the progress display in the process that runs (a child, on Ray) and yields its ``on_progress``.
Display = Callable[[], AbstractContextManager[OnProgress]]


@dataclass
class PreannotateResult:
    """What a run did: ``written`` articles to ``out``, its counts, and the seconds the model
    ran (from the end of the scan of the inputs to the end: the rates count the model's time)."""

    out: Path
    written: int = 0
    stats: PreannotateStats = field(default_factory=PreannotateStats)
    read_stats: ReadStats = field(default_factory=ReadStats)
    seconds: float | None = None  # None: the model never ran

    def rate(self, amount: int) -> float:
        return amount / (self.seconds or 1e-9)


@dataclass
class Outcome:
    """``result``: the run, when it ran in this process (to be reported here); ``code``: the
    exit code of the child that ran it and reported it (0 when it ran here)."""

    result: PreannotateResult | None
    code: int = 0


class _Timed:
    """Passes the events on, and notes when the articles' phase began (its first event)."""

    def __init__(self, on_progress: OnProgress | None) -> None:
        self.on_progress = on_progress
        self.began: float | None = None

    def __call__(self, event: ProgressEvent) -> None:
        if event.phase == PHASE and self.began is None:
            self.began = time.perf_counter()
        if self.on_progress is not None:
            self.on_progress(event)

    def seconds(self) -> float | None:
        return None if self.began is None else max(time.perf_counter() - self.began, 1e-9)


@dataclass
class PreannotateJob:
    """A run ready to go: the inputs, the loaded pipeline, the backend (None: in this process)."""

    inputs: Sequence[Path | str]
    out: Path
    config: Config
    pipeline: Pipeline
    backend: RayBackend | None
    n_process: int
    batch_size: int | None
    on_error: Literal["fail", "skip"] | None
    fresh: bool
    output_format: Literal["jsonl", "parquet"]
    # The project's current model from the registry, when it was run for want of --model.
    current: ModelEntry | None = None

    def run(self, display: Display | None = None) -> Outcome:
        """Run the job; ``display`` opens the progress display in the process that runs it."""
        if self.backend is None:
            return Outcome(self._run(display))
        from toolkit.preannotate.backends._ray_supervise import supervised

        ran: list[PreannotateResult] = []  # filled in the child only (or here, where there is no fork)
        code = supervised(lambda: ran.append(self._run(display)), out=self.out)
        return Outcome(ran[0] if ran else None, code)

    def _run(self, display: Display | None) -> PreannotateResult:
        result = PreannotateResult(self.out)
        with display() if display is not None else _no_display() as on_progress:
            timed = _Timed(on_progress)
            try:
                result.written = preannotate_to_file(
                    self.inputs, out=self.out, config=self.config, pipeline=self.pipeline, on_error=self.on_error,
                    fresh=self.fresh, n_process=self.n_process, batch_size=self.batch_size, stats=result.stats,
                    read_stats=result.read_stats, on_progress=timed, backend=self.backend,
                    output_format=self.output_format,
                )  # fmt: skip
            finally:
                if self.backend is not None:
                    self.backend.close()
        result.seconds = timed.seconds()
        return result


@contextmanager
def _no_display() -> Iterator[OnProgress | None]:
    yield None


@contextmanager
def preannotation_job(
    inputs: Sequence[Path | str],
    *,
    out: Path,
    config: Config,
    model: Path | None = None,
    scores: bool | None = None,
    backend: Literal["local", "ray"] | None = None,
    address: str | None = None,
    workers: int | None = None,
    n_process: int | None = None,
    batch_size: int | None = None,
    on_error: Literal["fail", "skip"] | None = None,
    fresh: bool = False,
    output_format: Literal["jsonl", "parquet"] = "jsonl",
    on_cluster: Callable[[Cluster], None] | None = None,
) -> Iterator[PreannotateJob]:
    """The job, with the output's lock held until it closes (taken before anything loads).

    ``backend`` defaults to ``spacy.backend``; ``n_process`` to ``spacy.n_process``.
    With Ray, ``on_cluster`` is told about the cluster once it is up."""
    from toolkit.nlp.pipeline import load_pipeline, with_model
    from toolkit.preannotate.readers import expand_inputs
    from toolkit.preannotate.readers.inputs import is_url

    with output_lock(out, what=OUTPUT_WHAT[output_format]):
        chosen = None
        if model is None:
            # The project's current model (promoted by `toolkit train`, or chosen by `toolkit
            # models use`) stays in front of annotators: `make run` pre-annotates with it.
            chosen = current_model(config)
            if chosen is not None:
                model = Path(chosen.path)
        if model is not None:
            config = with_model(config, model)
        expand_inputs([given for given in inputs if not is_url(given)])  # a missing input fails before the model loads
        pipeline = load_pipeline(config, scores=scores)
        cluster = None
        if (backend or config.spacy.backend) == "ray":
            from toolkit.preannotate.backends.ray import RayBackend

            cluster = RayBackend(
                config, pipeline.model, scores=pipeline.scores, address=address, num_workers=workers,
                batch_size=batch_size, on_start=(lambda ray: on_cluster(ray.cluster())) if on_cluster else None,
            )  # fmt: skip
        yield PreannotateJob(
            inputs, out=out, config=config, pipeline=pipeline, backend=cluster,
            n_process=n_process or config.spacy.n_process, batch_size=batch_size, on_error=on_error, fresh=fresh,
            output_format=output_format, current=chosen,
        )  # fmt: skip
