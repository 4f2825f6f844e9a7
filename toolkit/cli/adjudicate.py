from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli
from toolkit.render.progress import PhaseState, progress_display
from toolkit.render.terminal import json_text


def _describe(state: PhaseState) -> str:
    if state.phase == "download":
        return f"Downloading the export: {state.done / 1e6:,.1f} MB"
    return f"Sending review tasks: {state.done:,}" + (f" of {state.total:,}" if state.total else "")


@app.command("adjudicate")
def adjudicate_cli(
    config_path: ConfigOpt = DEFAULT_CONFIG,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print how many articles agree, disagree (by kind) and would be sent; write nothing."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the totals as one JSON object (for scripts) instead of text.")
    ] = False,
) -> None:
    """Send the articles annotators disagree on to a review project in Label Studio, each once.

    Articles where every annotator agrees are auto-accepted; one-annotator articles are
    left out. Safe to run again: only new disputes are sent, and review tasks whose
    versions changed before they were adjudicated are refreshed.
    """
    from toolkit.adjudicate import adjudicate, view
    from toolkit.labelstudio.client import resolve_server
    from toolkit.labelstudio.view import server
    from toolkit.render.console import print_document, print_sections

    config = load_config_for_cli(config_path)
    settings = resolve_server()
    print_sections(err_console if as_json else console, [server(settings)], rules=False)
    with progress_display(TextColumn("{task.description}"), describe=_describe, show_from_start=False) as on_progress:
        result = adjudicate(config=config, settings=settings, dry_run=dry_run, on_progress=on_progress)
    print_sections(err_console, [view.warnings(result)], rules=False)
    if as_json:
        typer.echo(json_text(result.to_json()))
        return
    print_document(console, view.adjudicated(result))
    print_sections(err_console, [view.article_lists(result)], rules=False)
