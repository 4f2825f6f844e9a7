from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli
from toolkit.render.terminal import json_text

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.dataset import ExportResult


AnnotationsArg = Annotated[
    Path, typer.Argument(help="Annotated articles written by `toolkit pull` (JSONL).", dir_okay=False)
]
OutOpt = Annotated[
    Path,
    typer.Option(
        "--out",
        "-o",
        help="Export root: each export adds a version folder OUT/vN and points OUT/LATEST at it.",
        file_okay=False,
    ),
]
IncludePredictionsOpt = Annotated[
    Path | None,
    typer.Option(
        "--include-predictions",
        help="Predicted articles (from `toolkit preannotate`): add model-only rows (source=model) "
        "for articles no human annotated.",
        dir_okay=False,
    ),
]
MaxLossOpt = Annotated[
    int | None,
    typer.Option("--max-loss", min=0, help="Fail, writing nothing, when more than N spans are lost in the alignment."),
]
PushToHubOpt = Annotated[
    str | None,
    typer.Option(
        "--push-to-hub",
        metavar="OWNER/NAME",
        help="Also upload the new version to this Hugging Face dataset repo (needs HF_TOKEN or `hf auth login`).",
    ),
]
PublicOpt = Annotated[
    bool, typer.Option("--public", help="With --push-to-hub: create the repo public (default: private).")
]
ReportOpt = Annotated[
    bool,
    typer.Option(
        "--report/--no-report",
        help="Put the annotation report (toolkit report) into the card and as report.html into the version folder.",
    ),
]


@app.command("export")
def export_cli(
    annotations: AnnotationsArg,
    out: OutOpt,
    config_path: ConfigOpt = DEFAULT_CONFIG,
    include_predictions: IncludePredictionsOpt = None,
    max_loss: MaxLossOpt = None,
    push_to_hub: PushToHubOpt = None,
    public: PublicOpt = False,
    with_report: ReportOpt = True,
) -> None:
    """Build a Hugging Face dataset (tokens, IOB2 ner_tags, spans), parquet, DocBin and CoNLL
    from annotated articles."""
    from toolkit.dataset import check_hub_repo, view
    from toolkit.errors import OutputError
    from toolkit.render.console import print_sections

    config = load_config_for_cli(config_path)
    if public and push_to_hub is None:
        raise OutputError("--public goes with --push-to-hub")
    if push_to_hub is not None:
        check_hub_repo(push_to_hub, name="--push-to-hub")
    result = _run_export(
        annotations, config=config, out=out, predictions=include_predictions, max_loss=max_loss, with_report=with_report
    )
    print_sections(console, [view.exported(result)], rules=False)
    if push_to_hub is not None and result.pushable:
        from toolkit.dataset import push_to_hub as push

        url = push(result.path, push_to_hub, private=not public, name="--push-to-hub")
        print_sections(console, [view.pushed(result, url)], rules=False)


def _run_export(annotations: Path, *, config: Config, **options: Any) -> ExportResult:
    """``toolkit.compose.export_with_report`` with the progress drawn on stderr and the errors in the CLI's words."""
    from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    from toolkit.compose import export_with_report
    from toolkit.errors import LossOverLimitError
    from toolkit.render.progress import PhaseState, progress_display

    def describe(state: PhaseState) -> str:
        if state.phase == "check":
            return f"Checking the inputs: {state.done:,} records"
        splits = ", ".join(f"{name} {state.amounts[name]:,}" for name in config.export.splits)
        return f"Exporting: {state.done:,} of {state.total or 0:,} rows ({splits})"

    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with progress_display(*columns, describe=describe) as on_progress:
            return export_with_report(annotations, config=config, on_progress=on_progress, **options)
    except LossOverLimitError as error:
        error.name_limit("--max-loss")
        raise


@app.command("export-diff")
def export_diff_cli(
    old: Annotated[
        Path, typer.Argument(help="Older export version folder (or an export root: its LATEST).", file_okay=False)
    ],
    new: Annotated[
        Path, typer.Argument(help="Newer export version folder (or an export root: its LATEST).", file_okay=False)
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole difference as JSON.")] = False,
) -> None:
    """Show what changed between two export versions: the schema (labels, ner_tags ids) first,
    then articles added or removed, spans changed."""
    from toolkit.dataset import diff_exports, view
    from toolkit.render.console import print_sections

    diff = diff_exports(old, new)
    if as_json:
        typer.echo(json_text(diff.to_json(), indent=2))
    else:
        print_sections(console, view.difference(diff), rules=False)
