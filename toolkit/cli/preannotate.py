"""``toolkit preannotate``: articles in, one JSON record per article out, resumable."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli
from toolkit.cli._ray import AddressOpt, WorkersOpt
from toolkit.render import number

if TYPE_CHECKING:
    from toolkit.render import Section
    from toolkit.render.progress import PhaseState


class OnError(str, Enum):
    fail = "fail"
    skip = "skip"


class BackendName(str, Enum):
    local = "local"
    ray = "ray"


class OutputFormat(str, Enum):
    jsonl = "jsonl"
    parquet = "parquet"


InputsArg = Annotated[
    list[str],
    typer.Argument(
        help="Article files (.txt, .jsonl, .json, .csv, .parquet), saved Hugging Face datasets, "
        "folders (read recursively) or quoted glob patterns; with --backend ray also URLs "
        "(s3://..., file://...) of JSONL and Parquet files or folders.",
    ),
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Where to write the predictions: a JSONL file, or a folder with --format parquet. "
        "A rerun skips the articles already in it.",
    ),
]
OnErrorOpt = Annotated[
    OnError | None,
    typer.Option(
        "--on-error",
        help="Bad input: fail (stop before writing anything) or skip (go on, count what was skipped). "
        "Default: input.on_error.",
    ),
]
NProcessOpt = Annotated[
    int | None, typer.Option("--n-process", min=1, help="Worker processes for nlp.pipe. Default: spacy.n_process.")
]
BatchSizeOpt = Annotated[
    int | None, typer.Option("--batch-size", min=1, help="Texts per nlp.pipe batch. Default: spacy.batch_size.")
]
ScoresOpt = Annotated[
    bool | None,
    typer.Option("--scores/--no-scores", help="Confidence scores from beam search (slower). Default: spacy.scores."),
]
FreshOpt = Annotated[bool, typer.Option("--fresh", help="Start the output over instead of resuming it.")]
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        help="A model folder (from `toolkit train`) to pre-annotate with, in place of spacy.model.",
        file_okay=False,
    ),
]
BackendOpt = Annotated[
    BackendName | None,
    typer.Option("--backend", help="local (this machine) or ray (a Ray cluster). Default: spacy.backend."),
]
FormatOpt = Annotated[
    OutputFormat,
    typer.Option("--format", help="jsonl (one file) or parquet (a folder of parts written by Ray's workers)."),
]


@app.command("preannotate")
def preannotate_cli(
    ctx: typer.Context,
    inputs: InputsArg,
    out: OutOpt,
    config_path: ConfigOpt = DEFAULT_CONFIG,
    on_error: OnErrorOpt = None,
    n_process: NProcessOpt = None,
    batch_size: BatchSizeOpt = None,
    scores: ScoresOpt = None,
    fresh: FreshOpt = False,
    model: ModelOpt = None,
    backend: BackendOpt = None,
    address: AddressOpt = None,
    workers: WorkersOpt = None,
    output_format: FormatOpt = OutputFormat.jsonl,
) -> None:
    """Run the spaCy pipeline over articles and write one JSON record per article."""
    from toolkit.preannotate import view
    from toolkit.preannotate.job import preannotation_job
    from toolkit.render.progress import progress_display

    job = ctx.with_resource(
        preannotation_job(
            inputs, out=out, config=load_config_for_cli(config_path), model=model, scores=scores,
            backend=backend.value if backend else None, address=address, workers=workers, n_process=n_process,
            batch_size=batch_size, on_error=on_error.value if on_error else None, fresh=fresh,
            output_format=output_format.value, on_cluster=lambda cluster: _say(view.cluster(cluster)),
        )
    )  # fmt: skip
    _say(view.model(job))
    outcome = job.run(display=lambda: progress_display(*_COLUMNS, describe=_rates))
    if outcome.result is not None:  # run here (or in the child that ran it on Ray)
        _say(view.summary(outcome.result, config_path=config_path))
    if outcome.code:
        raise typer.Exit(outcome.code)


# The phase starts when the scan of the inputs is done: the rates count the model's time.
_COLUMNS = (
    TextColumn("Pre-annotating"),
    BarColumn(),
    MofNCompleteColumn(),
    TextColumn("{task.description}"),
    TimeElapsedColumn(),
    TextColumn("eta"),
    TimeRemainingColumn(),
)


def _say(section: Section) -> None:
    from toolkit.render.console import print_sections

    print_sections(console, [section], rules=False)


def _rates(state: PhaseState) -> str:
    if not state.done:  # the first event only says how many articles there are
        return ""
    return f"{number(state.rate(), 1)} articles/s, {number(state.rate('words'), 0)} words/s"
