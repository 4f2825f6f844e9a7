"""``toolkit preannotate --backend ray``: the backend, and the line that describes its cluster once it is up."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
