"""``toolkit train``: a spaCy NER trained on an export's corrections, written whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural


@app.command("train")
def train_cli(
    export: Annotated[
        Path, typer.Argument(help="An export version folder (exports/news-ner/v3) or an export root (its LATEST).")
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Model folder to write (an earlier model of ours there is replaced; other files in it are kept).",
            file_okay=False,
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="MODEL|blank",
            help="Start from `model` (the configured spacy.model), `blank`, or a pipeline folder. Default: train.base.",
        ),
    ] = None,
    epochs: Annotated[
        int | None,
        typer.Option("--epochs", min=1, help="Most epochs (early stopping may end sooner). Default: train.max_epochs."),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, help="Random seed. Default: train.seed.")] = None,
    warm_start: Annotated[
        bool | None,
        typer.Option(
            "--warm-start/--no-warm-start",
            help="Also begin mapped labels from the base labels' weights (label_map). Default: train.warm_start.",
        ),
    ] = None,
) -> None:
    """Train spaCy NER on an export's train split, with early stopping on its validation split."""
    from rich.progress import TextColumn, TimeElapsedColumn

    from toolkit.cli._progress import progress_display
    from toolkit.train import train
    from toolkit.train.training import START_MEANING

    config = load_config_for_cli(config_path)
    with progress_display(TextColumn("{task.description}"), TimeElapsedColumn(), describe=lambda _s: "") as on_progress:
        result = train(
            export,
            config=config,
            out=out,
            base=base,
            epochs=epochs,
            seed=seed,
            warm_start=warm_start,
            on_progress=on_progress,
        )
    best = result.best
    base_text = f"{result.base.name} {result.base.version}" if result.base else "blank"
    console.print(
        f"Trained on {plural(result.train_rows, 'article')} of {result.export.path}, "
        f"from {base_text}, seed {result.seed}"
    )
    console.print(f"  start: {result.start} ({START_MEANING[result.start]})")
    console.print(
        f"  {plural(result.epochs_run, 'epoch')} in {result.seconds:,.1f} s ({result.words_per_second:,.0f} words/s); "
        f"best validation F1 {result.scores.get('f1') or 0:.3f} at epoch {best.epoch + 1 if best else 'n/a'}, "
        f"on {plural(result.validation_rows, 'article')} ({plural(result.validation_spans, 'span')})"
    )
    for label, row in sorted((result.scores.get("per_label") or {}).items()):
        console.print(f"    {label}: P {row['p']:.3f} R {row['r']:.3f} F1 {row['f']:.3f}")
    if note := result.small_validation_note:
        console.print(f"  Note: {note}.")
    verb = "Replaced" if result.replaced else "Wrote"
    console.print(f"{verb} {result.out} (model version {result.model.model_version}; TRAINING.md beside it)")
    if result.kept:
        console.print(f"  kept the other files in it: {', '.join(result.kept)}")
    console.print(
        f"Next: toolkit evaluate base {result.out} --data {export} --config {config_path}, "
        f"then toolkit preannotate INPUT --model {result.out} --config {config_path}"
    )
