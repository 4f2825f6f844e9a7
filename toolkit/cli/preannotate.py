from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural


@app.command("preannotate")
def preannotate_cli(
    # fmt: off
    inputs: Annotated[list[Path], typer.Argument(help="Article files (.txt, .jsonl) or folders of them.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the predictions (JSONL).", dir_okay=False)],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    # fmt: on
) -> None:
    """Run the spaCy pipeline over articles and write one JSON record per article."""
    from toolkit.jsonl import write_records
    from toolkit.preannotate import PreannotateStats, load_pipeline, preannotate
    from toolkit.readers import ReadStats, expand_inputs, read_articles

    config = load_config_for_cli(config_path)
    expand_inputs(inputs)  # fail on a missing input before loading the model
    pipeline = load_pipeline(config)
    console.print(f"Model: {pipeline.model.name} {pipeline.model.version} (components: {', '.join(pipeline.nlp.pipe_names)})")
    read_stats, stats = ReadStats(), PreannotateStats()
    started = time.perf_counter()
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True) as progress:
        task = progress.add_task("Pre-annotating")

        def on_article(_article: object) -> None:
            elapsed = max(time.perf_counter() - started, 1e-9)
            progress.update(
                task,
                description=f"Pre-annotating: {stats.articles + 1:,} articles, "
                f"{(stats.articles + 1) / elapsed:,.1f} articles/s, {stats.words / elapsed:,.0f} words/s",
            )

        articles = read_articles(inputs, read_stats)
        written = write_records(out, preannotate(articles, config=config, pipeline=pipeline, stats=stats, on_article=on_article))
    elapsed = max(time.perf_counter() - started, 1e-9)
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
    if read_stats.duplicates:
        console.print(f"  {plural(len(read_stats.duplicates), 'exact duplicate')} kept once:")
        for line in read_stats.duplicates[:10]:
            console.print(f"    {line}")
    console.print(f"Next: toolkit push {out} --config {config_path}")
