from __future__ import annotations

import time
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


@app.command("preannotate")
def preannotate_cli(
    # fmt: off
    inputs: Annotated[
        list[Path],
        typer.Argument(
            help="Article files (.txt, .jsonl, .json, .csv, .parquet), saved Hugging Face datasets, folders (read recursively) or quoted glob patterns."
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the predictions (JSONL). A rerun skips the articles already in it.",
            dir_okay=False,
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    on_error: Annotated[
        OnError | None,
        typer.Option(
            "--on-error",
            help="Bad input: fail (stop before writing anything) or skip (go on, count what was skipped). Default: input.on_error.",
        ),
    ] = None,
    n_process: Annotated[
        int | None,
        typer.Option("--n-process", min=1, help="Worker processes for nlp.pipe. Default: spacy.n_process."),
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option("--batch-size", min=1, help="Texts per nlp.pipe batch. Default: spacy.batch_size.")
    ] = None,
    scores: Annotated[
        bool | None,
        typer.Option(
            "--scores/--no-scores", help="Confidence scores from beam search (slower). Default: spacy.scores."
        ),
    ] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Start the output over instead of resuming it.")] = False,
    # fmt: on
) -> None:
    """Run the spaCy pipeline over articles and write one JSON record per article."""
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate.readers import ReadStats, expand_inputs
    from toolkit.preannotate.run import PreannotateStats, preannotate_to_file

    config = load_config_for_cli(config_path)
    expand_inputs(inputs)  # fail on a missing input before loading the model
    pipeline = load_pipeline(config, scores=scores)
    n_process = n_process or config.spacy.n_process
    console.print(
        f"Model: {pipeline.model.name} {pipeline.model.version} (components: {', '.join(pipeline.nlp.pipe_names)}; "
        f"scores {'on' if pipeline.scores else 'off'}; {n_process:,} process{'' if n_process == 1 else 'es'})"
    )
    read_stats, stats = ReadStats(), PreannotateStats()
    started = time.perf_counter()
    columns = (
        TextColumn("Pre-annotating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("Pre-annotating", total=None, rate="")

        def on_start(todo: int) -> None:
            nonlocal started
            started = time.perf_counter()  # the rates count the model's time, not the input scan
            progress.update(task, total=todo)

        def on_article(_article: object) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(
                task,
                advance=1,
                rate=f"{stats.articles / elapsed:,.1f} articles/s, {stats.words / elapsed:,.0f} words/s",
            )

        written = preannotate_to_file(
            inputs,
            out=out,
            config=config,
            pipeline=pipeline,
            on_error=on_error.value if on_error else None,
            fresh=fresh,
            n_process=n_process,
            batch_size=batch_size,
            stats=stats,
            read_stats=read_stats,
            on_start=on_start,
            on_article=on_article,
        )
    elapsed = max(time.perf_counter() - started, 1e-9)
    if written == 0 and stats.resumed:
        verb = "is" if stats.resumed == 1 else "are"
        console.print(
            f"Nothing new: all {plural(stats.resumed, 'article')} {verb} already in {out} (pass --fresh to redo them)"
        )
    elif stats.resumed:
        console.print(f"Resumed: {plural(stats.resumed, 'article')} already in {out} (pass --fresh to redo them)")
    if stats.truncated_tail:
        console.print(f"  dropped the half-written last line an interrupted run left in {out}")
    if written or not stats.resumed:
        console.print(
            f"Wrote {plural(written, 'article')} with {plural(stats.spans, 'span')} to {out} "
            f"({stats.articles / elapsed:,.1f} articles/s, {stats.words / elapsed:,.0f} words/s)"
        )
    if stats.trimmed:
        console.print(f"  {plural(stats.trimmed, 'span')} trimmed of surrounding whitespace or punctuation")
    if stats.dropped_empty:
        console.print(f"  {plural(stats.dropped_empty, 'span')} dropped: nothing left after trimming")
    if stats.dropped_by_label:
        dropped = ", ".join(f"{label} {count}" for label, count in stats.dropped_by_label.most_common())
        console.print(f"  not pre-annotated (label not in the config): {dropped}")
    if read_stats.dates_not_parsed:
        console.print(f"  {plural(read_stats.dates_not_parsed, 'date')} not understood: kept as date_original only")
    if read_stats.duplicates:
        console.print(f"  {plural(len(read_stats.duplicates), 'exact duplicate')} kept once:")
        for line in read_stats.duplicates[:10]:
            console.print(f"    {line}")
        if len(read_stats.duplicates) > 10:
            console.print(f"    ... and {len(read_stats.duplicates) - 10:,} more")
    if read_stats.skipped:
        console.print(f"Skipped {plural(read_stats.skipped_total, 'bad input')}: {read_stats.skipped_reasons()}")
        for line in read_stats.skipped_examples[:10]:
            console.print(f"    {line}")
    console.print(f"Next: toolkit push {out} --config {config_path}")
