"""Push's view: a ``PushResult`` as a render ``Document`` (``toolkit.render``).

What ``toolkit push`` says: the server it talks to, then what the push did (or, with
``--dry-run``, what it would do) and the next command. Lines under the first are indented
by two spaces, as on the terminal; a note (yellow there) is something a human may need to act on.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from toolkit.push.plan import keeps_edited_config
from toolkit.render import Code, Data, Document, Line, Section, count, plural

if TYPE_CHECKING:
    from toolkit.labelstudio.overlap import Overlap
    from toolkit.push.plan import PushPlan
    from toolkit.push.pushing import PushResult

INDENT = "  "
ORDERS = {
    "uncertainty": "the lowest task score first",
    "sequential": "in task order",
    "random": "at random",
}


class PhaseState(Protocol):
    phase: str


def progress(state: PhaseState) -> str:
    """The progress bar's description of a phase ("tasks" or "predictions")."""
    return f"Importing {state.phase}"


def _line(*pieces: str, note: bool = False, depth: int = 1) -> Line:
    return Line((INDENT * depth, *pieces), note=note)


def _names(names: list[str]) -> Data:
    return Data(", ".join(names))


def _articles(article_ids: list[str], shown: int = 5) -> tuple[str, ...]:
    """``3 articles (a, b, c)``, the first ``shown`` ids named."""
    if not article_ids:
        return (plural(0, "article"),)
    more = ", ..." if len(article_ids) > shown else ""
    return (plural(len(article_ids), "article"), " (", _names(article_ids[:shown]), f"{more})")


def label_changes(plan: PushPlan) -> tuple[str, ...]:
    parts: list[tuple[str, ...]] = []
    if plan.labels_added:
        parts.append(("added ", _names(plan.labels_added)))
    if plan.labels_removed:
        parts.append(("removed ", _names(plan.labels_removed)))
    if plan.controls_removed:
        parts.append(("removed ", _names(plan.controls_removed), " (not created by push)"))
    if not parts:
        return ("colours, hotkeys or layout changed",)
    joined: list[str] = []
    for part in parts:
        joined.extend(("; ", *part) if joined else part)
    return tuple(joined)


def _kept_edit(plan: PushPlan) -> Line:
    return _line(
        "labeling config: edited in Label Studio, left as it is: it has ",
        _names(plan.controls_removed),
        ", which push did not create and replacing it would remove (push.replace_labeling_config: true, "
        "or --replace-labeling-config, replaces it)",
        note=True,
    )


def _text_changed(plan: PushPlan) -> list[Line]:
    if not plan.text_changed:
        return []
    shown = ", ".join(repr(article_id) for article_id in plan.text_changed[:5])
    more = ", ..." if len(plan.text_changed) > 5 else ""
    said = (
        f"{plural(len(plan.text_changed), 'article')} skipped: the task's text was edited in Label Studio, "
        "so its spans would not fit (",
        Data(shown + more),
        "); give changed articles new ids, or delete their tasks",
    )
    return [_line(*said, note=True)]


def version_kept(plan: PushPlan) -> list[Line]:
    """Why the project keeps its model_version, and which tasks show which suggestions."""
    if not plan.version_kept:
        return []
    pushed, kept = Data(repr(plan.pushed_version)), Data(repr(plan.current_model_version))
    lines = [
        _line(
            "project model_version stays ",
            kept,
            ", not ",
            pushed,
            ": ",
            pushed,
            " would not be on every task nobody annotated yet, and Label All Tasks shows only the project's version",
            note=True,
        ),
        _line(
            "suggestions of ", kept, " only (no ", pushed, "): ", *_articles(plan.lacking_pushed), depth=2, note=True
        ),
    ]
    if plan.lacking_kept:
        said = ("no ", kept, " prediction, so no suggestions in Label All Tasks (the Data Manager shows those of ")
        lines.append(_line(*said, pushed, "): ", *_articles(plan.lacking_kept), depth=2, note=True))
    said = (
        "to move the project to ",
        pushed,
        ": pre-annotate the articles without it with that model and push them too",
    )
    lines.append(_line(*said, depth=2, note=True))
    return lines


def _model_version(result: PushResult) -> list[Line]:
    plan = result.plan
    if result.model_version_set:
        said = ("project model_version set to ", Data(repr(plan.model_version)), ": annotators see these predictions")
        if result.model_rolled_back_from is not None:
            moved = (
                "  moved off the project's current model ",
                Data(repr(result.model_rolled_back_from)),
                " as told (--allow-model-rollback); `toolkit models use` records which model is current",
            )
            return [_line(*said), _line(*moved, note=True)]
        return [_line(*said)]
    if plan.version_kept:
        return version_kept(plan)
    if plan.model_version is None and plan.articles:
        said = (
            "the file holds several model versions: the project's model_version (",
            Data(repr(plan.current_model_version)),
            ") was left alone",
        )
        return [_line(*said, note=True)]
    return []


def _near_duplicates(result: PushResult) -> list[Line]:
    if not result.near_duplicate_groups:
        return []
    return [
        _line(
            f"near-duplicates: {plural(result.near_duplicate_groups, 'group')} holding "
            f"{plural(result.near_duplicate_copies, 'copy', 'copies')} "
            "(served after every group's first article; kept in one split by export)"
        )
    ]


def _stream(result: PushResult) -> list[Line]:
    change = " (set now)" if result.stream_order_set else ""
    lines = [_line(f"Label All Tasks serves {ORDERS[result.order]}{change}: push.order is {result.order!r}")]
    lines += _overlap(result)
    if result.tab_added:
        lines.append(_line("data manager tab 'Most uncertain first' added (prediction score column shown)"))
    return lines


def overlap_said(overlap: Overlap) -> str:
    """``30% of the tasks to 2 annotators each``; ``each task to 1 annotator`` (Label Studio's default)."""
    if overlap.annotators == 1:
        return "each task to 1 annotator"
    share = "every task" if overlap.percentage == 100 else f"{overlap.percentage}% of the tasks"
    return f"{share} to {plural(overlap.annotators, 'annotator')} each"


def _overlap(result: PushResult) -> list[Line]:
    """project.overlap: what the stream serves to several annotators, and what the push changed (dry run: would)."""
    if result.overlap is None:
        return []
    change = result.overlap_change
    if change is None:
        return [_line(f"overlap: the stream serves {overlap_said(result.overlap)} (project.overlap)")]
    verb = "would serve" if result.dry_run else "serves"
    when = "would be set" if result.dry_run else "set now"
    said = f"overlap: the stream {verb} {overlap_said(change.after)} ({when}; was {overlap_said(change.before)})"
    return [_line(said)]


def _config(result: PushResult) -> list[Line]:
    plan = result.plan
    if result.labeling_config_updated:
        return [_line("labeling config updated: ", *label_changes(plan))]
    if keeps_edited_config(plan):
        return [_kept_edit(plan)]
    return []


def _copies(result: PushResult) -> list[Line]:
    plan, lines = result.plan, []
    if result.duplicates_removed:
        removed = (
            f"removed {plural(result.duplicate_tasks_removed, 'duplicate task')} and "
            f"{plural(result.duplicate_predictions_removed, 'duplicate prediction set')} "
            "(copies from an interrupted or a concurrent push)"
        )
        lines.append(_line(removed))
    if result.tasks_removed_as_copies:
        said = (
            f"{plural(result.tasks_removed_as_copies, 'task')} this push imported duplicated those another push "
            "imported at the same moment, and were removed"
        )
        lines.append(_line(said))
    if plan.kept_duplicates:
        said = (f"{plural(len(plan.kept_duplicates), 'article')} with more than one annotated task (kept): ",)
        lines.append(_line(*said, _names(plan.kept_duplicates[:5]), note=True))
    return lines


def pushed(result: PushResult, config_path: Path) -> Document:
    """What a push did: the project, the tasks and prediction sets it added, what it left alone, and why."""
    plan = result.plan
    state = "created" if result.project_created else "found"
    title = f"Project {plan.project_title!r} {state}: {result.project_url}"
    lines: list[Line] = []
    if result.spare_project_id is not None:
        said = (
            f"another push created it at the same moment: this push's own project {result.spare_project_id} "
            f"is empty, renamed {result.spare_project_title!r}; delete it in Label Studio"
        )
        lines.append(_line(said, note=True))
    lines += _config(result)
    lines.append(
        _line(
            f"{plural(result.tasks_created, 'new task')}, "
            f"{plural(result.articles_in_project, 'article')} already in the project"
        )
    )
    lines.append(_line(f"{plural(result.predictions_created, 'new prediction set')} on existing tasks"))
    if plan.annotated_kept:
        said = (
            f"{plural(len(plan.annotated_kept), 'annotated task')} kept as they are: no new prediction set on tasks "
            "a human annotated, skipped or started"
        )
        lines.append(_line(said))
    lines += [*_text_changed(plan), *_copies(result), *_model_version(result), *_near_duplicates(result)]
    lines += _stream(result)
    next_step = (
        "Next: annotate in Label Studio, then `",
        Code(f"toolkit pull --config {config_path} --out FILE.jsonl"),
        "`",
    )
    sections = (Section("push", None, tuple(lines)), Section("next", None, (Line(next_step),)))
    return Document(title, sections, rules=False)


def _planned_config(plan: PushPlan) -> list[Line]:
    if keeps_edited_config(plan):
        return [_kept_edit(plan)]
    if plan.controls_removed and not plan.replace_labeling_config:
        said = (
            "labeling config: `labels` adds ",
            _names(plan.labels_added),
            ", but replacing the config would remove ",
            _names(plan.controls_removed),
            " (not created by push): the push would stop (set push.replace_labeling_config: true, "
            "or pass --replace-labeling-config)",
        )
        return [_line(*said, note=True)]
    if plan.labeling_config_changes:
        return [_line("labeling config: would be replaced: ", *label_changes(plan))]
    return []


def planned(result: PushResult) -> Document:
    """The dry run: what a push would write, nothing written."""
    plan = result.plan
    where = f"project {plan.project_id}" if plan.project_id is not None else "a new project (would be created)"
    title = f"Dry run for {plan.project_title!r}, {where}: nothing written"
    new_sets = f"{count(plan.new_prediction_sets)} ({count(len(plan.new_predictions))} on existing tasks)"
    lines = [_line(f"new tasks:           {count(len(plan.new_tasks))}"), _line(f"new prediction sets: {new_sets}")]
    for version, sets in plan.new_sets_by_version().items():
        lines.append(_line(Data(version), f": {count(sets)}", depth=2))
    lines.append(_line(f"unchanged:           {count(plan.unchanged)}"))
    if plan.annotated_kept:
        lines.append(_line(f"annotated, kept as they are (no new prediction set): {count(len(plan.annotated_kept))}"))
    lines += _text_changed(plan)
    if plan.duplicate_tasks or plan.duplicate_predictions:
        said = (
            "copies left by an interrupted or a concurrent push, to remove: "
            f"{plural(len(plan.duplicate_tasks), 'task')}, {plural(len(plan.duplicate_predictions), 'prediction set')}"
        )
        lines.append(_line(said))
    lines += _planned_config(plan)
    if plan.model_version is not None and plan.model_version != plan.current_model_version:
        said = (
            "project model_version: ",
            Data(repr(plan.current_model_version)),
            " -> ",
            Data(repr(plan.model_version)),
        )
        lines.append(_line(*said))
    lines += version_kept(plan)
    lines += _near_duplicates(result)
    lines += _overlap(result)
    return Document(title, (Section("plan", None, tuple(lines)),), rules=False)


def push_document(result: PushResult, config_path: Path) -> Document:
    """Everything ``toolkit push`` says after the server line: the plan of a dry run, else what was pushed."""
    return planned(result) if result.dry_run else pushed(result, config_path)
