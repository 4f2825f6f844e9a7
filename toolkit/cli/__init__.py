"""The ``toolkit`` command line: thin Typer functions over the library."""

from __future__ import annotations

from toolkit.cli import adjudicate as _adjudicate  # noqa: F401  (registers the command)
from toolkit.cli import evaluate as _evaluate  # noqa: F401  (registers the command)
from toolkit.cli import export as _export  # noqa: F401  (registers the command)
from toolkit.cli import preannotate as _preannotate  # noqa: F401
from toolkit.cli import pull as _pull  # noqa: F401
from toolkit.cli import push as _push  # noqa: F401
from toolkit.cli import report as _report  # noqa: F401
from toolkit.cli import train as _train  # noqa: F401
from toolkit.cli._app import app
from toolkit.cli.annotators import annotators_app
from toolkit.cli.labelstudio import labelstudio_app
from toolkit.cli.models import models_app

app.add_typer(labelstudio_app, name="labelstudio")
app.add_typer(models_app, name="models")
app.add_typer(annotators_app, name="annotators")


def main() -> None:
    app()


__all__ = ["app", "main"]
