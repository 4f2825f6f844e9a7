from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural


@app.command("push")
def push_cli(
    # fmt: off
    predictions: Annotated[Path, typer.Argument(help="Predictions written by `toolkit preannotate` (JSONL).", dir_okay=False)],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    # fmt: on
) -> None:
    """Create the Label Studio project if missing and import new articles as tasks with predictions."""
    from toolkit.connection import resolve_server
    from toolkit.jsonl import read_records
    from toolkit.push import check_labels, push
    from toolkit.records import PredictedArticle

    config = load_config_for_cli(config_path)
    articles = list(read_records(predictions, PredictedArticle))  # fail on a bad record before any import
    check_labels(articles, config, str(predictions))
    settings = resolve_server()
    console.print(f"Label Studio: {settings.url} ({settings.origin})")
    with Progress(TextColumn("Importing tasks"), BarColumn(), MofNCompleteColumn(), console=console, transient=True) as progress:
        task = progress.add_task("import", total=None)
        result = push(articles, config=config, settings=settings, on_progress=lambda done, total: progress.update(task, completed=done, total=total))
    state = "created" if result.project_created else "found"
    console.print(f"Project {config.project.title!r} {state}: {result.project_url}")
    console.print(f"  {plural(result.created, 'new task')}, {plural(result.unchanged, 'article')} already in the project")
    console.print(f"Next: annotate in Label Studio, then `toolkit pull --config {config_path} --out FILE.jsonl`")
