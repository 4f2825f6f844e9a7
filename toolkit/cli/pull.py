from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural

SHOWN_PROBLEMS = 20


@app.command("pull")
def pull_cli(
    # fmt: off
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the annotated articles (JSONL).", dir_okay=False)],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    # fmt: on
) -> None:
    """Export the project's annotations and write one record per human-annotated article."""
    from toolkit.connection import resolve_server
    from toolkit.jsonl import write_records
    from toolkit.pull import PullStats, pull

    config = load_config_for_cli(config_path)
    settings = resolve_server()
    console.print(f"Label Studio: {settings.url} ({settings.origin})")
    stats = PullStats()
    articles = pull(config=config, settings=settings, stats=stats)
    write_records(out, articles)
    console.print(f"Wrote {plural(stats.articles, 'annotated article')} with {plural(stats.spans, 'span')} to {out}")
    console.print(
        f"  {plural(stats.tasks, 'task')} exported: {stats.not_annotated:,} not annotated, "
        f"{stats.only_skipped:,} only skipped ({plural(stats.skipped_annotations, 'skipped annotation')} in all)"
    )
    if stats.spans_left_out:
        left_out = ", ".join(f"{reason} {count}" for reason, count in stats.spans_left_out.most_common())
        console.print(f"  spans left out: {left_out}", style="yellow")
    for line in stats.problems[:SHOWN_PROBLEMS]:
        console.print(f"    {line}")
    if len(stats.problems) > SHOWN_PROBLEMS:
        console.print(f"    ... and {len(stats.problems) - SHOWN_PROBLEMS:,} more")
    console.print(f"Next: toolkit export {out} --config {config_path} --out exports/{config.export.name}")
