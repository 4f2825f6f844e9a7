from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural

if TYPE_CHECKING:
    from toolkit.config import Config
    from toolkit.dataset import ExportResult
    from toolkit.records import AnnotatedArticle

SHOWN_LOSSES = 20
SHOWN_CHANGES = 20
# The annotation report's page in each version folder (with --report).
REPORT_PAGE = "report.html"


@app.command("export")
def export_cli(
    annotations: Annotated[
        Path, typer.Argument(help="Annotated articles written by `toolkit pull` (JSONL).", dir_okay=False)
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Export root: each export adds a version folder OUT/vN and points OUT/LATEST at it.",
            file_okay=False,
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    include_predictions: Annotated[
        Path | None,
        typer.Option(
            "--include-predictions",
            help="Predicted articles (from `toolkit preannotate`): add model-only rows (source=model) "
            "for articles no human annotated.",
            dir_okay=False,
        ),
    ] = None,
    max_loss: Annotated[
        int | None,
        typer.Option(
            "--max-loss", min=0, help="Fail, writing nothing, when more than N spans are lost in the alignment."
        ),
    ] = None,
    push_to_hub: Annotated[
        str | None,
        typer.Option(
            "--push-to-hub",
            metavar="OWNER/NAME",
            help="Also upload the new version to this Hugging Face dataset repo (needs HF_TOKEN or `hf auth login`).",
        ),
    ] = None,
    public: Annotated[
        bool, typer.Option("--public", help="With --push-to-hub: create the repo public (default: private).")
    ] = False,
    with_report: Annotated[
        bool,
        typer.Option(
            "--report/--no-report",
            help="Put the annotation report (toolkit report) into the card and as report.html into the version folder.",
        ),
    ] = True,
) -> None:
    """Build a Hugging Face dataset (tokens, IOB2 ner_tags, spans), parquet, DocBin and CoNLL
    from annotated articles."""
    from toolkit.errors import InputError, OutputError

    config = load_config_for_cli(config_path)
    if not annotations.is_file():
        raise InputError(f"{annotations}: file not found", hint="write it with `toolkit pull --out FILE.jsonl`")
    if include_predictions is not None and not include_predictions.is_file():
        raise InputError(
            f"{include_predictions}: file not found", hint="write it with `toolkit preannotate --out FILE.jsonl`"
        )
    if public and push_to_hub is None:
        raise OutputError("--public goes with --push-to-hub")
    from toolkit.dataset import check_hub_repo

    if push_to_hub is not None:
        check_hub_repo(push_to_hub, name="--push-to-hub")
    from toolkit.nlp.pipeline import load_tokenizer

    # The report loads the tokenizer the same way: its tokens are the export's.
    tokenizer = load_tokenizer(config)
    result = _run_export(
        annotations,
        config=config,
        out=out,
        make_doc=tokenizer.make_doc,
        model={"name": tokenizer.model.name, "version": tokenizer.model.version},
        predictions=include_predictions,
        max_loss=max_loss,
        with_report=with_report,
    )
    _print_result(result, config=config, with_report=with_report, with_predictions=include_predictions is not None)
    if push_to_hub is not None and (result.unchanged or result.stats.articles):  # an empty version stays local
        from toolkit.dataset import push_to_hub as push

        url = push(result.path, push_to_hub, private=not public, name="--push-to-hub")
        console.print(f"Pushed {result.version} to {url}")


class ReportAttachment:
    """The annotation report (``toolkit report``) of the pull being exported, published with the version.

    Built from the articles the export checks (the pull is read once); ``finish`` writes
    ``report.html`` into the version folder and returns the report's card section. The
    builder is made on the first article (or at ``finish``), so an export that writes
    nothing (the inputs are those of the latest version) reads no ledger for it.
    """

    def __init__(self, annotations: Path, *, config: Config, make_doc: Callable[[str], Any]) -> None:
        self.annotations, self.config, self.make_doc = annotations, config, make_doc
        self.builder: Any = None

    def _builder(self) -> Any:
        if self.builder is None:
            from toolkit.report import report_builder

            self.builder = report_builder(
                self.annotations, config=self.config, make_doc=self.make_doc, tokenizer="the export's tokenizer"
            )
        return self.builder

    def add(self, article: AnnotatedArticle) -> None:
        self._builder().add(article)

    def finish(self, folder: Path) -> str:
        from toolkit.report import report_markdown, write_html

        result = self._builder().finish()
        write_html(result, folder / REPORT_PAGE)
        return report_markdown(result)


def _run_export(
    annotations: Path, *, config: Config, make_doc: Callable[[str], Any], with_report: bool, **options: Any
) -> ExportResult:
    """``toolkit.dataset.exporting.export`` with the progress drawn on stderr and the errors in the CLI's words."""
    from rich.progress import BarColumn, SpinnerColumn, TextColumn, TimeElapsedColumn

    from toolkit.cli._progress import PhaseState, progress_display
    from toolkit.dataset import export
    from toolkit.errors import LossOverLimitError, OutputError

    def describe(state: PhaseState) -> str:
        if state.phase == "check":
            return f"Checking the inputs: {state.done:,} records"
        splits = ", ".join(f"{name} {state.amounts[name]:,}" for name in config.export.splits)
        return f"Exporting: {state.done:,} of {state.total or 0:,} rows ({splits})"

    attachment = ReportAttachment(annotations, config=config, make_doc=make_doc) if with_report else None
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    try:
        with progress_display(*columns, describe=describe) as on_progress:
            return export(
                annotations, config=config, make_doc=make_doc, attachment=attachment, on_progress=on_progress, **options
            )
    except LossOverLimitError as error:
        error.name_limit("--max-loss")
        raise
    except OutputError as error:
        if error.hint and "another export root" in error.hint:
            error.hint += " (--out)"
        raise


def _print_result(result: ExportResult, *, config: Config, with_report: bool, with_predictions: bool) -> None:
    stats = result.stats
    if result.unchanged:
        counts = result.manifest.get("counts", {})
        console.print(
            f"Nothing changed since {result.version} (same pull, ledger, config and toolkit version): "
            f"no new version; {result.root / 'LATEST'} stays {result.version} ({plural(counts.get('rows', 0), 'row')})"
        )
        console.print(f"Load it with: datasets.load_from_disk({str(result.path)!r})")
        return
    if stats.articles == 0:
        console.print(
            f"Nothing annotated yet: wrote an empty dataset (every column, no rows) to {result.path}",
        )
        console.print(f"  {result.root / 'LATEST'} -> {result.version}; card {result.path / 'README.md'}")
        console.print(
            f"  datasets.load_from_disk({str(result.path)!r}) reads it; datasets.load_dataset cannot yet "
            "(a version without rows has no parquet files)"
        )
        console.print("Next: annotate in Label Studio, then pull and export again (`make run` does both)")
        return
    splits = ", ".join(f"{name} {stats.rows_per_split.get(name, 0):,}" for name in config.export.splits)
    source = f" + {stats.model_rows:,} model-only" if with_predictions else ""
    console.print(
        f"Wrote {plural(stats.articles, 'article')} ({stats.human_rows:,} human{source}) to {result.path} ({splits})"
    )
    console.print(
        f"  {plural(stats.spans, 'span')}: {stats.aligned_strict:,} on token boundaries, "
        f"{stats.aligned_non_strict:,} snapped ({config.export.alignment_fallback}), {len(stats.lost):,} lost"
    )
    for lost in stats.lost[:SHOWN_LOSSES]:
        console.print(f"    lost: {lost.line()}", style="yellow")
    if len(stats.lost) > SHOWN_LOSSES:
        console.print(f"    ... and {len(stats.lost) - SHOWN_LOSSES:,} more in {result.path / 'loss_report.jsonl'}")
    console.print(f"  {result.root / 'LATEST'} -> {result.version}; card {result.path / 'README.md'}")
    if with_report:
        console.print(f"  annotation report: {result.path / REPORT_PAGE}")
    console.print(f"Load it with: datasets.load_from_disk({str(result.path)!r})")


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
    from toolkit.dataset import diff_as_json, diff_exports

    diff = diff_exports(old, new)
    if as_json:
        from toolkit.render.terminal import json_text

        console.print(json_text(diff_as_json(diff), indent=2))
        return
    if diff.schema is not None:
        # First: with other ner_tags ids, the same article reads differently in the two versions.
        console.print("Schema changed:", style="bold yellow")
        for line in diff.schema.lines():
            console.print(f"  {line}", style="yellow")
        console.print("  (rows below are compared by tag names, not ids)")
    console.print(f"{diff.old} -> {diff.new}")
    console.print(
        f"  articles: {len(diff.added):,} added, {len(diff.removed):,} removed, "
        f"{len(diff.changed):,} changed, {diff.unchanged:,} unchanged"
    )
    console.print(f"  spans in changed articles: {diff.spans_added:,} added, {diff.spans_removed:,} removed")
    for article_id in diff.added[:SHOWN_CHANGES]:
        console.print(f"    + {article_id}", style="green")
    for article_id in diff.removed[:SHOWN_CHANGES]:
        console.print(f"    - {article_id}", style="red")
    for change in diff.changed[:SHOWN_CHANGES]:
        parts = [f"+{s}-{e} {label}" for s, e, label in change.added] + [
            f"-{s}-{e} {label}" for s, e, label in change.removed
        ]
        if change.text_changed:
            parts.append("text changed")
        if change.tags_changed:
            parts.append("tokens or ner_tags changed")
        if change.split:
            parts.append(f"split {change.split[0]} -> {change.split[1]}")
        console.print(f"    ~ {change.article_id}: {', '.join(parts)}")
    hidden = (
        max(0, len(diff.added) - SHOWN_CHANGES)
        + max(0, len(diff.removed) - SHOWN_CHANGES)
        + max(0, len(diff.changed) - SHOWN_CHANGES)
    )
    if hidden:
        console.print(f"    ... and {hidden:,} more (--json lists them all)")
