"""``toolkit evaluate``: models scored on an export split's human spans, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli
from toolkit.render.terminal import json_text


@app.command("evaluate")
def evaluate_cli(
    models: Annotated[
        list[str],
        typer.Argument(
            help="Model folders (from `toolkit train`), or `base` for the configured spacy.model "
            "(a folder named base: ./base)."
        ),
    ],
    data: Annotated[Path, typer.Option("--data", help="An export version folder or export root (its LATEST).")],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    split: Annotated[str, typer.Option("--split", help="The split whose human spans are the gold.")] = "test",
    as_json: Annotated[bool, typer.Option("--json", help="Print the figures as JSON (for scripts).")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML page with a plot to this file.", dir_okay=False)
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the paired bootstrap.")] = 0,
) -> None:
    """Score models on an export split: P/R/F1, the edits an annotator would need, paired bootstrap differences."""
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

    from toolkit.evaluate import evaluate, view
    from toolkit.render.console import print_document, print_sections
    from toolkit.render.html import html_document, write_page
    from toolkit.render.progress import progress_display

    config = load_config_for_cli(config_path)
    columns = (TextColumn("Evaluating"), BarColumn(), MofNCompleteColumn())
    with progress_display(*columns, describe=lambda _s: "", show_from_start=False) as on_progress:
        result = evaluate(models, data=data, config=config, split=split, seed=seed, on_progress=on_progress)
    said = err_console if as_json else console  # stdout is for the JSON alone
    print_sections(said, [view.notes(result)], rules=False)
    if html is not None:
        write_page(html_document(view.evaluation(result)), html)
    if as_json:
        typer.echo(json_text(result.to_json(), indent=2))
    else:
        print_document(console, view.evaluation(result))
    if html is not None:
        print_sections(said, [view.page_written(html)], rules=False)
