from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli
from toolkit.render.progress import progress_display

PredictionsArg = Annotated[
    Path, typer.Argument(help="Predictions written by `toolkit preannotate` (JSONL, or a Parquet folder).")
]
DryRunOpt = Annotated[
    bool,
    typer.Option(
        "--dry-run", help="Print what a push would do (new tasks, new prediction sets, unchanged) and write nothing."
    ),
]
BatchSizeOpt = Annotated[
    int | None,
    typer.Option(
        "--batch-size", min=1, max=10_000, help="Tasks per import request (default: push.batch_size in the config)."
    ),
]
ReplaceConfigOpt = Annotated[
    bool,
    typer.Option(
        "--replace-labeling-config",
        help="Replace the project's labeling config even when it has controls push did not create "
        "(edited in Label Studio); they are dropped. Default: push.replace_labeling_config.",
    ),
]
RollbackOpt = Annotated[
    bool,
    typer.Option(
        "--allow-model-rollback",
        help="Let this push move the project off its current model (`toolkit models list`) to the file's "
        "model; without it such a push is refused.",
    ),
]


@app.command("push")
def push_cli(
    predictions: PredictionsArg,
    config_path: ConfigOpt = DEFAULT_CONFIG,
    dry_run: DryRunOpt = False,
    batch_size: BatchSizeOpt = None,
    replace_labeling_config: ReplaceConfigOpt = False,
    allow_model_rollback: RollbackOpt = False,
) -> None:
    """Import new articles as tasks with predictions, and new model versions as prediction sets.

    Safe to run again, also after an interrupted push: only what the project does not
    hold yet is sent.
    """
    from toolkit.io.predictions import read_predictions
    from toolkit.labelstudio.client import resolve_server
    from toolkit.labelstudio.view import server
    from toolkit.push import push, view
    from toolkit.render.console import print_document, print_sections

    config = load_config_for_cli(config_path)
    # Read by push itself (a bad record fails before anything is sent), while its grouping starts.
    articles = read_predictions(predictions)
    settings = resolve_server()
    print_sections(console, [server(settings)], rules=False)
    options = {
        "batch_size": batch_size,
        "replace_labeling_config": replace_labeling_config,
        "allow_model_rollback": allow_model_rollback,
        "source": str(predictions),
    }
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    # The bar is drawn from the first batch on (a dry run has none).
    with progress_display(*columns, describe=view.progress, show_from_start=False) as on_progress:
        result = push(articles, config=config, settings=settings, dry_run=dry_run, on_progress=on_progress, **options)
    print_document(console, view.push_document(result, config_path))
