"""``toolkit preannotate --backend ray``: its flags (the backend is
``toolkit.preannotate.backends.ray``; the job that builds and supervises it, ``toolkit.preannotate.job``)."""

from __future__ import annotations

from typing import Annotated

import typer

AddressOpt = Annotated[
    str | None,
    typer.Option("--address", help="Ray cluster to join (auto, or its GCS HOST:PORT); none starts a local one."),
]
WorkersOpt = Annotated[
    int | None, typer.Option("--workers", min=1, help="Ray actors, one pipeline each. Default: ray.num_workers.")
]
