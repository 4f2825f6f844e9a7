from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli
from toolkit.render.progress import PhaseState, progress_display
from toolkit.render.terminal import json_text


def _describe(state: PhaseState) -> str:
    if state.phase == "download":
        return f"Downloading the export: {state.done / 1e6:,.1f} MB"
    return f"Reading tasks: {state.done:,}"


@app.command("pull")
def pull_cli(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the annotated articles (JSONL); the ledger goes next to it.",
            dir_okay=False,
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the totals as one JSON object (for scripts) instead of text.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the previous pull's state (no new/changed/deleted report).")
    ] = False,
    from_raw: Annotated[
        Path | None,
        typer.Option(
            "--from-raw",
            help="Re-derive the output from a kept raw pull (.json.gz) without the server.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Export the project and write one record per human-annotated article, plus a ledger of everything left out."""
    from toolkit.labelstudio.client import resolve_server
    from toolkit.labelstudio.view import server
    from toolkit.pull import pull, view
    from toolkit.render.console import print_document, print_sections

    config = load_config_for_cli(config_path)
    settings = None if from_raw is not None else resolve_server()  # a raw pull is re-derived without the server
    if settings is not None:
        print_sections(err_console if as_json else console, [server(settings)], rules=False)
    with progress_display(TextColumn("{task.description}"), describe=_describe, show_from_start=False) as on_progress:
        summary = pull(config=config, settings=settings, out=out, full=full, from_raw=from_raw, on_progress=on_progress)
    if as_json:
        typer.echo(json_text(summary.to_json()))
        return
    print_document(console, view.pulled(summary))
    print_sections(console, [view.next_step(summary, config=config_path, export_name=config.export.name)], rules=False)
