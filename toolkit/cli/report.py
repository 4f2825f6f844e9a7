from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli
from toolkit.render.terminal import json_text


@app.command("report")
def report_cli(
    annotations: Annotated[
        Path,
        typer.Argument(
            help="Annotated articles written by `toolkit pull` (JSONL); its .ledger.jsonl is read too.", dir_okay=False
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (for scripts) instead of tables.")
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML page with plots to this file.", dir_okay=False)
    ] = None,
) -> None:
    """What the humans corrected, and how much they agree: progress, model against human, agreement, annotators."""
    from toolkit.render.console import print_document, print_sections
    from toolkit.report import report, view, write_html

    config = load_config_for_cli(config_path)
    result = report(annotations, config=config)
    if html is not None:
        # Before printing: a page that cannot be written fails the command with nothing on stdout.
        write_html(result, html)
    if as_json:
        # Plain stdout, no rich wrapping: scripts parse it.
        typer.echo(json_text(result.to_json(), indent=2))
    else:
        print_document(console, view.report_document(result))
    if html is not None:
        print_sections(err_console if as_json else console, [view.page_written(html)], rules=False)
