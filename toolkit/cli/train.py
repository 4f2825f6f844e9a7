"""``toolkit train``: a spaCy NER trained on an export's corrections, written whole or not at all."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli

ExportArg = Annotated[
    Path, typer.Argument(help="An export version folder (exports/news-ner/v3) or an export root (its LATEST).")
]
ModelOutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Model folder to write (an earlier model of ours there is replaced; other files in it are kept).",
        file_okay=False,
    ),
]
BaseOpt = Annotated[
    str | None,
    typer.Option(
        "--base",
        metavar="MODEL|blank",
        help="Start from `model` (the configured spacy.model), `blank`, or a pipeline folder. Default: train.base.",
    ),
]
EpochsOpt = Annotated[
    int | None,
    typer.Option("--epochs", min=1, help="Most epochs (early stopping may end sooner). Default: train.max_epochs."),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", min=0, help="Random seed. Default: train.seed.")]
WarmStartOpt = Annotated[
    bool | None,
    typer.Option(
        "--warm-start/--no-warm-start",
        help="Also begin mapped labels from the base labels' weights (label_map). Default: train.warm_start.",
    ),
]
PromoteOpt = Annotated[
    bool | None,
    typer.Option(
        "--promote/--no-promote",
        help="Make the new model the project's current one without the test-split comparison (--promote, said "
        "so), or leave the current one (--no-promote). Default: promote only when the comparison shows it better.",
    ),
]


@app.command("train")
def train_cli(
    export: ExportArg,
    out: ModelOutOpt,
    config_path: ConfigOpt = DEFAULT_CONFIG,
    base: BaseOpt = None,
    epochs: EpochsOpt = None,
    seed: SeedOpt = None,
    warm_start: WarmStartOpt = None,
    promote: PromoteOpt = None,
) -> None:
    """Train spaCy NER on an export's train split, with early stopping on its validation split; the model
    becomes the project's current one when it beats that one on the test split."""
    from rich.progress import TextColumn, TimeElapsedColumn

    from toolkit.compose import train_and_promote
    from toolkit.render.console import print_document, print_sections
    from toolkit.render.progress import progress_display
    from toolkit.train import view

    config = load_config_for_cli(config_path)
    with progress_display(TextColumn("{task.description}"), TimeElapsedColumn(), describe=lambda _s: "") as on_progress:
        done = train_and_promote(
            export, config=config, out=out, base=base, epochs=epochs, seed=seed, warm_start=warm_start,
            promote=promote, on_progress=on_progress,
        )  # fmt: skip
    print_document(console, view.summary(done.train))
    sections = [
        view.promotion(done.promotion),
        view.written(done.train, export=export, config=config_path, promoted=done.promotion.promoted),
    ]
    print_sections(console, sections, rules=False)
