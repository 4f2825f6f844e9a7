"""``toolkit evaluate``: models scored on an export split's human spans, side by side."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli, plural
from toolkit.cli._terminal import json_text

if TYPE_CHECKING:
    from toolkit.evaluate.run import EvaluateResult


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

    from toolkit.cli._progress import progress_display
    from toolkit.evaluate.run import evaluate

    config = load_config_for_cli(config_path)
    columns = (TextColumn("Evaluating"), BarColumn(), MofNCompleteColumn())
    with progress_display(*columns, describe=lambda _s: "", show_from_start=False) as on_progress:
        result = evaluate(models, data=data, config=config, split=split, seed=seed, on_progress=on_progress)
    for note in result.notes:
        (err_console if as_json else console).print(f"Note: {note}", style="yellow")
    if html is not None:
        from toolkit.evaluate.html import write_html

        write_html(result, html)
    if as_json:
        typer.echo(json_text(result.to_json(), indent=2))
    else:
        print_result(result)
    if html is not None:
        (err_console if as_json else console).print(f"Wrote the HTML page to {html}")


def _f(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_result(result: EvaluateResult) -> None:
    from rich.table import Table

    from toolkit.metrics.edits import EDIT_KINDS
    from toolkit.metrics.spans import OVERALL

    console.print(
        f"{result.split} split of {result.export}: {plural(result.articles, 'human-annotated article')}, "
        f"{plural(result.gold_spans, 'span')}; tokens: {result.tokenizer}"
    )
    if note := result.small_note:
        console.print(f"Note: {note}.", style="yellow")
    for model in result.models:
        # The name on a line of its own: a table title is cut to the table's width.
        console.print(f"{model.spec} ({model.model.model_version})")
        table = Table()
        table.add_column("label")
        for name in ("P", "R", "F1", "strict P", "strict R", "strict F1", "gold"):
            table.add_column(name, justify="right")
        for label in [*result.labels, OVERALL]:
            exact, strict = model.exact.prf(label), model.strict.prf(label)
            table.add_row(
                "micro" if label == OVERALL else label,
                _f(exact.precision),
                _f(exact.recall),
                _f(exact.f1),
                _f(strict.precision),
                _f(strict.recall),
                _f(strict.f1),
                f"{exact.gold:,}",
            )
        console.print(table)
    console.print("P/R/F1: exact character spans; strict: seqeval strict IOB2 entities on the export's tokens.")
    edits = Table(title="Edits an annotator would need, per article", title_justify="left")
    edits.add_column("model", overflow="fold")  # wrapped, never cut to `models/ne…`
    for kind in (*EDIT_KINDS, "edits"):
        edits.add_column(kind, justify="right")
    for model in result.models:
        per = model.edits_per_article()
        edits.add_row(model.spec, *[f"{per[kind]:.2f}" for kind in (*EDIT_KINDS, "edits")])
    console.print(edits)
    console.print("edits: every kind but accepted unchanged.")
    for comparison in result.comparisons:
        if comparison.difference is None:
            continue
        interval = (
            f"95% CI [{comparison.low:+.3f}, {comparison.high:+.3f}]" if comparison.low is not None else comparison.note
        )
        console.print(
            f"{comparison.model} - {comparison.reference}: micro F1 {comparison.difference:+.3f}, {interval} "
            f"(paired bootstrap over articles, {comparison.resamples:,} resamples)"
        )
