from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import TextColumn

from toolkit.cli._app import DEFAULT_CONFIG, ConfigOpt, app, console, err_console, load_config_for_cli, plural
from toolkit.cli._progress import PhaseState, progress_display
from toolkit.render.terminal import json_text

SHOWN = 20


def _describe(state: PhaseState) -> str:
    if state.phase == "download":
        return f"Downloading the export: {state.done / 1e6:,.1f} MB"
    return f"Sending review tasks: {state.done:,}" + (f" of {state.total:,}" if state.total else "")


@app.command("adjudicate")
def adjudicate_cli(
    config_path: ConfigOpt = DEFAULT_CONFIG,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print how many articles agree, disagree (by kind) and would be sent; write nothing."
        ),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the totals as one JSON object (for scripts) instead of text.")
    ] = False,
) -> None:
    """Send the articles annotators disagree on to a review project in Label Studio, each once.

    Articles where every annotator agrees are auto-accepted; one-annotator articles are
    left out. Safe to run again: only new disputes are sent, and review tasks whose
    versions changed before they were adjudicated are refreshed.
    """
    from toolkit.adjudicate import adjudicate
    from toolkit.annotations.disagreement import KINDS
    from toolkit.labelstudio.client import resolve_server

    config = load_config_for_cli(config_path)
    settings = resolve_server()
    show = err_console if as_json else console
    show.print(f"Label Studio: {settings.public_url} ({settings.origin})")
    with progress_display(TextColumn("{task.description}"), describe=_describe, show_from_start=False) as on_progress:
        result = adjudicate(config=config, settings=settings, dry_run=dry_run, on_progress=on_progress)
    if result.review_note:
        err_console.print(f"Note: {result.review_note}", style="yellow")
    if result.other_secret:
        err_console.print(
            f"The anonymous ids in {plural(len(result.other_secret), 'review task')} were made with another "
            f"annotator secret (key {', '.join(result.other_ids_keys)}; this run's {result.ids_key}): not compared "
            "with the annotators' versions now; run with the secret that made them (set TOOLKIT_ANNOTATOR_SECRET "
            "to the team's, or use the pull.secret_file of the machine that sent them)",
            style="yellow",
        )
    if result.shared_article_ids:
        shared = list(result.shared_article_ids.items())
        more = len(shared) - SHOWN
        err_console.print(
            f"{plural(len(shared), 'article id')} on several tasks: "
            + ", ".join(
                f"{article_id!r} on {len(tasks)} tasks ({', '.join(map(str, tasks))})"
                for article_id, tasks in shared[:SHOWN]
            )
            + (f" and {more:,} more" if more > 0 else "")
            + "; a dispute on each goes to its own review task, but export refuses two records with one id: "
            "give each task its own data.article_id in Label Studio",
            style="yellow",
        )
    if as_json:
        typer.echo(json_text(result.as_dict()))
        return
    kinds = ", ".join(f"{kind} {result.kinds.get(kind, 0):,}" for kind in KINDS)
    empty = f'; {result.empty_vs_spans:,} of them "no entities" against spans' if result.empty_vs_spans else ""
    console.print(
        f"{plural(result.articles, 'annotated article')}: {result.agreed:,} agree (auto-accepted), "
        f"{result.disputed:,} disagree, {result.single:,} with one annotator (left out)"
    )
    if result.disputed:
        console.print(f"  disagreements by kind (an article may have several): {kinds}{empty}")
    review = f"review project {result.review_title!r}" + (
        f" (id {result.review_project_id})" if result.review_project_id else ""
    )
    if dry_run:
        console.print(
            f"Dry run: would send {plural(len(result.to_send), 'new review task')} to {review}"
            + (" (to be created)" if result.review_project_id is None and result.to_send else "")
            + f", refresh {len(result.to_refresh):,}; {plural(result.already, 'dispute')} "
            f"{'has' if result.already == 1 else 'have'} a review task "
            f"({result.adjudicated:,} adjudicated, {result.pending:,} pending); nothing written"
        )
    elif result.review_project_id is None:
        console.print("Nothing to adjudicate: no review project created")
    else:
        created = " (created)" if result.review_created else ""
        console.print(
            f"Sent {plural(result.sent, 'new review task')} to {review}{created}, refreshed {result.refreshed:,}; "
            f"{result.adjudicated:,} adjudicated, {result.pending + result.sent:,} pending"
        )
        if result.copies_removed:
            console.print(
                f"  removed {plural(result.copies_removed, 'duplicate review task')} (sent twice: by an interrupted "
                "run, or by two runs at the same moment)"
            )
        if result.copies_of_this_run:
            console.print(
                f"  {plural(result.copies_of_this_run, 'review task')} this run sent another run had sent too: "
                "removed as copies, not counted as sent"
            )
        console.print(f"  adjudicate at {result.review_url}")
    _listed(
        "changed by an annotator after adjudication (the decision stands; re-adjudicate by deleting "
        "the review task's annotation)",
        result.changed_after,
    )
    _listed("with another text in the main project than in its review task (not refreshed)", result.text_changed)
    _listed("with a review task, but every annotator agrees now", result.no_longer_disputed)


def _listed(what: str, article_ids: list[str]) -> None:
    if not article_ids:
        return
    more = len(article_ids) - SHOWN
    shown = ", ".join(article_ids[:SHOWN]) + (f" and {more:,} more" if more > 0 else "")
    err_console.print(f"{plural(len(article_ids), 'article')} {what}: {shown}", style="yellow")
