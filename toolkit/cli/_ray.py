"""``toolkit preannotate --backend ray``: the backend, and the line that describes its cluster once it is up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from toolkit.cli._app import console, plural

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.nlp.pipeline import Pipeline
    from toolkit.preannotate.backends.ray import RayBackend

# The library's hint about the address names the setting; here it names the flag too.
ADDRESS_HINT = ("check ray.address", "check --address (ray.address)")


def ray_backend(
    config: Config, pipeline: Pipeline, *, address: str | None, workers: int | None, batch_size: int | None
) -> RayBackend:
    """The Ray backend; its cluster is joined (or started) only when there is something to run,
    so bad input and "nothing new" cost no cluster start-up."""
    from toolkit.preannotate.backends.ray import RayBackend

    def describe(backend: RayBackend) -> None:
        cpus = backend.cluster_cpus()
        where = "local cluster" if backend.started_local else f"cluster at {backend.address}"
        console.print(
            f"Ray: {plural(backend.num_workers, 'worker')} on a {where} of {cpus:g} CPU{'' if cpus == 1 else 's'}, "
            f"up in {backend.startup_seconds:.1f} s"
        )

    console.print(
        f"Model: {pipeline.model.name} {pipeline.model.version} (components: {', '.join(pipeline.nlp.pipe_names)}; "
        f"scores {'on' if pipeline.scores else 'off'}; on Ray)"
    )
    return RayBackend(
        config,
        pipeline.model,
        scores=pipeline.scores,
        address=address,
        num_workers=workers,
        batch_size=batch_size,
        on_start=describe,
    )


def supervised(run: Callable[[], None], *, out: Path) -> None:
    """Run ``run`` (the whole pre-annotation on Ray, its output and summary) in a forked child.

    Ray's core worker ends the driver process on the spot, with no exception and no cleanup,
    when the node it runs on loses its raylet or object store: a cluster that dies mid-run.
    Run in a child, that end is seen here and becomes one error line and exit 1; the records
    the child wrote before stay in the output, for the next run to resume after. Any other
    end of the child (success, its own error already printed, Ctrl-C) is passed on as its
    exit code. Where there is no ``fork`` (Windows), ``run`` runs in this process, unsupervised.
    """
    import atexit
    import os
    import signal
    import sys

    from toolkit.errors import ClusterError

    if not hasattr(os, "fork"):
        run()
        return
    sys.stdout.flush()
    sys.stderr.flush()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: Python's own exit (whatever the outcome) says so through the pipe
        os.close(reader)
        atexit.register(os.write, writer, b"exited")
        run()
        return
    os.close(writer)
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the child, which ends the run
    try:
        with os.fdopen(reader, "rb") as pipe:
            said = pipe.read()
        _, status = os.waitpid(pid, 0)
    finally:
        signal.signal(signal.SIGINT, previous)
    code = os.waitstatus_to_exitcode(status)
    if said:
        if code:
            raise typer.Exit(code)
        return
    ending = f"signal {-code}" if code < 0 else f"exit status {code}"
    raise ClusterError(
        f"the Ray cluster went away mid-run: Ray ended this run ({ending}) when its node lost the cluster; "
        f"the articles finished before are in {out}",
        hint="check the cluster (`ray status`), then run the same command again: it resumes after them",
    )
