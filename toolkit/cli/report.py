from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli
from toolkit.cli._terminal import json_text

if TYPE_CHECKING:
    from toolkit.report.build import Report, Scores


@app.command("report")
def report_cli(
    annotations: Annotated[
        Path,
        typer.Argument(
            help="Annotated articles written by `toolkit pull` (JSONL); its .ledger.jsonl is read too.", dir_okay=False
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (for scripts) instead of tables.")
    ] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Also write an HTML page with plots to this file.", dir_okay=False)
    ] = None,
) -> None:
    """What the humans corrected, and how much they agree: progress, model against human, agreement, annotators."""
    from toolkit.errors import InputError
    from toolkit.report.build import report

    config = load_config_for_cli(config_path)
    if not annotations.is_file():
        raise InputError(f"{annotations}: file not found", hint="write it with `toolkit pull --out FILE.jsonl`")
    result = report(annotations, config=config)
    if html is not None:
        from toolkit.report.html import write_html

        # Before printing: a page that cannot be written fails the command with nothing on stdout.
        write_html(result, html)
    if as_json:
        # Plain stdout, no rich wrapping: scripts parse it.
        typer.echo(json_text(result.model_dump(mode="json"), indent=2))
    else:
        print_report(result)
    if html is not None:
        (err_console if as_json else console).print(f"Wrote the HTML report to {html}")


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _not_enough(reason: str | None) -> None:
    from toolkit.report.build import NOT_ENOUGH_DATA

    console.print(f"  {NOT_ENOUGH_DATA.capitalize()}: {reason}.", style="yellow")


def print_report(report: Report) -> None:
    _print_progress(report)
    _print_model(report)
    _print_agreement(report)
    _print_annotators(report)


def _print_progress(report: Report) -> None:
    p = report.progress
    console.print(f"Report on {report.source}", style="bold")
    if report.tokenizer:
        console.print(f"  Tokens: {report.tokenizer}; spans aligned with Doc.char_span (expand mode).")
    console.rule("Progress")
    if p.tasks_total is None:
        console.print(f"  No pull ledger next to {report.source}: tasks nobody annotated or only skipped are unknown.")
    table = Table(show_header=True, header_style="bold")
    for column in ("tasks", "annotated", "not annotated", "only skipped", "skipped annotations", "drafts"):
        table.add_column(column, justify="right")
    unknown = "?"
    table.add_row(
        unknown if p.tasks_total is None else f"{p.tasks_total:,}",
        f"{p.annotated:,}",
        unknown if p.not_annotated is None else f"{p.not_annotated:,}",
        unknown if p.only_skipped is None else f"{p.only_skipped:,}",
        f"{p.skipped_annotations:,}",
        f"{p.drafts:,}",
    )
    console.print(table)
    if p.spans_dropped or p.spans_repaired:
        dropped = ", ".join(f"{reason} {count:,}" for reason, count in p.spans_dropped.items())
        console.print(
            f"  Pull left out {sum(p.spans_dropped.values()):,} human spans"
            + (f" ({dropped})" if dropped else "")
            + f" and kept {p.spans_repaired:,} after a fix (see {p.ledger}).",
            style="yellow",
        )
    if report.annotators:
        per = Table(title="per annotator", show_header=True, header_style="bold")
        per.add_column("annotator")
        for column in ("tasks submitted", "skipped", "drafts"):
            per.add_column(column, justify="right")
        for row in report.annotators:
            per.add_row(row.annotator, f"{row.tasks:,}", f"{row.skipped:,}", f"{row.drafts:,}")
        console.print(per)


def _scores_table(title: str, rows: list[Scores]) -> Table:
    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("label")
    for column in ("precision", "recall", "F1", "matched", "predicted", "human"):
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            row.label,
            _number(row.precision),
            _number(row.recall),
            _number(row.f1),
            str(row.true_positives),
            str(row.predicted),
            str(row.gold),
            style="bold" if row.label == "overall" else None,
        )
    return table


def _print_model(report: Report) -> None:
    m = report.model
    console.rule("Model against human")
    if m.status != "ok":
        _not_enough(m.reason)
        return
    console.print(
        f"  Pre-annotations of {', '.join(m.model_versions)} against the final human spans of {m.tasks:,} tasks"
        f" ({m.tasks_without_predictions:,} annotated tasks without predictions left out)."
    )
    console.print(_scores_table("entity level, seqeval strict mode, IOB2 scheme", m.strict_iob2))
    if m.tokens_lost:
        console.print(f"  {m.tokens_lost:,} spans overlap another and are not in the token tags.", style="yellow")
    console.print(_scores_table("exact span match (same start, end and label)", m.exact_span))
    edits = Table(title="edits: predicted span -> human span", show_header=True, header_style="bold")
    edits.add_column("edit")
    edits.add_column("count", justify="right")
    edits.add_column("examples")
    for kind, count in m.edits.items():
        shown = "\n".join(
            f"{example.before or '-'} -> {example.after or '-'} (task {example.task_id})"
            for example in m.examples.get(kind, [])
        )
        edits.add_row(kind, f"{count:,}", shown)
    console.print(edits)


def _print_agreement(report: Report) -> None:
    a = report.agreement
    console.rule("Agreement")
    if a.status != "ok":
        _not_enough(a.reason)
        return
    console.print(
        f"  {a.tasks:,} tasks submitted by several annotators ({a.annotators} annotators, {a.pairs} pairs, "
        f"{a.tokens:,} tokens). Span F1 pairwise on exact spans; Cohen's kappa on IOB2 token tags pooled over "
        f"pairs; Krippendorff's alpha (nominal) on the same tags."
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("label")
    for column in ("tasks", "pairs", "span F1", "Cohen's kappa", "Krippendorff's alpha"):
        table.add_column(column, justify="right")
    table.add_column("note")
    for row in a.per_label:
        table.add_row(
            row.label,
            str(row.tasks),
            str(row.pairs),
            _number(row.span_f1),
            _number(row.cohen_kappa),
            _number(row.krippendorff_alpha),
            row.reason or "",
            style="bold" if row.label == "overall" else None,
        )
    console.print(table)


def _print_annotators(report: Report) -> None:
    console.rule("Per annotator")
    if not report.annotators:
        _not_enough("no annotator in the input")
        return
    t = report.thresholds
    table = Table(show_header=True, header_style="bold")
    table.add_column("annotator")
    for column in ("tasks", "median lead time (s)", "predicted spans", "accepted unchanged", "share"):
        table.add_column(column, justify="right")
    table.add_column("flag")
    for row in report.annotators:
        table.add_row(
            row.annotator,
            f"{row.tasks:,}",
            _number(row.median_lead_time, 1),
            f"{row.predicted_spans:,}",
            f"{row.accepted_unchanged:,}",
            _percent(row.accepted_share),
            "FAST ACCEPT" if row.flagged else "",
            style="yellow" if row.flagged else None,
        )
    console.print(table)
    console.print(
        f"  Flagged: accepts >= {t.accept_share:.0%} of predicted spans unchanged with a median lead time <= "
        f"{t.fast_lead_time:g} s over >= {t.min_tasks} tasks (report.* in the config)."
    )
    for row in report.annotators:
        if row.flagged:
            console.print(f"  {row.annotator}: {row.flag_reason}", style="yellow")
