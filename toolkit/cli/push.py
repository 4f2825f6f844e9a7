from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, load_config_for_cli, plural
from toolkit.cli._progress import progress_display


@app.command("push")
def push_cli(
    predictions: Annotated[
        Path, typer.Argument(help="Predictions written by `toolkit preannotate` (JSONL, or a Parquet folder).")
    ],
    config_path: ConfigOpt = DEFAULT_CONFIG,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Print what a push would do (new tasks, new prediction sets, unchanged) and write nothing.",
        ),
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option(
            "--batch-size", min=1, max=10_000, help="Tasks per import request (default: push.batch_size in the config)."
        ),
    ] = None,
    replace_labeling_config: Annotated[
        bool,
        typer.Option(
            "--replace-labeling-config",
            help="Replace the project's labeling config even when it has controls push did not create "
            "(edited in Label Studio); they are dropped. Default: push.replace_labeling_config.",
        ),
    ] = False,
) -> None:
    """Import new articles as tasks with predictions, and new model versions as prediction sets.

    Safe to run again, also after an interrupted push: only what the project does not
    hold yet is sent.
    """
    from toolkit.errors import ProjectError
    from toolkit.io.predictions import read_predictions
    from toolkit.labelstudio.client import resolve_server
    from toolkit.push import push
    from toolkit.push.plan import keeps_edited_config, version_kept_lines

    config = load_config_for_cli(config_path)
    if batch_size is not None:
        config = config.model_copy(update={"push": config.push.model_copy(update={"batch_size": batch_size})})
    if replace_labeling_config:
        config = config.model_copy(update={"push": config.push.model_copy(update={"replace_labeling_config": True})})
    articles = list(read_predictions(predictions))  # fail on a bad record before any import
    settings = resolve_server()
    console.print(f"Label Studio: {settings.public_url} ({settings.origin})")
    if dry_run:
        result = push(articles, config=config, settings=settings, dry_run=True, source=str(predictions))
        _print_plan(result.plan)
        _print_duplicates(result)
        return
    progress = progress_display(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        describe=lambda state: f"Importing {state.phase}",
        show_from_start=False,  # drawn from the first batch on
    )
    try:
        with progress as on_progress:
            result = push(articles, config=config, settings=settings, on_progress=on_progress, source=str(predictions))
    except ProjectError as error:
        if error.hint and "push.replace_labeling_config" in error.hint:
            error.hint += " (or pass --replace-labeling-config once)"
        raise
    plan = result.plan
    state = "created" if result.project_created else "found"
    console.print(f"Project {config.project.title!r} {state}: {result.project_url}")
    if result.spare_project_id is not None:
        from toolkit.labelstudio.project import spare_title

        console.print(
            f"  another push created it at the same moment: this push's own project {result.spare_project_id} "
            f"is empty, renamed {spare_title(config.project.title, result.project_id)!r}; delete it in Label Studio",
            style="yellow",
        )
    if result.labeling_config_updated:
        console.print(f"  labeling config updated: {_label_changes(plan)}")
    elif keeps_edited_config(plan):
        console.print(f"  labeling config: {_kept_edit(plan)}", style="yellow")
    console.print(
        f"  {plural(result.tasks_created, 'new task')}, "
        f"{plural(plan.articles - result.tasks_created - len(plan.text_changed), 'article')} already in the project"
    )
    console.print(f"  {plural(result.predictions_created, 'new prediction set')} on existing tasks")
    if plan.annotated_kept:
        console.print(
            f"  {plural(len(plan.annotated_kept), 'annotated task')} kept as they are: no new prediction set on tasks "
            "a human annotated, skipped or started"
        )
    _print_text_changed(plan)
    if result.duplicates_removed:
        console.print(
            f"  removed {plural(result.duplicate_tasks_removed, 'duplicate task')} and "
            f"{plural(result.duplicate_predictions_removed, 'duplicate prediction set')} "
            "(copies from an interrupted or a concurrent push)"
        )
    if result.tasks_removed_as_copies:
        console.print(
            f"  {plural(result.tasks_removed_as_copies, 'task')} this push imported duplicated those another push "
            "imported at the same moment, and were removed"
        )
    if plan.kept_duplicates:
        console.print(
            f"  {plural(len(plan.kept_duplicates), 'article')} have more than one annotated task (kept): "
            + ", ".join(plan.kept_duplicates[:5]),
            style="yellow",
        )
    if result.model_version_set:
        console.print(f"  project model_version set to {plan.model_version!r}: annotators see these predictions")
    elif plan.version_kept:
        for line in version_kept_lines(plan):
            console.print(f"  {line}", style="yellow")
    elif plan.model_version is None and plan.articles:
        console.print(
            "  the file holds several model versions: the project's model_version "
            f"({plan.current_model_version!r}) was left alone",
            style="yellow",
        )
    _print_stream(result, config)
    console.print(f"Next: annotate in Label Studio, then `toolkit pull --config {config_path} --out FILE.jsonl`")


def _label_changes(plan) -> str:
    parts = []
    if plan.labels_added:
        parts.append("added " + ", ".join(plan.labels_added))
    if plan.labels_removed:
        parts.append("removed " + ", ".join(plan.labels_removed))
    if plan.controls_removed:
        parts.append("removed " + ", ".join(plan.controls_removed) + " (not created by push)")
    return "; ".join(parts) or "colours, hotkeys or layout changed"


def _kept_edit(plan) -> str:
    return (
        f"edited in Label Studio, left as it is: it has {', '.join(plan.controls_removed)}, which push did not "
        "create and replacing it would remove (push.replace_labeling_config: true, or --replace-labeling-config, "
        "replaces it)"
    )


def _print_plan(plan) -> None:
    """The dry-run plan: what a push would write, nothing written."""
    from toolkit.push.plan import keeps_edited_config, version_kept_lines

    where = f"project {plan.project_id}" if plan.project_id is not None else "a new project (would be created)"
    console.print(f"Dry run for {plan.project_title!r}, {where}: nothing written")
    new_sets = plan.new_prediction_sets
    by_version: dict[str, int] = {}
    for versions in plan.new_tasks:
        for version in versions:
            by_version[version.model.model_version] = by_version.get(version.model.model_version, 0) + 1
    for _, version in plan.new_predictions:
        by_version[version.model.model_version] = by_version.get(version.model.model_version, 0) + 1
    console.print(f"  new tasks:           {len(plan.new_tasks):,}")
    console.print(f"  new prediction sets: {new_sets:,} ({len(plan.new_predictions):,} on existing tasks)")
    for version, count in sorted(by_version.items()):
        console.print(f"    {version}: {count:,}")
    console.print(f"  unchanged:           {plan.unchanged:,}")
    if plan.annotated_kept:
        console.print(f"  annotated, kept as they are (no new prediction set): {len(plan.annotated_kept):,}")
    _print_text_changed(plan)
    if plan.duplicate_tasks or plan.duplicate_predictions:
        console.print(
            "  copies left by an interrupted or a concurrent push, to remove: "
            f"{plural(len(plan.duplicate_tasks), 'task')}, "
            f"{plural(len(plan.duplicate_predictions), 'prediction set')}"
        )
    if keeps_edited_config(plan):
        console.print(f"  labeling config: {_kept_edit(plan)}", style="yellow")
    elif plan.controls_removed and not plan.replace_labeling_config:
        console.print(
            f"  labeling config: `labels` adds {', '.join(plan.labels_added)}, but replacing the config would remove "
            f"{', '.join(plan.controls_removed)} (not created by push): the push would stop (set "
            "push.replace_labeling_config: true, or pass --replace-labeling-config)",
            style="yellow",
        )
    elif plan.labeling_config_changes:
        console.print(f"  labeling config: would be replaced: {_label_changes(plan)}")
    if plan.model_version is not None and plan.model_version != plan.current_model_version:
        console.print(f"  project model_version: {plan.current_model_version!r} -> {plan.model_version!r}")
    for line in version_kept_lines(plan):
        console.print(f"  {line}", style="yellow")


def _print_text_changed(plan) -> None:
    if not plan.text_changed:
        return
    shown = ", ".join(repr(article_id) for article_id in plan.text_changed[:5])
    more = ", ..." if len(plan.text_changed) > 5 else ""
    console.print(
        f"  {plural(len(plan.text_changed), 'article')} skipped: the task's text was edited in Label Studio, "
        f"so its spans would not fit ({shown}{more}); give changed articles new ids, or delete their tasks",
        style="yellow",
    )


def _print_duplicates(result) -> None:
    if result.near_duplicate_groups:
        copies = f"{result.near_duplicate_copies:,} {'copy' if result.near_duplicate_copies == 1 else 'copies'}"
        console.print(
            f"  near-duplicates: {plural(result.near_duplicate_groups, 'group')} holding {copies} "
            "(served after every group's first article; kept in one split by export)"
        )


def _print_stream(result, config) -> None:
    _print_duplicates(result)
    order = {
        "uncertainty": "the lowest task score first",
        "sequential": "in task order",
        "random": "at random",
    }[config.push.order]
    change = " (set now)" if result.stream_order_set else ""
    console.print(f"  Label All Tasks serves {order}{change}: push.order is {config.push.order!r}")
    if result.tab_added:
        console.print("  data manager tab 'Most uncertain first' added (prediction score column shown)")
