from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli, plural
from toolkit.cli._progress import PhaseState, progress_display
from toolkit.render.terminal import json_text

SHOWN_PROBLEMS = 20


def _describe(state: PhaseState) -> str:
    if state.phase == "download":
        return f"Downloading the export: {state.done / 1e6:,.1f} MB"
    return f"Reading tasks: {state.done:,}"


@app.command("pull")
def pull_cli(
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            "-o",
            help="Where to write the annotated articles (JSONL); the ledger goes next to it.",
            dir_okay=False,
        ),
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the totals as one JSON object (for scripts) instead of text.")
    ] = False,
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the previous pull's state (no new/changed/deleted report).")
    ] = False,
    from_raw: Annotated[
        Path | None,
        typer.Option(
            "--from-raw",
            help="Re-derive the output from a kept raw pull (.json.gz) without the server.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Export the project and write one record per human-annotated article, plus a ledger of everything left out."""
    from toolkit.pull import pull
    from toolkit.pull.summary import since_line, span_line

    config = load_config_for_cli(config_path)
    settings = None
    if from_raw is None:
        from toolkit.labelstudio.client import resolve_server

        settings = resolve_server()
    show = err_console if as_json else console
    if settings is not None:
        show.print(f"Label Studio: {settings.public_url} ({settings.origin})")
    with progress_display(TextColumn("{task.description}"), describe=_describe, show_from_start=False) as on_progress:
        summary = pull(config=config, settings=settings, out=out, full=full, from_raw=from_raw, on_progress=on_progress)
    if as_json:
        typer.echo(json_text(summary.as_dict()))
        return
    counts = summary.counts
    per_annotator = " (one per annotator)" if summary.policy == "all" else ""
    console.print(
        f"Wrote {plural(counts.records, 'annotated article')}{per_annotator} with {plural(counts.spans_out, 'span')} "
        f"to {out} (policy {summary.policy})"
    )
    if summary.mode == "incremental":
        console.print(f"  {since_line(summary)}")
    all_dropped = (
        f"; {counts.all_spans_dropped:,} whose every span was dropped, in the ledger"
        if counts.all_spans_dropped
        else ""
    )
    console.print(
        f"  tasks: {counts.tasks:,} exported, {counts.tasks_with_records:,} with human annotations, "
        f"{counts.not_annotated:,} not annotated, {counts.only_skipped:,} only skipped, {counts.no_text:,} without text"
    )
    console.print(
        f"  annotations: {counts.annotations:,} submitted "
        f"({counts.empty_annotations:,} with no spans, kept{all_dropped}), "
        f"{counts.skipped_annotations:,} skipped, {plural(counts.drafts, 'draft')} (not used), "
        f"{counts.not_chosen_annotations:,} not chosen by the policy"
    )
    console.print(f"  {span_line(counts)}")
    for title, counter, style in (
        ("dropped", counts.spans_dropped, "yellow"),
        ("repaired", counts.spans_repaired, None),
    ):
        if counter:
            console.print(
                f"  spans {title}: " + ", ".join(f"{reason} {n:,}" for reason, n in counter.most_common()), style=style
            )
    if counts.agreed or counts.adjudicated or counts.disputed:
        console.print(
            f"  several annotators: {counts.agreed:,} agreed, {counts.adjudicated:,} adjudicated (the decision is the "
            f"answer, whatever the policy), {counts.disputed:,} still disputed (the policy decides; "
            "`toolkit adjudicate` sends them for review)"
        )
    if counts.changed_after_adjudication:
        changed = counts.changed_after_adjudication
        shown = ", ".join(changed[:SHOWN_PROBLEMS]) + (
            f" and {len(changed) - SHOWN_PROBLEMS:,} more" if len(changed) > SHOWN_PROBLEMS else ""
        )
        console.print(
            f"  {plural(len(changed), 'adjudicated article')} changed by an annotator after adjudication "
            f"(the decision stands, decision.stale): {shown}",
            style="yellow",
        )
    if counts.adjudications_not_chosen:
        console.print(
            f"  {plural(counts.adjudications_not_chosen, 'earlier review decision')}: a review task's newest "
            "submitted decision is taken, the others are not (in the ledger)",
            style="yellow",
        )
    if counts.adjudications_without_annotations:
        console.print(
            f"  {plural(counts.adjudications_without_annotations, 'adjudication')} on a task with no submitted "
            "annotation left: no record (in the ledger)",
            style="yellow",
        )
    if counts.adjudications_text_changed:
        console.print(
            f"  {plural(counts.adjudications_text_changed, 'adjudication')} made on another text than the task's now: "
            "not taken (in the ledger)",
            style="yellow",
        )
    if counts.texts_changed:
        console.print(
            f"  {plural(counts.texts_changed, 'task')} with the text edited in Label Studio after the push: "
            "spans re-anchored where they fit",
            style="yellow",
        )
    predicted_repaired, predicted_dropped = counts.prediction_spans_repaired, counts.prediction_spans_dropped
    if predicted_repaired or predicted_dropped:
        reasons = "".join(
            f"; {title}: " + ", ".join(f"{reason} {n:,}" for reason, n in counter.most_common())
            for title, counter in (("dropped", predicted_dropped), ("re-anchored", predicted_repaired))
            if counter
        )
        console.print(
            f"  predicted spans: {sum(predicted_repaired.values()):,} re-anchored, "
            f"{sum(predicted_dropped.values()):,} dropped (in the ledger){reasons}",
            style="yellow",
        )
    if counts.other_control_spans:
        console.print(
            "  spans of other controls than the article text's (not used, in the ledger): "
            + ", ".join(f"{name} {n:,}" for name, n in counts.other_control_spans.most_common()),
            style="yellow",
        )
    for line in counts.problems[:SHOWN_PROBLEMS]:
        console.print(f"    {line}")
    if len(counts.problems) > SHOWN_PROBLEMS:
        console.print(f"    ... and {len(counts.problems) - SHOWN_PROBLEMS:,} more (all in the ledger)")
    console.print(
        f"  ledger: {plural(summary.ledger_entries, 'entry')} in {summary.ledger}".replace("entrys", "entries")
    )
    if summary.raw is not None:
        sha256 = summary.sha256[:12] if summary.sha256 else "?"
        console.print(f"  raw pull kept: {summary.raw} (sha256 {sha256}..., manifest next to it)")
    if summary.note:
        console.print(f"  note: {summary.note}", style="yellow")
    for warning in summary.warnings[:SHOWN_PROBLEMS]:
        console.print(f"  warning: {warning}", style="yellow")
    if len(summary.warnings) > SHOWN_PROBLEMS:
        console.print(f"  ... and {len(summary.warnings) - SHOWN_PROBLEMS:,} more warnings (in --json)", style="yellow")
    console.print(f"Next: toolkit export {out} --config {config_path} --out exports/{config.export.name}")
