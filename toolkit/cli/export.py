from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural

SHOWN_LOSSES = 20


@app.command("export")
def export_cli(
    # fmt: off
    annotations: Annotated[Path, typer.Argument(help="Annotated articles written by `toolkit pull` (JSONL).", dir_okay=False)],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write the dataset to (save_to_disk).", file_okay=False)],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    # fmt: on
) -> None:
    """Build a Hugging Face DatasetDict (tokens, IOB2 ner_tags, spans) from annotated articles."""
    from toolkit.export import export
    from toolkit.preannotate import load_pipeline

    config = load_config_for_cli(config_path)
    if not annotations.is_file():
        from toolkit.errors import InputError

        raise InputError(f"{annotations}: file not found", hint="write it with `toolkit pull --out FILE.jsonl`")
    tokenizer = load_pipeline(config).nlp.make_doc
    stats = export(annotations, config=config, out=out, make_doc=tokenizer)
    splits = ", ".join(f"{name} {stats.rows_per_split.get(name, 0):,}" for name in config.export.splits)
    console.print(f"Wrote {plural(stats.articles, 'article')} to {out} ({splits})")
    console.print(
        f"  {plural(stats.spans, 'span')}: {stats.aligned_strict:,} on token boundaries, "
        f"{stats.aligned_expanded:,} expanded to whole tokens, {len(stats.lost):,} lost"
    )
    for line in stats.lost[:SHOWN_LOSSES]:
        console.print(f"    lost: {line}", style="yellow")
    if len(stats.lost) > SHOWN_LOSSES:
        console.print(f"    ... and {len(stats.lost) - SHOWN_LOSSES:,} more")
    console.print(f"Load it with: datasets.load_from_disk({str(out)!r})")
