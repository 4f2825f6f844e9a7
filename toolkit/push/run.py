"""Push predicted articles to Label Studio: predicted articles -> tasks with predictions.

Idempotent and resumable: the server is the only record of what was pushed.

- Every task carries its article id in ``data.article_id``. Before writing, push
  reads which article ids the project holds and which prediction sets (model
  versions) each task has, and plans: new tasks (imported with their predictions
  inline), new prediction sets for existing tasks (bulk predictions import), and
  unchanged articles.
- Writes go out once (``NO_RETRY``): the SDK's own retries could import the same
  batch twice. When a write fails in a way that says nothing about what the server
  did (timeout, dropped connection, 5xx), push reads back what landed and sends only
  the rest, a bounded number of times (tenacity).
- A task import is one database transaction on the server: a batch lands whole or
  not at all. A process killed at any moment leaves whole batches; the next push
  imports the rest. A batch still being written by the server while the next push
  reads the project can be imported twice; push counts the project's tasks and
  prediction sets after writing and removes such duplicates (the unannotated
  copies), so each article ends up with one task and one prediction set per version.
- Concurrent pushes: Label Studio has no unique title, so two pushes may both create
  the project. Each lists the projects with the title right after creating one; the
  lowest id wins and the others rename their own (still empty) project and push into
  the winner. Renamed, not deleted: Label Studio 1.23 deletes a project with every
  Django signal disconnected, server-wide, which breaks imports running at that
  moment. Pushes importing the same articles at once leave copies that the tidy-up
  above removes; a copy another push already deleted (404) counts as removed by it.
  The counts a push prints are its own: the tasks it imported that remain, and the
  copies it deleted.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.errors import InputError, ProjectError, ServerError
from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, connect, get_json, may_have_landed, post_json
from toolkit.labelstudio.labeling import config_labels, instructions, labeling_config, prediction_payload, task_payload
from toolkit.records import PredictedArticle

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

# Another push's project with the same title is renamed within a request or two of
# its creation (see _settle_creation): look again this many times, this far apart,
# before calling two projects with one title ambiguous.
DUPLICATE_TITLE_LOOKS, DUPLICATE_TITLE_WAIT = 4, 1.0
# Attempts for a write that may or may not have landed, and the waits between them
# (seconds): long enough for a busy server to finish the request it was writing.
WRITE_ATTEMPTS = 3
RETRY_WAIT_MIN, RETRY_WAIT_MAX = 2.0, 10.0
TASK_PAGE_SIZE = 1000

Progress = Callable[[str, int, int], None]


@dataclass
class ProjectState:
    """What the project holds, as far as push is concerned."""

    # article id -> ids of its tasks (more than one only after an interrupted push)
    tasks: dict[str, list[int]] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)  # task id -> its text
    annotated: set[int] = field(default_factory=set)  # ids of tasks with annotations or drafts
    # task id -> model version -> prediction ids (more than one: a duplicate)
    predictions: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    # Everything in the project, ours or not: compared with the project's counters.
    task_count: int = 0
    prediction_count: int = 0


@dataclass
class PushPlan:
    project_title: str
    project_id: int | None  # None: the project does not exist yet
    labels_added: list[str] = field(default_factory=list)
    labels_removed: list[str] = field(default_factory=list)
    labeling_config_changes: bool = False  # the push would write the project's labeling config
    # Controls in the project's labeling config that push does not generate (a human's
    # edit), e.g. "Choices 'topic'": replacing the config would remove them.
    controls_removed: list[str] = field(default_factory=list)
    replace_labeling_config: bool = False  # push.replace_labeling_config: remove them anyway
    current_model_version: str | None = None
    model_version: str | None = None  # the project's model_version after the push
    articles: int = 0
    new_tasks: list[list[PredictedArticle]] = field(default_factory=list)  # per article: its versions
    new_predictions: list[tuple[int, PredictedArticle]] = field(default_factory=list)  # (task id, version)
    unchanged: int = 0  # articles whose task holds every pushed version already
    duplicate_tasks: list[int] = field(default_factory=list)  # to delete: unannotated copies
    duplicate_predictions: list[int] = field(default_factory=list)  # to delete: second sets of a version
    kept_duplicates: list[str] = field(default_factory=list)  # article ids with >1 annotated task
    # Article ids whose task holds another text (edited in Label Studio): skipped, since
    # their spans would not fit the task's text.
    text_changed: list[str] = field(default_factory=list)

    @property
    def new_prediction_sets(self) -> int:
        """Prediction sets this push adds: inline with new tasks plus on existing tasks."""
        return sum(len(versions) for versions in self.new_tasks) + len(self.new_predictions)


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
    task_ids: list[int] = field(default_factory=list)  # the tasks this push imported

    @property
    def duplicates_removed(self) -> int:
        return self.duplicate_tasks_removed + self.duplicate_predictions_removed

    # The names the first version of push reported under.
    @property
    def created(self) -> int:
        return self.tasks_created

    @property
    def unchanged(self) -> int:
        return self.plan.unchanged


# --- the project -------------------------------------------------------------------


def _projects_titled(client: LabelStudio, title: str) -> list[Any]:
    """The projects titled exactly ``title``. The server's title filter matches substrings,
    so the titles are compared here. The SDK's pager fetches later pages lazily, while it
    is iterated: callers run this inside ``call()``, which turns a failed page into a clear error."""
    return [project for project in client.projects.list(title=title, page_size=100) if project.title == title]


def find_project(client: LabelStudio, settings: ServerSettings, config: Config) -> Any | None:
    """The project by id (when configured) or by exact title; None when there is none.

    Two projects with the title are looked at again for a few seconds before that is an
    error: a concurrent push that lost the race to create the project renames its own.
    """
    if config.project.id is not None:
        try:
            return call(settings, "read the project", client.projects.get, id=config.project.id)
        except ServerError as error:
            if error.status == 404:
                raise ProjectError(
                    f"[project.id] project {config.project.id} does not exist on {settings.public_url}"
                ) from None
            raise
    matches = call(settings, "list projects", _projects_titled, client, config.project.title)
    for _ in range(DUPLICATE_TITLE_LOOKS - 1):
        if len(matches) <= 1:
            break
        # Perhaps two pushes are creating the project right now: the loser renames its own.
        time.sleep(DUPLICATE_TITLE_WAIT)
        matches = call(settings, "list projects", _projects_titled, client, config.project.title)
    if len(matches) > 1:
        ids = ", ".join(str(project_id) for project_id in sorted(project.id for project in matches))
        raise ProjectError(
            f"{len(matches)} projects on {settings.public_url} are titled {config.project.title!r} (ids {ids})",
            hint="set project.id in the config to the one to use, or rename the others",
        )
    return matches[0] if matches else None


def validate_labeling_config(
    client: LabelStudio, settings: ServerSettings, label_config: str, *, project_id: int | None = None
) -> None:
    """Ask the server whether it accepts the labeling config; for a project, also against its annotations."""
    from toolkit.labelstudio.client import describe_api_error, raise_for_status

    try:
        if project_id is None:
            # The project-less endpoint checks the XML alone; the SDK has no method for it.
            response = client._client_wrapper.httpx_client.request(
                "api/projects/validate/", method="POST", json={"label_config": label_config}, request_options=NO_RETRY
            )
            raise_for_status(response)
        else:
            client.projects.validate_label_config(id=project_id, label_config=label_config, request_options=NO_RETRY)
    except Exception as error:  # noqa: BLE001 - sorted out by describe_api_error
        server_error = describe_api_error(error, settings, "validate the labeling config")
        if server_error.status == 400:
            raise ProjectError(
                f"Label Studio rejects the labeling config generated from `labels`: {_error_detail(error)}",
                hint="check `labels` in the config (names, not markup)",
            ) from None
        raise server_error from None


def _error_detail(error: Any) -> str:
    """The server's own words from an ApiError body (DRF puts them in detail or validation_errors)."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        detail = body.get("validation_errors") or body.get("detail") or body
        if isinstance(detail, dict):
            detail = "; ".join(" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in detail.values())
        return " ".join(str(detail).split())[:500]
    return " ".join(str(body or error).split())[:500]


def same_labeling_config(a: str, b: str) -> bool:
    """Equal up to whitespace between tags (the server strips a trailing newline)."""
    import xml.etree.ElementTree as ET

    try:
        return ET.canonicalize(a, strip_text=True) == ET.canonicalize(b, strip_text=True)
    except ET.ParseError:
        return a.strip() == b.strip()


def foreign_controls(current: str, wanted: str) -> list[str]:
    """Named elements (controls and objects) of ``current`` that ``wanted`` lacks, as "Tag 'name'"."""
    import xml.etree.ElementTree as ET

    def named(label_config: str) -> list[tuple[str, str]]:
        try:
            root = ET.fromstring(label_config)
        except ET.ParseError:
            return []
        return [(element.tag, element.get("name", "")) for element in root.iter() if element.get("name")]

    ours = set(named(wanted))
    return [f"{tag} {name!r}" for tag, name in named(current) if (tag, name) not in ours]


def keeps_edited_config(plan: PushPlan) -> bool:
    """Whether push leaves a labeling config edited in Label Studio as it is: it has controls
    push did not create, was not told to replace it, and already has every label."""
    return bool(plan.controls_removed) and not plan.replace_labeling_config and not plan.labels_added


def _refuse_foreign_controls(project: Any, controls: list[str], added: list[str]) -> None:
    raise ProjectError(
        f"`labels` adds {', '.join(added)}, but project {project.id}'s labeling config has {', '.join(controls)}, "
        "which push did not create (edited in Label Studio?); replacing the config would remove it",
        hint="add the labels in Label Studio's labeling config yourself, or set push.replace_labeling_config: true "
        "in the config to replace the labeling config and drop it",
    )


def ensure_project(
    client: LabelStudio, settings: ServerSettings, config: Config, *, project: Any | None = None
) -> tuple[Any, bool, bool, int | None]:
    """Find the project (or take the one found) or create it; keep its labeling config in step with ``labels``.

    Returns (project, created, labeling config updated, spare): spare is the id of the
    project this push created and renamed, when another push created one at the same
    moment (the project returned is then the other's).
    """
    wanted = labeling_config(config)
    project = project if project is not None else find_project(client, settings, config)
    if project is None:
        validate_labeling_config(client, settings, wanted)
        mine = _create_project(client, settings, config, wanted)
        project = _settle_creation(client, settings, config, mine)
        if project.id == mine.id:
            return mine, True, False, None
        spare = mine.id
        if same_labeling_config(project.label_config or "", wanted):
            return project, False, False, spare
        # The winner was created from another config's labels: brought in step below.
    else:
        spare = None
    if same_labeling_config(project.label_config or "", wanted):
        return project, False, False, spare
    controls = foreign_controls(project.label_config or "", wanted)
    if controls and not config.push.replace_labeling_config:
        # A human's edit: left alone while the predictions' labels fit it.
        added = [label for label in config.labels if label not in config_labels(project.label_config or "")]
        if not added:
            return project, False, False, spare
        _refuse_foreign_controls(project, controls, added)
    removed = [label for label in config_labels(project.label_config or "") if label not in config.labels]
    try:
        validate_labeling_config(client, settings, wanted, project_id=project.id)
    except ProjectError as error:
        if removed:
            raise ProjectError(
                f"`labels` drops {', '.join(removed)} from project {project.id}, but annotations use some of them and "
                f"Label Studio refuses the change: {error.message.split(': ', 1)[-1]}",
                hint="keep the labels annotations use in `labels`, or relabel those annotations in Label Studio first",
            ) from None
        raise
    # Existing annotations are untouched: the change only adds or drops choices.
    project = call(
        settings,
        "update the labeling config",
        client.projects.update,
        id=project.id,
        label_config=wanted,
        request_options=NO_RETRY,
    )
    return project, False, True, spare


def _create_project(client: LabelStudio, settings: ServerSettings, config: Config, label_config: str) -> Any:
    def create() -> Any:
        return call(
            settings,
            "create the project",
            client.projects.create,
            title=config.project.title,
            description=config.project.description,
            label_config=label_config,
            expert_instruction=instructions(config),
            show_instruction=True,
            show_collab_predictions=True,
            request_options=NO_RETRY,
        )

    def landed() -> Any | None:
        return find_project(client, settings, config)

    return _write_once_then_check(create, landed, "create the project")


def _settle_creation(client: LabelStudio, settings: ServerSettings, config: Config, mine: Any) -> Any:
    """After creating the project: if another push created one with the title too, agree on one.

    The lowest id wins, the same answer for every push that looks. A loser renames its
    own project, which is still empty (nothing is imported before this), to a title that
    says so, and returns the winner.
    """
    matches = call(settings, "list projects", _projects_titled, client, config.project.title)
    winner = min([mine, *matches], key=lambda project: project.id)
    if winner.id != mine.id:
        try:
            call(
                settings,
                "rename this push's copy of the project",
                client.projects.update,
                id=mine.id,
                title=spare_title(config.project.title, winner.id),
                request_options=NO_RETRY,
            )
        except ServerError as error:
            raise ServerError(
                f"{error.message}; another push created project {winner.id} with the same title at the same moment",
                hint=f"delete project {mine.id} (empty) in Label Studio, then run the push again",
                status=error.status,
            ) from None
        winner = call(settings, "read the project", client.projects.get, id=winner.id)
    return winner


def spare_title(title: str, winner_id: int) -> str:
    """The title of a project a concurrent push created in vain: empty, safe to delete.

    Label Studio allows 50 characters: the title is shortened to leave room for the note.
    """
    note = f" [empty copy of {winner_id}]"
    return title[: max(0, 50 - len(note))] + note


def _write_once_then_check(send: Callable[[], Any], landed: Callable[[], Any | None], action: str) -> Any:
    """Send a write once; when the failure leaves it unknown whether it landed, look, then resend.

    ``landed()`` returns the written thing (or a truthy summary) when it is on the server.
    """
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    first = [True]
    for attempt in Retrying(
        stop=stop_after_attempt(WRITE_ATTEMPTS),
        wait=wait_exponential(min=RETRY_WAIT_MIN, max=RETRY_WAIT_MAX),
        retry=retry_if_exception(may_have_landed),
        reraise=True,
    ):
        with attempt:
            if not first[0]:
                found = landed()
                if found is not None:
                    return found
            first[0] = False
            return send()
    raise AssertionError(f"unreachable: {action}")  # pragma: no cover - Retrying reraises


# --- what the project holds ----------------------------------------------------------


def read_state(client: LabelStudio, settings: ServerSettings, project_id: int) -> ProjectState:
    """The project's tasks by article id, and the prediction sets of each task."""
    state = ProjectState()
    page = 1
    while True:
        params = {
            "project": project_id,
            "fields": "task_only",
            "page": page,
            "page_size": TASK_PAGE_SIZE,
            # Only these fields: the server's full task rows cost it ~4x the time.
            "include": "id,data,total_predictions,total_annotations,cancelled_annotations,drafts",
        }
        # The pages end with a 404 ("Invalid page") when the last one was full.
        answer = call(settings, "list the project's tasks", get_json, client, "api/tasks/", params, missing_ok=True)
        tasks = (answer or {}).get("tasks") or []
        for task in tasks:
            state.task_count += 1
            state.prediction_count += task.get("total_predictions") or 0
            data = task.get("data") or {}
            article_id = data.get("article_id")
            if article_id is None:
                continue  # a task imported by other means: not ours to count
            state.tasks.setdefault(str(article_id), []).append(task["id"])
            state.texts[task["id"]] = data.get("text", "")
            if (task.get("total_annotations") or 0) + (task.get("cancelled_annotations") or 0) or task.get("drafts"):
                state.annotated.add(task["id"])
        if len(tasks) < TASK_PAGE_SIZE or state.task_count >= (answer or {}).get("total", 0):
            break
        page += 1
    if state.prediction_count:
        # The task list does not say which model versions a task's predictions are.
        predictions = call(
            settings, "list the project's predictions", get_json, client, "api/predictions/", {"project": project_id}
        )
        for prediction in predictions:
            versions = state.predictions.setdefault(prediction["task"], {})
            versions.setdefault(prediction.get("model_version") or "undefined", []).append(prediction["id"])
    return state


# --- the plan ------------------------------------------------------------------------


def check_articles(
    articles: Iterable[PredictedArticle], *, labels: Iterable[str] | None = None, source: str | None = None
) -> tuple[dict[str, list[PredictedArticle]], int]:
    """Articles grouped by id, each group one article's model versions; and the record count.

    Raises InputError for spans outside the text, a span label not in ``labels`` (when
    given), an id with two texts, or the same article and model version twice. Messages
    start with ``source`` (the file name) when given.
    """
    label_list = list(labels) if labels is not None else None
    allowed = set(label_list) if label_list is not None else None
    where = f"{source} record" if source else "record"
    groups: dict[str, list[PredictedArticle]] = {}
    count = 0
    for count, article in enumerate(articles, start=1):
        for span in article.spans:
            if span.end > len(article.text):
                raise InputError(
                    f"{where} {count} (article {article.id!r}): span {span.start}-{span.end} {span.label} ends beyond "
                    f"the text ({len(article.text)} characters)",
                    hint="run `toolkit preannotate` again to write the predictions",
                )
            # Label Studio 1.23 stores such a prediction and only logs the unknown label;
            # annotators would then see a span they cannot keep or relabel to itself.
            if allowed is not None and span.label not in allowed:
                raise InputError(
                    f"{where} {count} (article {article.id!r}): span {span.start}-{span.end} has label "
                    f"{span.label!r}, which is not in the config's labels ({', '.join(label_list or [])})",
                    hint="add the label to `labels` (or map it with `label_map`) and run `toolkit preannotate` again",
                )
        versions = groups.setdefault(article.id, [])
        for other in versions:
            if other.text != article.text:
                raise InputError(f"{where} {count}: article id {article.id!r} is used before for another text")
            if other.model.model_version == article.model.model_version:
                raise InputError(
                    f"{where} {count}: article {article.id!r} with model version "
                    f"{article.model.model_version!r} is in the file twice"
                )
        versions.append(article)
    return groups, count


def plan_push(groups: dict[str, list[PredictedArticle]], state: ProjectState, plan: PushPlan) -> PushPlan:
    """Fill ``plan`` with what is missing from the project and what to tidy up."""
    for article_id, task_ids in state.tasks.items():
        if len(task_ids) > 1:
            annotated = [task for task in task_ids if task in state.annotated]
            keep = annotated or [min(task_ids)]
            plan.duplicate_tasks.extend(task for task in task_ids if task not in keep)
            if len(annotated) > 1:
                plan.kept_duplicates.append(article_id)
    dropped = set(plan.duplicate_tasks)
    for task_id, versions in state.predictions.items():
        if task_id in dropped:
            continue
        for ids in versions.values():
            plan.duplicate_predictions.extend(sorted(ids)[1:])
    for article_id, versions in groups.items():
        task_ids = [task for task in state.tasks.get(article_id, []) if task not in dropped]
        if not task_ids:
            plan.new_tasks.append(versions)
            continue
        task_id = min(task_ids)
        if state.texts.get(task_id) != versions[0].text:
            plan.text_changed.append(article_id)
            continue
        held = state.predictions.get(task_id, {})
        missing = [version for version in versions if version.model.model_version not in held]
        plan.new_predictions.extend((task_id, version) for version in missing)
        if not missing:
            plan.unchanged += 1
    return plan


# --- batches -------------------------------------------------------------------------


def encode(body: dict[str, Any], max_bytes: int) -> bytes:
    """One import item as JSON, encoded once; InputError when it alone is over the request size limit."""
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if len(encoded) + 2 > max_bytes:
        article_id = body.get("data", {}).get("article_id") or body.get("task")
        raise InputError(
            f"article {article_id!r} alone is {len(encoded) / 1e6:.2f} MB as an import request, over push.max_request_mb "
            f"({max_bytes / 1e6:g} MB); nothing was pushed",
            hint="raise push.max_request_mb (keep it under the server's request size limit), or split the article",
        )
    return encoded


def iter_batches(items: Iterable[tuple[Any, bytes]], *, size: int, max_bytes: int) -> Iterator[list[tuple[Any, bytes]]]:
    """(key, encoded item) pairs in batches of at most ``size`` items and ``max_bytes`` of JSON.

    One batch at a time: items are encoded as the batches are sent, never all at once.
    """
    batch: list[tuple[Any, bytes]] = []
    batch_bytes = 2  # the list's brackets
    for key, encoded in items:
        item_bytes = len(encoded) + 1  # and a comma
        if batch and (len(batch) == size or batch_bytes + item_bytes > max_bytes):
            yield batch
            batch, batch_bytes = [], 2
        batch.append((key, encoded))
        batch_bytes += item_bytes
    if batch:
        yield batch


def _body(batch: list[tuple[Any, bytes]]) -> bytes:
    return b"[" + b",".join(encoded for _, encoded in batch) + b"]"


# --- the push ------------------------------------------------------------------------


def push(
    articles: Iterable[PredictedArticle],
    *,
    config: Config,
    settings: ServerSettings,
    dry_run: bool = False,
    on_progress: Progress | None = None,
    source: str | None = None,
) -> PushResult:
    """Bring the project up to date with the articles: new tasks, new prediction sets.

    ``on_progress(stage, done, total)`` reports each batch (stage "tasks" or
    "predictions"). With ``dry_run`` nothing is written: the result's plan says what
    a push would do. ``source`` (the predictions file's name) starts the messages
    about a bad record.
    """
    groups, _ = check_articles(articles, labels=config.labels, source=source)
    if not groups:
        # Checked before connecting: an empty push would otherwise create an empty project.
        raise InputError(
            f"{source or 'the predictions'}: no articles (an empty file); nothing was pushed",
            hint="`toolkit preannotate --on-error skip` writes an empty file when it skips every article: "
            "see its skip counts",
        )
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    # An oversized article stops the push before anything is written. Only checked here:
    # holding every encoded task would double the push's memory; they are encoded
    # again, batch by batch, as they are sent.
    for versions in groups.values():
        encode(task_payload(*versions), max_bytes)
    client = connect(settings)
    plan = PushPlan(project_title=config.project.title, project_id=None, articles=len(groups))
    versions = {version.model.model_version for group in groups.values() for version in group}
    plan.model_version = next(iter(versions)) if len(versions) == 1 else None

    found = find_project(client, settings, config)
    if found is not None:
        plan.project_id = found.id
        plan.current_model_version = found.model_version or None
        current = config_labels(found.label_config or "")
        if not same_labeling_config(found.label_config or "", labeling_config(config)):
            plan.labeling_config_changes = True
            plan.labels_added = [label for label in config.labels if label not in current]
            plan.labels_removed = [label for label in current if label not in config.labels]
            plan.controls_removed = foreign_controls(found.label_config or "", labeling_config(config))
            plan.replace_labeling_config = config.push.replace_labeling_config
    if dry_run:
        state = read_state(client, settings, found.id) if found is not None else ProjectState()
        return PushResult(plan=plan_push(groups, state, plan), project_id=plan.project_id or 0)

    project, created, updated, spare = ensure_project(client, settings, config, project=found)
    plan.project_id = project.id
    result = PushResult(
        plan=plan,
        project_id=project.id,
        project_url=f"{settings.public_url}/projects/{project.id}",
        project_created=created,
        labeling_config_updated=updated,
        spare_project_id=spare,
    )
    # Read even when just created: a concurrent push may be importing into it already.
    state = read_state(client, settings, project.id)
    plan_push(groups, state, plan)

    try:
        removed_tasks, removed_sets, removed_predictions = _remove_duplicates(client, settings, plan, state)
        result.duplicate_tasks_removed += removed_tasks
        result.duplicate_predictions_removed += removed_sets
        _import_tasks(client, settings, config, project.id, plan, result, on_progress)
        _import_predictions(client, settings, config, project.id, plan, result, on_progress)
        expected_tasks = state.task_count - removed_tasks + result.tasks_created
        expected_predictions = (
            state.prediction_count
            - removed_predictions
            + sum(len(versions) for versions in plan.new_tasks)
            + result.predictions_created
        )
        now = _tidy_after(client, settings, config, project.id, groups, expected_tasks, expected_predictions, result)
        # The labeling stream shows only predictions of the project's model_version. (The
        # server sets an empty one to the first imported prediction's version itself.)
        if plan.model_version is not None and (getattr(now, "model_version", None) or None) != plan.model_version:
            call(
                settings,
                "set the project's model version",
                client.projects.update,
                id=project.id,
                model_version=plan.model_version,
                request_options=NO_RETRY,
            )
        result.model_version_set = plan.model_version is not None and plan.current_model_version != plan.model_version
    except ServerError as error:
        raise ServerError(
            f"{error.message}; so far this push imported {result.tasks_created:,} of {len(plan.new_tasks):,} new tasks "
            f"and {result.predictions_created:,} of {len(plan.new_predictions):,} prediction sets for existing tasks",
            hint=(error.hint + "; then " if error.hint else "")
            + "run the same push again: it sends only what is missing",
            status=error.status,
        ) from None
    return result


def _import_tasks(client, settings, config, project_id, plan: PushPlan, result: PushResult, on_progress) -> None:
    total = len(plan.new_tasks)
    if on_progress is not None and total:
        on_progress("tasks", 0, total)
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    items = ((versions[0].id, encode(task_payload(*versions), max_bytes)) for versions in plan.new_tasks)
    for batch in iter_batches(items, size=config.push.batch_size, max_bytes=max_bytes):
        pending = batch

        def send() -> Any:
            body = _body(pending)
            try:
                answer = call(
                    settings,
                    "import tasks",
                    post_json,
                    client,
                    f"api/projects/{project_id}/import?return_task_ids=true",
                    body,
                )
                result.task_ids.extend((answer or {}).get("task_ids") or [])
                return answer
            except ServerError as error:
                if error.status != 413:
                    raise
                raise ServerError(
                    f"{error.message}: {len(pending):,} tasks, {len(body) / 1e6:.1f} MB",
                    hint=f"set push.max_request_mb below {len(body) / 1e6:.1f} (the server's limit is its "
                    "DATA_UPLOAD_MAX_MEMORY_SIZE), or lower push.batch_size",
                    status=413,
                ) from None

        def landed() -> int | None:
            # Only the tasks of this batch that are not on the server are sent again.
            nonlocal pending
            held = read_state(client, settings, project_id).tasks
            # The landed part's ids are not in any answer: take its tasks as found.
            result.task_ids.extend(min(held[article_id]) for article_id, _ in pending if article_id in held)
            pending = [(article_id, item) for article_id, item in pending if article_id not in held]
            return None if pending else 0

        _write_once_then_check(send, landed, "import tasks")
        result.tasks_created += len(batch)
        if on_progress is not None:
            on_progress("tasks", result.tasks_created, total)


def _import_predictions(client, settings, config, project_id, plan: PushPlan, result: PushResult, on_progress) -> None:
    total = len(plan.new_predictions)
    if on_progress is not None and total:
        on_progress("predictions", 0, total)
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    items = (
        ((task_id, version.model.model_version), encode(prediction_payload(version, task_id=task_id), max_bytes))
        for task_id, version in plan.new_predictions
    )
    for batch in iter_batches(items, size=config.push.batch_size, max_bytes=max_bytes):
        pending = batch

        def send() -> Any:
            path = f"api/projects/{project_id}/import/predictions"
            return call(settings, "import predictions", post_json, client, path, _body(pending))

        def landed() -> int | None:
            nonlocal pending
            held = read_state(client, settings, project_id).predictions
            pending = [(key, item) for key, item in pending if key[1] not in held.get(key[0], {})]
            return None if pending else 0

        _write_once_then_check(send, landed, "import predictions")
        result.predictions_created += len(batch)
        if on_progress is not None:
            on_progress("predictions", result.predictions_created, total)


def _remove_duplicates(
    client, settings, plan: PushPlan, state: ProjectState, own: frozenset[int] | set[int] = frozenset()
) -> tuple[int, int, int]:
    """Delete the copies an interrupted or a concurrent push left: unannotated duplicate tasks, second prediction sets.

    Returns (tasks deleted, not counting ``own`` (this push's tasks: counted by what
    remains of them), prediction sets deleted, prediction sets gone in all, counting
    those of the deleted tasks).
    """
    tasks = sets = predictions = 0
    for task_id in plan.duplicate_tasks:
        if _delete(settings, "delete a duplicate task", client.tasks.delete, task_id):
            tasks += task_id not in own
            predictions += sum(len(ids) for ids in state.predictions.get(task_id, {}).values())
    for prediction_id in plan.duplicate_predictions:
        if _delete(settings, "delete a duplicate prediction set", client.predictions.delete, prediction_id):
            sets += 1
            predictions += 1
    plan.duplicate_tasks, plan.duplicate_predictions = [], []
    return tasks, sets, predictions


def _delete(settings: ServerSettings, action: str, delete: Callable[..., Any], item_id: int) -> bool:
    """Delete one copy; False when it is gone already (a concurrent push deleted it: its goal too)."""
    try:
        call(settings, action, delete, id=item_id, request_options=NO_RETRY)
    except ServerError as error:
        if error.status == 404:
            return False
        raise
    return True


def _tidy_after(
    client, settings, config, project_id, groups, expected_tasks: int, expected_predictions: int, result: PushResult
) -> Any:
    """Compare the project's counters with what this push accounts for; when they differ, remove duplicates.

    An import from a push killed a moment before this one began, or from a concurrent
    push, may have been committed after this push read the project: its tasks were
    then imported twice. Counters that differ either way (a surplus, or copies a
    concurrent push removed) mean the project is read again, and the result's counts
    become what remains of this push's tasks. Returns the project as read.
    """
    project = call(settings, "read the project", client.projects.get, id=project_id)
    tasks_now, predictions_now = project.task_number, project.total_predictions_number
    if tasks_now == expected_tasks and predictions_now == expected_predictions:
        return project
    state = read_state(client, settings, project_id)
    plan = plan_push(groups, state, PushPlan(project_title=config.project.title, project_id=project_id))
    dropped = set(plan.duplicate_tasks)
    removed_tasks, removed_sets, _ = _remove_duplicates(client, settings, plan, state, set(result.task_ids))
    result.duplicate_tasks_removed += removed_tasks
    result.duplicate_predictions_removed += removed_sets
    if len(result.task_ids) != result.tasks_created:
        return project  # a server that does not answer the imported ids: the counts stay as sent
    remaining = {task_id for task_ids in state.tasks.values() for task_id in task_ids} - dropped
    kept = sum(1 for task_id in result.task_ids if task_id in remaining)
    result.tasks_removed_as_copies = result.tasks_created - kept
    result.tasks_created = kept
    return project
