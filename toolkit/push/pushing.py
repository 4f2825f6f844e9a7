"""Push predicted articles to Label Studio: predicted articles -> tasks with predictions.

Idempotent and resumable: the server is the only record of what was pushed.

- Every task carries its article id in ``data.article_id``. Before writing, push reads
  what the project holds and plans (``toolkit.push.plan``): new tasks, new prediction
  sets for existing tasks, unchanged articles.
- Writes go out once and are checked before they are sent again
  (``toolkit.labelstudio.tasks``); a batch lands whole or not at all, so a process
  killed at any moment leaves whole batches and the next push imports the rest.
- A batch still being written by the server while the next push reads the project can
  be imported twice; push compares the project's task and prediction counts after
  writing and removes such duplicates (the unannotated copies), so each article ends
  up with one task and one prediction set per version.
- Concurrent pushes may both create the project (``toolkit.labelstudio.project``
  settles on one). Pushes importing the same articles at once leave copies that the
  tidy-up above removes; a copy another push already deleted (404) counts as removed by
  it. The counts a push prints are its own: the tasks it imported that remain, and the
  copies it deleted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.errors import InputError, Remedy, ServerError
from toolkit.io.models_registry import project_models
from toolkit.labelstudio.client import ServerSettings, connect
from toolkit.labelstudio.labeling import prediction_payload, task_payload, task_payload_bound
from toolkit.labelstudio.overlap import Overlap, OverlapChange, apply_overlap, overlap_change
from toolkit.labelstudio.project import ensure_project, find_project, read_project, set_model_version, spare_title
from toolkit.labelstudio.stream import ensure_uncertainty_tab, set_stream_order
from toolkit.labelstudio.tasks import (
    ProjectState,
    delete_prediction,
    delete_task,
    encode,
    import_predictions,
    import_tasks,
    read_state,
)
from toolkit.nlp.duplicates import Grouping, Groups
from toolkit.progress import OnProgress, emit
from toolkit.push.plan import PushPlan, check_articles, check_stream, kinds_differ, new_plan, plan_push
from toolkit.records import PredictedArticle, model_of
from toolkit.render.format import plural

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass
class PushResult:
    plan: PushPlan
    project_id: int = 0
    project_url: str = ""
    project_created: bool = False
    # Another push created the project at the same moment; this push renamed its own
    # (empty) copy, this id.
    spare_project_id: int | None = None
    labeling_config_updated: bool = False
    tasks_created: int = 0  # this push's tasks that remain in the project
    tasks_removed_as_copies: int = 0  # this push's tasks that duplicated another push's and were removed (by either)
    predictions_created: int = 0
    # Copies not this push's own that it deleted (one another push deleted first is not counted).
    duplicate_tasks_removed: int = 0
    duplicate_predictions_removed: int = 0
    model_version_set: bool = False
    # The project's current model (toolkit.io.models_registry) this push moved it off (--allow-model-rollback).
    model_rolled_back_from: str | None = None
    task_ids: list[int] = field(default_factory=list)  # the tasks this push imported
    # Near-duplicates among the articles: groups of two or more, and the articles in them
    # that are not their group's first.
    near_duplicate_groups: int = 0
    near_duplicate_copies: int = 0
    stream_order_set: bool = False  # the project's sampling was changed to push.order
    tab_added: bool = False  # the data manager's "Most uncertain first" tab was added
    dry_run: bool = False  # nothing was written: the plan says what a push would do
    order: str = "uncertainty"  # push.order: how Label All Tasks serves the tasks
    # The title this push's own empty project was renamed to (with ``spare_project_id``).
    spare_project_title: str | None = None
    overlap: Overlap | None = None  # project.overlap, as Label Studio keeps it (None: not configured)
    overlap_change: OverlapChange | None = None  # what this push changed (a dry run: would change)

    @property
    def duplicates_removed(self) -> int:
        return self.duplicate_tasks_removed + self.duplicate_predictions_removed

    @property
    def articles_in_project(self) -> int:
        """The file's articles the project held already (with or without a new prediction set)."""
        return self.plan.articles - self.tasks_created - len(self.plan.text_changed)

    def add_removed(self, removed: Removed) -> None:
        self.duplicate_tasks_removed += removed.tasks
        self.duplicate_predictions_removed += removed.prediction_sets


@dataclass(frozen=True)
class Removed:
    """The copies one tidy-up deleted (``PushResult.add_removed`` sums them)."""

    tasks: int = 0  # duplicate tasks, not counting this push's own (counted by what remains of them)
    prediction_sets: int = 0  # second prediction sets of a version
    predictions: int = 0  # prediction sets gone in all, counting those of the deleted tasks


def push(
    articles: Iterable[PredictedArticle],
    *,
    config: Config,
    settings: ServerSettings,
    dry_run: bool = False,
    on_progress: OnProgress | None = None,
    source: str | None = None,
    batch_size: int | None = None,
    replace_labeling_config: bool = False,
    allow_model_rollback: bool = False,
) -> PushResult:
    """Bring the project up to date with the articles: new tasks, new prediction sets.

    Progress: one event per batch (phase "tasks" or "predictions", with the total
    first). With ``dry_run`` nothing is written: the result's plan says what a push
    would do. ``source`` (the predictions file's name) starts the messages about a bad record.
    ``batch_size`` and ``replace_labeling_config`` (true) override the config's ``push`` settings.
    A push that would move the project off its current model (``toolkit.io.models_registry``)
    is refused unless ``allow_model_rollback`` (``check_model_rollback``).
    """
    config = _with_options(config, batch_size=batch_size, replace_labeling_config=replace_labeling_config)
    # Near-duplicate grouping (in a worker process when that pays) starts before ``articles``
    # are read, when they are read lazily (a file), and runs beside the set-up below; the
    # groups are needed only once the first task is encoded.
    early = not isinstance(articles, Sized)
    with Grouping(threshold=config.push.near_duplicates, early=early) as grouping:
        groups, _ = check_articles(articles, labels=config.labels, source=source)
        if not groups:
            # Checked before connecting: an empty push would otherwise create an empty project.
            raise InputError(
                f"{source or 'the predictions'}: no articles (an empty file); nothing was pushed",
                hint="`toolkit preannotate --on-error skip` writes an empty file when it skips every article: "
                "see its skip counts",
            )
        grouping.send(_texts(groups))
        max_bytes = _max_bytes(config)
        _check_sizes(groups, grouping, max_bytes)
        return _push_grouped(
            groups,
            grouping,
            config=config,
            settings=settings,
            dry_run=dry_run,
            on_progress=on_progress,
            source=source,
            allow_model_rollback=allow_model_rollback,
            max_bytes=max_bytes,
        )


def _push_grouped(
    groups: dict[str, list[PredictedArticle]],
    grouping: Grouping,
    *,
    config: Config,
    settings: ServerSettings,
    dry_run: bool,
    on_progress: OnProgress | None,
    source: str | None,
    allow_model_rollback: bool,
    max_bytes: int,
) -> PushResult:
    """push() once the articles are checked, while their near-duplicate groups are being made."""
    client = connect(settings)
    found = find_project(client, settings, config)
    plan = new_plan(config, groups, found)
    rolled_back_from = check_model_rollback(plan, config, allow=allow_model_rollback, source=source)
    if dry_run:
        state = read_state(client, settings, found.id) if found is not None else ProjectState()
        check_stream(plan_push(groups, state, plan), groups)
        return PushResult(
            plan=plan,
            project_id=plan.project_id or 0,
            near_duplicate_groups=grouping.result().count,
            near_duplicate_copies=grouping.result().copies,
            dry_run=True,
            order=config.push.order,
            overlap=_wanted_overlap(config),
            overlap_change=overlap_change(found, config.project.overlap),
        )

    if found is not None and kinds_differ(plan, groups):
        # Predictions of the other kind of score: refused before anything is written unless the
        # project moves to them whole (a plan of the project as it is now says).
        check_stream(plan_push(groups, read_state(client, settings, found.id), new_plan(config, groups, found)), groups)
    setup = ensure_project(client, settings, config, found=found)
    project_id = plan.project_id = setup.project.id
    # Before the imports: Label Studio gives each imported task the project's overlap.
    changed_overlap = apply_overlap(client, settings, setup.project, config.project.overlap)
    result = PushResult(
        plan=plan,
        project_id=project_id,
        project_url=f"{settings.public_url}/projects/{project_id}",
        project_created=setup.created,
        labeling_config_updated=setup.labeling_config_updated,
        spare_project_id=setup.spare_id,
        spare_project_title=spare_title(config.project.title, project_id) if setup.spare_id is not None else None,
        order=config.push.order,
        overlap=_wanted_overlap(config),
        overlap_change=changed_overlap,
    )
    # Read even when just created: a concurrent push may be importing into it already.
    state = read_state(client, settings, project_id)
    plan_push(groups, state, plan)
    duplicates = grouping.result()
    result.near_duplicate_groups, result.near_duplicate_copies = duplicates.count, duplicates.copies
    batches = {"batch_size": config.push.batch_size, "max_bytes": max_bytes}
    try:
        removed = _remove_duplicates(client, settings, plan, state)
        result.add_removed(removed)
        _announce(on_progress, "tasks", len(plan.new_tasks))
        for batch in import_tasks(client, settings, project_id, _task_items(plan, max_bytes, duplicates), **batches):
            result.tasks_created += batch.items
            result.task_ids.extend(batch.task_ids)
            emit(on_progress, "tasks", batch.items)
        _announce(on_progress, "predictions", len(plan.new_predictions))
        for batch in import_predictions(
            client, settings, project_id, _prediction_items(plan, max_bytes, duplicates), **batches
        ):
            result.predictions_created += batch.items
            emit(on_progress, "predictions", batch.items)
        expected_tasks = state.task_count - removed.tasks + result.tasks_created
        inline_sets = sum(len(versions) for versions in plan.new_tasks)
        expected_predictions = state.prediction_count - removed.predictions + inline_sets + result.predictions_created
        now = _tidy_after(client, settings, config, project_id, groups, expected_tasks, expected_predictions, result)
        # The labeling stream shows only predictions of the project's model_version. (The
        # server sets an empty one to the first imported prediction's version itself.)
        # A version pushed for some of the unannotated tasks only leaves the project's as it
        # is (toolkit.push.plan.decide_model_version): it would hide the others' suggestions.
        current = getattr(now, "model_version", None) or None
        if plan.model_version is not None and not plan.version_kept and current != plan.model_version:
            set_model_version(client, settings, project_id, plan.model_version)
        result.model_version_set = plan.model_version is not None and plan.current_model_version != plan.model_version
        if result.model_version_set and rolled_back_from is not None:
            result.model_rolled_back_from = rolled_back_from
        # Set at every push, so a project created by hand or changed in its settings
        # follows push.order again; the annotator configures nothing.
        # (A project this push created has it from its creation: set now too.)
        result.stream_order_set = set_stream_order(client, settings, now, config.push.order) or setup.created
        result.tab_added = ensure_uncertainty_tab(client, settings, project_id)
    except ServerError as error:
        raise ServerError(
            f"{error.message}; so far this push imported {result.tasks_created:,} of "
            f"{plural(len(plan.new_tasks), 'new task')} and {result.predictions_created:,} of "
            f"{plural(len(plan.new_predictions), 'prediction set')} for existing tasks",
            hint=(error.hint + "; then " if error.hint else "")
            + "run the same push again: it sends only what is missing",
            status=error.status,
        ) from None
    return result


def check_model_rollback(plan: PushPlan, config: Config, *, allow: bool, source: str | None) -> str | None:
    """The project's current model when this push would move the project off it (to an older
    model, or to any other than the one the registry names current); raises unless ``allow``.

    Only a model the project shows now and the registry names current is guarded: a project
    on the configured model, or one sent back to it by `toolkit models use base`, moves freely.
    Predictions of another model for new tasks are refused too: the project's labeling stream
    shows one model version, so they would either hide or be hidden.
    """
    # The registry names models; the project's and the file's versions also name their scoring.
    current = project_models(config).current
    pushed = model_of(plan.pushed_version)
    if current is None or model_of(plan.current_model_version) != current or pushed is None or pushed == current:
        return None
    if allow:
        return current
    raise InputError(
        f"{source or 'the predictions'}: made by {pushed!r}, but project {plan.project_title!r} shows its current "
        f"model {current!r}; this push would put annotators back on another model's suggestions; nothing was pushed",
        hint=(
            "run `toolkit preannotate` without --model (it runs the current model; --fresh to redo the file), "
            "or `toolkit models use VERSION` to change the current model, or ",
            Remedy("move the project to this file's model anyway", "allow_model_rollback=True"),
        ),
    )


def _wanted_overlap(config: Config) -> Overlap | None:
    return Overlap.wanted(config.project.overlap) if config.project.overlap is not None else None


def _with_options(config: Config, *, batch_size: int | None, replace_labeling_config: bool) -> Config:
    """``config`` with the command's options in ``push`` (an option left out keeps the config's value)."""
    update: dict[str, Any] = {}
    if batch_size is not None:
        update["batch_size"] = batch_size
    if replace_labeling_config:
        update["replace_labeling_config"] = True
    return config.model_copy(update={"push": config.push.model_copy(update=update)}) if update else config


def _max_bytes(config: Config) -> int:
    return int(config.push.max_request_mb * 1_000_000)


def _announce(on_progress: OnProgress | None, phase: str, total: int) -> None:
    if total:
        emit(on_progress, phase, 0, total=total)


def _texts(groups: dict[str, list[PredictedArticle]]) -> list[tuple[str, str]]:
    """(article id, text) in the file's order: what near-duplicate grouping reads (groups are named by their first)."""
    return [(article_id, versions[0].text) for article_id, versions in groups.items()]


def _check_sizes(groups: dict[str, list[PredictedArticle]], grouping: Grouping, max_bytes: int) -> None:
    """InputError for an article whose task alone is over ``max_bytes``: it stops the push before anything is written.

    Checked on a bound of the task's size, which needs neither the task's JSON nor its group;
    only a task the bound does not clear is encoded, once its group is known. (Holding every
    encoded task would double the push's memory: they are encoded batch by batch as they are sent.)
    """
    id_room = max(map(len, groups), default=0)
    for article_id, versions in groups.items():
        if task_payload_bound(*versions, id_room=id_room) + 2 > max_bytes:
            encode(task_payload(*versions, group=grouping.result().group_of.get(article_id)), max_bytes)


def _task_items(plan: PushPlan, max_bytes: int, duplicates: Groups) -> Iterator[tuple[str, bytes]]:
    return (
        (versions[0].id, encode(task_payload(*versions, group=duplicates.group_of.get(versions[0].id)), max_bytes))
        for versions in plan.new_tasks
    )


def _prediction_items(plan: PushPlan, max_bytes: int, duplicates: Groups) -> Iterator[tuple[tuple[int, str], bytes]]:
    return (
        (
            (task_id, version.model.model_version),
            encode(prediction_payload(version, task_id=task_id, copy_of=duplicates.copy_of(version.id)), max_bytes),
        )
        for task_id, version in plan.new_predictions
    )


def _remove_duplicates(
    client: LabelStudio, settings: ServerSettings, plan: PushPlan, state: ProjectState, own: set[int] | None = None
) -> Removed:
    """Delete the copies an interrupted or a concurrent push left: unannotated duplicate tasks,
    second prediction sets. ``own`` are this push's tasks: counted by what remains of them."""
    own = own or set()
    tasks = sets = predictions = 0
    for task_id in plan.duplicate_tasks:
        if delete_task(client, settings, task_id):
            tasks += task_id not in own
            predictions += sum(len(ids) for ids in state.predictions.get(task_id, {}).values())
    for prediction_id in plan.duplicate_predictions:
        if delete_prediction(client, settings, prediction_id):
            sets += 1
            predictions += 1
    return Removed(tasks, sets, predictions)


def _tidy_after(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    project_id: int,
    groups: dict[str, list[PredictedArticle]],
    expected_tasks: int,
    expected_predictions: int,
    result: PushResult,
) -> Any:
    """Compare the project's counters with what this push accounts for; when they differ, remove duplicates.

    An import from a push killed a moment before this one began, or from a concurrent
    push, may have been committed after this push read the project: its tasks were
    then imported twice. Counters that differ either way (a surplus, or copies a
    concurrent push removed) mean the project is read again, and the result's counts
    become what remains of this push's tasks. Returns the project as read.
    """
    project = read_project(client, settings, project_id)
    if project.task_number == expected_tasks and project.total_predictions_number == expected_predictions:
        return project
    state = read_state(client, settings, project_id)
    plan = plan_push(groups, state, PushPlan(project_title=config.project.title, project_id=project_id))
    result.add_removed(_remove_duplicates(client, settings, plan, state, set(result.task_ids)))
    if len(result.task_ids) != result.tasks_created:
        return project  # a server that does not answer the imported ids: the counts stay as sent
    remaining = {task_id for task_ids in state.tasks.values() for task_id in task_ids} - set(plan.duplicate_tasks)
    kept = sum(1 for task_id in result.task_ids if task_id in remaining)
    result.tasks_removed_as_copies = result.tasks_created - kept
    result.tasks_created = kept
    return project
