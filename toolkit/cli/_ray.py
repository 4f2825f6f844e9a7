"""``toolkit preannotate --backend ray``: the cluster joined (or started) and described, before the run."""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.cli._app import console, plural

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.nlp.pipeline import Pipeline
    from toolkit.preannotate.backends.ray import RayBackend


def start_cluster(
    config: Config, pipeline: Pipeline, *, address: str | None, workers: int | None, batch_size: int | None
) -> RayBackend:
    """The Ray backend, its cluster up; a cluster that cannot be reached is a one-line ClusterError."""
    from toolkit.errors import ClusterError
    from toolkit.preannotate.backends.ray import RayBackend

    backend = RayBackend(
        config, pipeline.model, scores=pipeline.scores, address=address, num_workers=workers, batch_size=batch_size
    )
    try:
        backend.start()
        cpus = backend.cluster_cpus()
    except ClusterError as error:
        if error.message.startswith("[ray.address]"):
            error.hint = (error.hint or "").replace("check ray.address", "check --address (ray.address)")
        raise
    where = "local cluster" if backend.started_local else f"cluster {address or config.ray.address}"
    console.print(
        f"Model: {pipeline.model.name} {pipeline.model.version} (components: {', '.join(pipeline.nlp.pipe_names)}; "
        f"scores {'on' if pipeline.scores else 'off'}; Ray: {plural(backend.num_workers, 'worker')} on a {where} "
        f"of {cpus:g} CPU{'' if cpus == 1 else 's'}, up in {backend.startup_seconds:.1f} s)"
    )
    return backend
