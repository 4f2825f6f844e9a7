"""The Ray backend: the same pre-annotation on a Ray cluster, with Ray Data doing the scheduling.

JSONL and Parquet inputs (local paths or URLs: ``s3://``, ``file://``, ...) are read on the
cluster (:meth:`RayBackend.predict_rows`), with nothing read in the driver first:

1. a read stage: Ray Data's file-based datasource machinery (:mod:`._ray_read`) opens each
   file through Ray's filesystem layer and cuts it into raw rows that keep their line or
   row number (:mod:`toolkit.preannotate.readers.rows`);
2. ``map_batches`` over an actor pool of ``ray.num_workers`` actors, each holding one
   pipeline loaded by ``toolkit.nlp.pipeline``: an actor turns its rows into articles with
   the toolkit's reader, counts the bad ones, leaves out those already in the output
   (their ids, put in the object store once) and runs the local backend over the rest
   (:func:`.rows.annotate_rows`); for a Parquet predictions folder it writes the batch's
   records as a pending part and sends back only their counts (:func:`.rows.write_pending`);
3. the driver iterates the batches in order (``preserve_order``) and decides duplicates
   and ids reused there (:mod:`toolkit.preannotate.streamed`), and makes pending parts parts.

Other inputs (``.txt``, ``.json``, ``.csv``, saved datasets) go the planned way
(:meth:`RayBackend.predict_planned`). The driver (this process) reads every input once, as
the local backend does: bad input, duplicates, ids reused and resume are decided there,
over all inputs at once, and what is left to run becomes a plan
(:mod:`toolkit.preannotate.readers.plan`: per file, the positions of the articles to run).
Ray Data then runs, streaming and with backpressure:

1. a read stage: each file of the plan is read again on the cluster and its planned
   articles cut into batches (so article texts never pass through the driver);
2. ``map_batches`` over the actor pool, each actor running the local backend over its
   batch (one memory zone per batch);
3. the driver iterates the results in order (``preserve_order``) and turns them into
   :class:`~toolkit.preannotate.backends.Predicted`: the record, its words and its span
   counts, which the caller merges and turns into progress events. For a Parquet
   predictions folder (``parts``) the actors write each batch as a part themselves and
   send back only the counts.

Output is the local backend's, record for record and in the same order: the pipeline,
the config and the code that turns a doc into a record are the same, and spaCy's
predictions do not depend on how the articles are batched. Ray restarts an actor that
dies and runs its batch again (``max_restarts`` / ``max_task_retries``, Ray Data's
defaults for actor pools); the driver checks that every article arrives exactly once,
in order.

Ray is an optional extra (``pip install 'toolkit[ray]'``), imported only here.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import pickle
import signal
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import toolkit
from toolkit import hooks
from toolkit.config import Config, InputConfig
from toolkit.errors import ClusterError, ModelError, Remedy, ToolkitError
from toolkit.io.predictions import new_run_id, part_name, write_part
from toolkit.preannotate.backends import Predicted, StreamedBatch
from toolkit.preannotate.readers.plan import FilePlan, InputPlan, read_planned
from toolkit.preannotate.readers.sources import RowInputs
from toolkit.records import Article, ModelInfo

if TYPE_CHECKING:
    import ray.data

RAY_EXTRA = "pip install 'toolkit[ray]'"
# Seconds to wait for a TCP connection to the cluster's address before calling it unreachable.
PROBE_SECONDS = 10
START_HINT = (
    "start the cluster (`ray start --head`), ",
    Remedy("check its address", "ray.address", config=True),
    ", or leave it unset to start a local cluster",
)
# Ray 2.60 turns token authentication on for `ray start` once a token exists on the machine, but
# a driver that joins by address sends no token unless told to: Ray then only says it cannot connect.
AUTH_HINT = "a cluster with token authentication also needs RAY_AUTH_MODE=token here, and its token"
CLIENT_HINT = (
    "run the command on a node of the cluster with --address auto, "
    "or join the cluster's GCS address, HOST:6379, from a machine on its network"
)
# Largest block Ray Data makes here: a few hundred news articles, so that every actor has work
# and results stream back batch by batch.
BLOCK_BYTES = 256 * 1024
# Articles handed to Ray Data at once by ``predict`` (articles given as values rather than
# as a plan): each window is one Ray Data run, whose actors load the pipeline again.
WINDOW = 20_000


@dataclass(frozen=True)
class Cluster:
    """The cluster a run is on, once it is up: what the command says of it."""

    workers: int
    cpus: float
    address: str | None  # None: a local cluster started for the run
    startup_seconds: float


def import_ray() -> Any:
    """The ``ray`` module with Ray Data, or a ClusterError naming the extra."""
    # A cluster this run starts reports no usage statistics (Ray's default is to send them).
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        import ray
        import ray.data  # noqa: F401  (Ray Data is the part of the [data] extra)
    except ImportError as error:
        raise ClusterError(
            f"[spacy.backend] ray needs Ray Data, which is not installed ({error.msg})",
            hint=f"install the ray extra: {RAY_EXTRA}",
        ) from None
    return ray


def _unwrap(error: BaseException) -> ToolkitError | None:
    """The toolkit's own error behind Ray's wrappers (RayTaskError, UserCodeException), if any."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ToolkitError):
            # Ray re-raises a worker's exception as a class made of both RayTaskError and the
            # original, whose message is the remote traceback: rebuild the toolkit's own.
            own = next(cls for cls in type(current).__mro__ if cls.__module__ == "toolkit.errors")
            try:
                return own(current.message, hint=current.hint)
            except TypeError:  # an error class with other arguments: its message is what counts
                return ClusterError(current.message, hint=current.hint)
        cause = getattr(current, "cause", None)
        current = cause if isinstance(cause, BaseException) else (current.__cause__ or current.__context__)
    return None


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def _check_same_model(worker: ModelInfo, driver: ModelInfo) -> None:
    """A worker's pipeline must be the driver's, scoring included: scores through another
    calibration are other numbers, which one output (and one prediction set) never mixes."""
    if worker == driver:
        return
    if (worker.name, worker.version) != (driver.name, driver.version):
        raise ModelError(
            f"[spacy.model] a Ray worker loaded {worker.name} {worker.version}, "
            f"the driver {driver.name} {driver.version}",
            hint="install the same model version on every node of the cluster",
        )
    # The same weights scored otherwise: the folder's calibration.json is read by each worker
    # when it starts, and a pull may have refitted it since the driver read it.
    raise ModelError(
        f"[spacy.model] a Ray worker scores {worker.name} {worker.version} with {worker.scoring}, the driver with "
        f"{driver.scoring}: the model folder's calibration changed since the run began (a `toolkit pull` refits it) "
        "or differs between nodes",
        hint="once the pull is done, run `toolkit preannotate` again; on a cluster of several nodes, give every "
        "node the same copy of the model folder",
    )


class _Annotator:
    """One Ray actor: one pipeline, loaded once, run over the batches Ray Data sends it."""

    def __init__(
        self,
        config: Config,
        model: ModelInfo,
        scores: bool,
        on_batch: Callable[[int], None] = hooks.nothing,
        parts: str | None = None,
        run_id: str | None = None,
    ) -> None:
        from toolkit.nlp.pipeline import load_pipeline
        from toolkit.preannotate.backends.local import LocalBackend

        pipeline = load_pipeline(config, scores=scores)
        _check_same_model(pipeline.model, model)
        # One zone per batch: the batch is what the actor holds, and what re-runs if it dies.
        self.backend = LocalBackend(pipeline, config, n_process=1, zone_size=10**9)
        # The driver's ``Hooks.actor_batch``, handed over as an argument: this is another process.
        self.on_batch = on_batch
        self.parts = Path(parts) if parts is not None else None
        self.run_id = run_id
        self.batches = 0

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        self.batches += 1
        self.on_batch(self.batches)
        seqs = batch.column("seq").to_pylist()
        articles = [pickle.loads(raw) for raw in batch.column("article").to_pylist()]
        predicted = list(self.backend.predict(articles))
        if self.parts is None:
            return {"seq": seqs, "result": [pickle.dumps(tuple(item), protocol=5) for item in predicted]}
        # A part per batch, named by its first article: a batch run again after its actor
        # died writes the same part again, so each article is in the folder once.
        write_part(self.parts, part_name(self.run_id, seqs[0]), (item.article for item in predicted))
        return {
            "seq": seqs,
            "result": [pickle.dumps((None, item.words, item.counts), protocol=5) for item in predicted],
        }


class _RowAnnotator:
    """One Ray actor for inputs the cluster reads itself: turns raw rows into articles and bad
    inputs with the toolkit's reader, counts the bad ones, and predicts the articles not done yet."""

    def __init__(
        self,
        config: Config,
        model: ModelInfo,
        scores: bool,
        on_batch: Callable[[int], None],
        names: list[str],
        done: list[Any],
        parts: str | None = None,
        run_id: str | None = None,
    ) -> None:
        import ray

        self.annotator = _Annotator(config, model, scores)  # its batches are counted here
        self.parts = Path(parts) if parts is not None else None
        self.run_id = run_id
        self.options = config.input
        self.on_batch = on_batch
        self.names = names
        # In a list, so that Ray hands over the reference and the set is fetched once, here.
        self.done: dict[str, int] = ray.get(done[0])
        self.batches = 0

    def __call__(self, batch: Any) -> dict[str, list[Any]]:
        from toolkit.preannotate.backends.rows import annotate_rows, write_pending

        self.batches += 1
        self.on_batch(self.batches)
        columns = [batch.column(name).to_pylist() for name in ("file", "position", "nbytes", "kind", "raw")]
        annotated = annotate_rows(
            list(zip(*columns, strict=True)),
            names=self.names,
            options=self.options,
            done=self.done,
            backend=self.annotator.backend,
        )
        if self.parts is not None:
            annotated = write_pending(annotated, self.parts, self.run_id)
        # One pickle per batch: the rows and the counts travel together, in order.
        return {"batch": [pickle.dumps(annotated, protocol=5)]}


def _read_files(batch: Any, *, options: InputConfig, rows: int) -> Iterator[dict[str, list[Any]]]:
    """The read stage: the planned articles of each file of the batch, ``rows`` at a time, numbered."""
    for path, runs, first in zip(*(batch.column(name).to_pylist() for name in ("path", "runs", "first")), strict=True):
        plan = FilePlan(path, [tuple(run) for run in runs], first)
        numbered = enumerate(read_planned(plan, options), start=first)
        while chunk := list(itertools.islice(numbered, rows)):
            yield {
                "seq": [seq for seq, _ in chunk],
                "article": [pickle.dumps(article, protocol=5) for _, article in chunk],
            }


class RayBackend:
    """Pre-annotation on a Ray cluster: ``address`` (``ray.address``) to join one, none to start
    a local one for the run (stopped by :meth:`close`). The cluster is joined when there is
    work (or by :meth:`start`); use the backend as a context manager."""

    def __init__(
        self,
        config: Config,
        model: ModelInfo,
        *,
        scores: bool | None = None,
        address: str | None = None,
        num_workers: int | None = None,
        batch_size: int | None = None,
        on_start: Callable[[RayBackend], None] | None = None,
    ) -> None:
        self.config = config
        self.on_start = on_start  # called once the cluster is up (it starts when there is work)
        self.model = model
        self.scores = config.spacy.scores if scores is None else scores
        self.address = address if address is not None else config.ray.address
        if (self.address or "").startswith("ray://"):
            # Ray Data's streaming executor needs the driver's own core worker, which a Ray Client
            # driver does not have: with Ray 2.60 its first dataset fails ("'Worker' object has
            # no attribute 'core_worker'"), after the cluster was joined.
            raise ClusterError(
                f"[ray.address] {self.address} is a Ray Client address, and Ray Data, which runs the "
                "pre-annotation, does not work through Ray Client",
                hint=CLIENT_HINT,
            )
        self.num_workers = num_workers or config.ray.num_workers
        self.batch_size = batch_size or config.ray.batch_size or config.spacy.batch_size
        self.startup_seconds: float | None = None
        self.started_local = False
        self._ray: Any = None

    # --- the cluster --------------------------------------------------------------------

    def _probe(self) -> None:
        """A HOST:PORT that refuses connections is refused here, in seconds: Ray itself keeps
        retrying to reach the cluster's GCS for a long time before it gives up."""
        host, _, port = (self.address or "").rpartition(":")
        if not host or not port.isdigit():
            return  # "auto" and the like: Ray finds the address itself, and says so at once if it cannot
        try:
            socket.create_connection((host.strip("[]"), int(port)), timeout=PROBE_SECONDS).close()
        except OSError as error:
            raise ClusterError(
                f"[ray.address] cannot reach the Ray cluster at {self.address}: {error.strerror or error}",
                hint=START_HINT,
            ) from None

    def start(self) -> RayBackend:
        """Join (or start) the cluster; a refused address or a dead cluster is a ClusterError."""
        if self._ray is not None:
            return self
        ray = import_ray()
        began = time.perf_counter()
        if not ray.is_initialized():
            self._probe()
            cpus = self.num_workers * self.config.ray.cpus_per_worker
            options: dict[str, Any] = {
                "include_dashboard": False,
                "log_to_driver": False,
                "logging_level": logging.ERROR,
                "configure_logging": True,
                # The workers import this very toolkit, shipped with the job: the driver's code,
                # whatever the nodes have installed (they need its dependencies and the model).
                "runtime_env": {"py_modules": [str(Path(toolkit.__file__).parent)]},
            }
            if self.address:
                options["address"] = self.address
            else:
                # "local": a new cluster for this run, never one found through RAY_ADDRESS or
                # the last `ray start` on this machine (which no address would join).
                options.update(address="local", num_cpus=max(1, math.ceil(cpus)))
            # ray.init installs its own SIGTERM handlers (the core worker's prints a C++ stack dump and
            # ends the process): the caller's is put back, so that SIGTERM does here what it does
            # without Ray (the supervised child's stops the run; by default, a quiet end).
            term = signal.getsignal(signal.SIGTERM) if _main_thread() else None
            try:
                ray.init(**options)
            except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError, ...
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray cluster"
                hint = START_HINT
                if self.address and "RAY_AUTH_MODE" not in os.environ:
                    hint = (*hint, f"; {AUTH_HINT} (RAY_AUTH_TOKEN, or the file ~/.ray/auth_token)")
                raise ClusterError(f"[ray.address] cannot reach {where}: {_first_line(error)}", hint=hint) from None
            finally:
                if term is not None:
                    signal.signal(signal.SIGTERM, term)
            self.started_local = not self.address
        self._ray = ray
        self.startup_seconds = time.perf_counter() - began
        self._quiet_ray_data()
        if self.on_start is not None:
            self.on_start(self)
        return self

    def close(self) -> None:
        """Stop the local cluster this backend started (a joined cluster keeps running)."""
        if self._ray is not None and self.started_local:
            self._ray.shutdown()
        self._ray = None
        self.started_local = False

    def __enter__(self) -> RayBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def cluster_cpus(self) -> float:
        self.start()
        return float(self._ray.cluster_resources().get("CPU", 0))

    def cluster(self) -> Cluster:
        """The cluster (joined or started here if it is not yet)."""
        cpus = self.cluster_cpus()
        return Cluster(
            self.num_workers, cpus, None if self.started_local else self.address, self.startup_seconds or 0.0
        )

    def _quiet_ray_data(self) -> None:
        # The command draws one progress bar on stderr; Ray Data's own bars and logs would
        # interleave with it. Order is kept so the output is the local backend's, line for line.
        context = self._ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.execution_options.preserve_order = True
        # A task's output is merged into blocks of up to this size, and a block goes to one
        # actor: Ray Data's 128 MB would hand a whole file to one actor and return nothing
        # before it is done. (A repartition stage would need a CPU the actors hold.)
        context.target_max_block_size = BLOCK_BYTES
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        # Ray Data's advice that a small input leaves part of a pool idle: true, and no error.
        warnings.filterwarnings("ignore", r"The (maximum|minimum) number of concurrent", UserWarning, r"ray\.data")

    # --- predicting ---------------------------------------------------------------------

    def predict_planned(
        self, plan: InputPlan, options: InputConfig, *, parts: Path | None = None
    ) -> Iterator[Predicted]:
        """The planned articles predicted on the cluster, in the plan's order; with ``parts`` (a
        Parquet predictions folder the workers can reach) the workers write them there.

        Not a generator: the cluster is joined when this is called, so a cluster that cannot
        be reached stops the run before the caller opens the output."""
        self.start()
        rows = [{"path": f.path, "runs": [list(run) for run in f.runs], "first": f.first} for f in plan.files]
        files = self._ray.data.from_items(rows, override_num_blocks=max(1, min(len(rows), 200)))
        # Reading is light next to the model: tasks that reserve no CPU, so they never
        # wait for the actors' CPUs, and few at once, so read-ahead stays bounded.
        articles = files.map_batches(
            _read_files,
            batch_size=1,
            batch_format="pyarrow",
            fn_kwargs={"options": options, "rows": self.batch_size},
            num_cpus=0,
            compute=self._ray.data.TaskPoolStrategy(size=2),
        )
        return self._predict_dataset(articles, expected=plan.articles, parts=parts)

    def predict_rows(
        self,
        inputs: RowInputs,
        options: InputConfig,
        *,
        done: Mapping[str, int],
        parts: Path | None = None,
        run_id: str | None = None,
    ) -> Iterator[StreamedBatch]:
        """JSONL and Parquet inputs read on the cluster (:mod:`._ray_read`), turned into articles and
        predicted by the actors, batch by batch in input order; ``done`` (id -> text digest, put in
        the object store once) are not predicted. With ``parts`` the actors write each batch's
        records there as a pending part of run ``run_id``. Not a generator: the cluster is joined here."""
        self.start()
        from toolkit.preannotate.backends._ray_read import ArticleRows

        files = inputs.files
        number = 0
        datasets = []
        for group in inputs.groups:
            where = {file.path: (number + index, file.name, file.size) for index, file in enumerate(group.files)}
            number += len(group.files)
            source = ArticleRows(
                [file.path for file in group.files], filesystem=group.filesystem, files=where, rows=self.batch_size
            )
            # Reading is light next to the model: tasks that reserve no CPU, so they never wait
            # for the actors' CPUs, and two at once, so read-ahead stays bounded.
            datasets.append(self._ray.data.read_datasource(source, num_cpus=0, concurrency=2))
        rows = datasets[0].union(*datasets[1:]) if len(datasets) > 1 else datasets[0]
        done_ref = self._ray.put(dict(done))
        predicted = self._on_actors(
            rows,
            _RowAnnotator,
            names=[file.name for file in files],
            done=[done_ref],
            parts=str(parts.resolve()) if parts is not None else None,
            run_id=run_id,
        )
        return self._iterate_rows(predicted, done_ref)

    def _on_actors(self, dataset: ray.data.Dataset, actor: type, **options: Any) -> ray.data.Dataset:
        """``dataset`` mapped, ``self.batch_size`` rows at a time, by a pool of ``num_workers`` actors of
        class ``actor``, each built with the pipeline's settings and ``options``."""
        return dataset.map_batches(
            actor,
            batch_size=self.batch_size,
            batch_format="pyarrow",
            fn_constructor_kwargs={
                "config": self.config,
                "model": self.model,
                "scores": self.scores,
                # Read here, in the driver, where the caller installed it; the actors are other processes.
                "on_batch": hooks.current().actor_batch,
                **options,
            },
            compute=self._ray.data.ActorPoolStrategy(size=self.num_workers),
            num_cpus=self.config.ray.cpus_per_worker,
        )

    def _iterate_rows(self, predicted: ray.data.Dataset, done_ref: Any) -> Iterator[StreamedBatch]:
        arrived = hooks.current().cluster_results
        try:
            for batch in predicted.iter_batches(batch_size=None, batch_format="pyarrow"):
                for raw in batch.column("batch").to_pylist():
                    yield pickle.loads(raw)
                arrived()
        except ToolkitError:
            raise
        except Exception as error:
            own = _unwrap(error)
            if own is not None:
                raise own from None
            raise ClusterError(f"the Ray cluster failed: {_first_line(error)}") from None
        finally:
            del done_ref

    def predict(self, articles: Iterable[Article]) -> Iterator[Predicted]:
        """The :class:`~toolkit.preannotate.backends.Backend` protocol: articles given as values,
        sent to the cluster ``WINDOW`` at a time (each window loads the actors' pipelines again)."""
        self.start()
        iterator = iter(articles)
        while window := list(itertools.islice(iterator, WINDOW)):
            items = [{"seq": seq, "article": pickle.dumps(article, protocol=5)} for seq, article in enumerate(window)]
            blocks = max(1, min(len(items) // self.batch_size, 200))
            yield from self._predict_dataset(
                self._ray.data.from_items(items, override_num_blocks=blocks), expected=len(window)
            )

    def _predict_dataset(
        self, articles: ray.data.Dataset, *, expected: int, parts: Path | None = None
    ) -> Iterator[Predicted]:
        predicted = self._on_actors(
            articles, _Annotator, parts=str(parts.resolve()) if parts is not None else None, run_id=new_run_id()
        )
        seen = 0
        arrived = hooks.current().cluster_results
        try:
            for batch in predicted.iter_batches(batch_size=None, batch_format="pyarrow"):
                for seq, raw in zip(batch.column("seq").to_pylist(), batch.column("result").to_pylist(), strict=True):
                    if seq != seen:
                        # preserve_order and Ray's retries promise this; a gap or a repeat would
                        # lose or duplicate an article in the output, so it stops the run.
                        raise ClusterError(f"the cluster returned article {seq} where article {seen} was due")
                    seen += 1
                    yield Predicted(*pickle.loads(raw))
                arrived()
        except ToolkitError:
            raise
        except Exception as error:
            own = _unwrap(error)
            if own is not None:
                raise own from None
            raise ClusterError(f"the Ray cluster failed: {_first_line(error)}") from None
        if seen != expected:
            raise ClusterError(f"the cluster returned {seen:,} of {expected:,} articles")
