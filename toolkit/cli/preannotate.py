"""``toolkit preannotate``: articles in, one JSON record per article out, resumable."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural
from toolkit.errors import ToolkitError

if TYPE_CHECKING:
    from toolkit.cli._progress import PhaseState
    from toolkit.preannotate import PreannotateStats, ReadStats


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


class BackendName(str, Enum):
    local = "local"
    ray = "ray"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


@app.command("preannotate")
def preannotate_cli(
    ctx: typer.Context,
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Article files (.txt, .jsonl, .json, .csv, .parquet), saved Hugging Face datasets, "
            "folders (read recursively) or quoted glob patterns; with --backend ray also URLs "
            "(s3://..., file://...) of JSONL and Parquet files or folders.",
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the predictions: a JSONL file, or a folder with --format parquet. "
            "A rerun skips the articles already in it.",
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    on_error: Annotated[
        OnError | None,
        typer.Option(
            "--on-error",
            help="Bad input: fail (stop before writing anything) or skip (go on, count what was skipped). "
            "Default: input.on_error.",
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
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="A model folder (from `toolkit train`) to pre-annotate with, in place of spacy.model.",
            file_okay=False,
        ),
    ] = None,
    backend: Annotated[
        BackendName | None,
        typer.Option("--backend", help="local (this machine) or ray (a Ray cluster). Default: spacy.backend."),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option("--address", help="Ray cluster to join (auto, or its GCS HOST:PORT); none starts a local one."),
    ] = None,
    workers: Annotated[
        int | None, typer.Option("--workers", min=1, help="Ray actors, one pipeline each. Default: ray.num_workers.")
    ] = None,
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="jsonl (one file) or parquet (a folder of parts written by Ray's workers)."),
    ] = OutputFormat.jsonl,
) -> None:
    """Run the spaCy pipeline over articles and write one JSON record per article."""
    from toolkit.cli._progress import progress_display
    from toolkit.io.locks import output_lock
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate import PreannotateStats, ReadStats, preannotate_to_file
    from toolkit.preannotate.preannotation import OUTPUT_WHAT, PHASE
    from toolkit.preannotate.readers import expand_inputs
    from toolkit.preannotate.readers.inputs import is_url

    config = load_config_for_cli(config_path)
    # Held to the command's end; taken before the model loads or a cluster starts, so that a
    # second run on this output is refused at once (preannotate_to_file takes it again).
    ctx.with_resource(output_lock(out, what=OUTPUT_WHAT[output_format.value]))
    if model is not None:
        from toolkit.nlp.pipeline import with_model

        config = with_model(config, model)
    expand_inputs([given for given in inputs if not is_url(given)])  # a missing input fails before the model loads
    pipeline = load_pipeline(config, scores=scores)
    n_process = n_process or config.spacy.n_process
    cluster = None
    if (backend.value if backend else config.spacy.backend) == "ray":
        from toolkit.cli._ray import ray_backend

        cluster = ray_backend(config, pipeline, address=address, workers=workers, batch_size=batch_size)
    else:
        console.print(
            f"Model: {pipeline.model.name} {pipeline.model.version} (components: {', '.join(pipeline.nlp.pipe_names)}; "
            f"scores {'on' if pipeline.scores else 'off'}; {n_process:,} process{'' if n_process == 1 else 'es'})"
        )
    read_stats, stats = ReadStats(), PreannotateStats()
    columns = (
        TextColumn("Pre-annotating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )

    def run() -> None:
        # The phase starts when the scan of the inputs is done: the rates count the model's time.
        with progress_display(*columns, describe=_rates) as on_progress:
            try:
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
                    on_progress=on_progress,
                    backend=cluster,
                    output_format=output_format.value,
                )
            except ToolkitError as error:
                _name_the_flags(error)
                raise
            finally:
                if cluster is not None:
                    cluster.close()
        _print_summary(written, stats, read_stats, on_progress.phases[PHASE], out=out, config_path=config_path)

    if cluster is None:
        run()
    else:
        from toolkit.preannotate.backends._ray_supervise import supervised

        # In a child process: a cluster that dies mid-run ends its driver without a word.
        code = supervised(run, out=out)
        if code:
            raise typer.Exit(code)


def _rates(state: PhaseState) -> str:
    if not state.done:  # the first event only says how many articles there are
        return ""
    return f"{state.rate():,.1f} articles/s, {state.rate('words'):,.0f} words/s"


def _name_the_flags(error: ToolkitError) -> None:
    """The library's hints name settings and parameters; here they name this command's flags."""
    from toolkit.cli._ray import ADDRESS_HINT
    from toolkit.preannotate.output import ANOTHER_OUTPUT, START_OVER
    from toolkit.preannotate.preannotation import PARQUET_NEEDS
    from toolkit.preannotate.readers import SKIP_SETTING
    from toolkit.preannotate.readers.inputs import URL_NEEDS

    if not error.hint:
        return
    hint = error.hint.replace(START_OVER, "pass --fresh to start the output over")
    hint = hint.replace(ANOTHER_OUTPUT, "choose another --out")
    hint = hint.replace(PARQUET_NEEDS, "pass --backend ray, or --format jsonl")
    hint = hint.replace(*ADDRESS_HINT)
    hint = hint.replace(URL_NEEDS, "pass --backend ray, whose workers read JSONL and Parquet from URLs")
    if SKIP_SETTING in hint:
        hint += " (or pass --on-error skip)"
    error.hint = hint


def _print_summary(
    written: int, stats: PreannotateStats, read_stats: ReadStats, phase: PhaseState, *, out: Path, config_path: Path
) -> None:
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
            f"Wrote {plural(written, 'article')} with {plural(stats.spans.kept, 'span')} to {out} "
            f"({stats.articles / phase.elapsed:,.1f} articles/s, {stats.words / phase.elapsed:,.0f} words/s)"
        )
    spans = stats.spans
    if spans.trimmed:
        console.print(f"  {plural(spans.trimmed, 'span')} trimmed of surrounding whitespace or punctuation")
    if spans.dropped_empty:
        console.print(f"  {plural(spans.dropped_empty, 'span')} dropped: nothing left after trimming")
    if spans.dropped_by_label:
        dropped = ", ".join(f"{label} {count}" for label, count in spans.dropped_by_label.most_common())
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
