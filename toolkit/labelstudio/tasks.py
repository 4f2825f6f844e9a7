"""A project's tasks and prediction sets: read them, import more, delete copies.

Imports go out once (``NO_RETRY``): the SDK's own retries could import the same batch
twice. When a write fails in a way that says nothing about what the server did (a
timeout, a dropped connection, a 5xx), ``write_once_then_check`` reads back what landed
and sends only the rest, a bounded number of times. A task import is one database
transaction on the server: a batch lands whole or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from toolkit.errors import InputError, ServerError
from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, get_json, post_json, transient

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

# Attempts for a write that may or may not have landed, and the waits between them
# (seconds): long enough for a busy server to finish the request it was writing.
WRITE_ATTEMPTS = 3
RETRY_WAIT_MIN, RETRY_WAIT_MAX = 2.0, 10.0
TASK_PAGE_SIZE = 1000


@dataclass
class ProjectState:
    """What the project holds, as far as push is concerned."""

    # article id (or another key, see read_state) -> ids of its tasks (more than one only
    # after an interrupted push)
    tasks: dict[str, list[int]] = field(default_factory=dict)
    texts: dict[int, str] = field(default_factory=dict)  # task id -> its text
    annotated: set[int] = field(default_factory=set)  # ids of tasks with annotations or drafts
    # task id -> model version -> prediction ids (more than one: a duplicate)
    predictions: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    # Everything in the project, ours or not: compared with the project's counters.
    task_count: int = 0
    prediction_count: int = 0


def article_key(data: dict[str, Any]) -> str | None:
    """A pushed task's key: its article id (None: a task imported by other means)."""
    article_id = data.get("article_id")
    return None if article_id is None else str(article_id)


def read_state(
    client: LabelStudio,
    settings: ServerSettings,
    project_id: int,
    *,
    key: Callable[[dict[str, Any]], str | None] = article_key,
) -> ProjectState:
    """The project's tasks by key (``key`` of their data: the article id by default), and the
    prediction sets of each task."""
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
            task_key = key(data)
            if task_key is None:
                continue  # a task imported by other means: not ours to count
            state.tasks.setdefault(task_key, []).append(task["id"])
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


@dataclass(frozen=True)
class Copies:
    """What an interrupted or concurrent import left twice in a project, to delete."""

    tasks: list[int] = field(default_factory=list)  # unannotated copies of an article's task
    predictions: list[int] = field(default_factory=list)  # second prediction sets of a version
    kept: list[str] = field(default_factory=list)  # article ids with more than one annotated task (kept)


def find_copies(state: ProjectState) -> Copies:
    """The copies in ``state``: an article keeps its annotated tasks (else its first), a task one
    prediction set per model version."""
    copies = Copies()
    for article_id, task_ids in state.tasks.items():
        if len(task_ids) > 1:
            annotated = [task for task in task_ids if task in state.annotated]
            keep = annotated or [min(task_ids)]
            copies.tasks.extend(task for task in task_ids if task not in keep)
            if len(annotated) > 1:
                copies.kept.append(article_id)
    dropped = set(copies.tasks)
    for task_id, versions in state.predictions.items():
        if task_id in dropped:
            continue
        for ids in versions.values():
            copies.predictions.extend(sorted(ids)[1:])
    return copies


# --- batches -------------------------------------------------------------------------


def encode(body: dict[str, Any], max_bytes: int) -> bytes:
    """One import item as JSON, encoded once; InputError when it alone is over the request size limit."""
    encoded = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    if len(encoded) + 2 > max_bytes:
        article_id = body.get("data", {}).get("article_id") or body.get("task")
        raise InputError(
            f"article {article_id!r} alone is {len(encoded) / 1e6:.2f} MB as an import request, "
            f"over push.max_request_mb ({max_bytes / 1e6:g} MB); nothing was pushed",
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


_END: Any = object()
T = TypeVar("T")


def ahead(batches: Iterable[T]) -> Iterator[T]:
    """The batches, the next one prepared (its items encoded) in a thread while the caller sends this one.

    The server works on one request while this process encodes the next: on two cores the
    encoding then costs nothing. One thread at a time advances ``batches``.
    """
    from concurrent.futures import ThreadPoolExecutor

    iterator = iter(batches)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="toolkit-encode") as pool:
        coming = pool.submit(next, iterator, _END)
        while (batch := coming.result()) is not _END:
            coming = pool.submit(next, iterator, _END)
            yield batch


def _body(batch: list[tuple[Any, bytes]]) -> bytes:
    return b"[" + b",".join(encoded for _, encoded in batch) + b"]"


# --- writes --------------------------------------------------------------------------


def write_once_then_check(send: Callable[[], Any], landed: Callable[[], Any | None], action: str) -> Any:
    """Send a write once; when the failure leaves it unknown whether it landed, look, then resend.

    ``landed()`` returns the written thing (or a truthy summary) when it is on the server.
    """
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

    first = True
    for attempt in Retrying(
        stop=stop_after_attempt(WRITE_ATTEMPTS),
        wait=wait_exponential(min=RETRY_WAIT_MIN, max=RETRY_WAIT_MAX),
        retry=retry_if_exception(transient),
        reraise=True,
    ):
        with attempt:
            if not first:
                found = landed()
                if found is not None:
                    return found
            first = False
            return send()
    raise AssertionError(f"unreachable: {action}")  # pragma: no cover - Retrying reraises


@dataclass(frozen=True)
class ImportedBatch:
    """One batch on the server: how many items it held, and (for tasks) the ids of its tasks."""

    items: int
    task_ids: list[int] = field(default_factory=list)


def import_tasks(
    client: LabelStudio,
    settings: ServerSettings,
    project_id: int,
    items: Iterable[tuple[str, bytes]],
    *,
    batch_size: int,
    max_bytes: int,
    key: Callable[[dict[str, Any]], str | None] = article_key,
) -> Iterator[ImportedBatch]:
    """Import (key, encoded task) items in batches; yields each batch once it is on the server.

    A batch whose fate is unknown is looked up by key (``key`` of a task's data, the
    article id by default): only its tasks that did not land are sent again.
    """
    path = f"api/projects/{project_id}/import?return_task_ids=true"
    for batch in ahead(iter_batches(items, size=batch_size, max_bytes=max_bytes)):
        pending = batch
        task_ids: list[int] = []

        def send() -> Any:
            body = _body(pending)
            try:
                answer = call(settings, "import tasks", post_json, client, path, body)
            except ServerError as error:
                if error.status != 413:
                    raise
                raise ServerError(
                    f"{error.message}: {len(pending):,} tasks, {len(body) / 1e6:.1f} MB",
                    hint=f"set push.max_request_mb below {len(body) / 1e6:.1f} (the server's limit is its "
                    "DATA_UPLOAD_MAX_MEMORY_SIZE), or lower push.batch_size",
                    status=413,
                ) from None
            task_ids.extend((answer or {}).get("task_ids") or [])
            return answer

        def landed() -> int | None:
            nonlocal pending
            held = read_state(client, settings, project_id, key=key).tasks
            # The landed part's ids are not in any answer: take its tasks as found.
            task_ids.extend(min(held[article_id]) for article_id, _ in pending if article_id in held)
            pending = [(article_id, item) for article_id, item in pending if article_id not in held]
            return None if pending else 0

        write_once_then_check(send, landed, "import tasks")
        yield ImportedBatch(len(batch), task_ids)


def import_predictions(
    client: LabelStudio,
    settings: ServerSettings,
    project_id: int,
    items: Iterable[tuple[tuple[int, str], bytes]],
    *,
    batch_size: int,
    max_bytes: int,
) -> Iterator[ImportedBatch]:
    """Import ((task id, model version), encoded prediction set) items in batches (the bulk
    predictions import); yields each batch once it is on the server.

    A batch whose fate is unknown is looked up: only the sets the tasks lack are sent again.
    """
    path = f"api/projects/{project_id}/import/predictions"
    for batch in ahead(iter_batches(items, size=batch_size, max_bytes=max_bytes)):
        pending = batch

        def send() -> Any:
            return call(settings, "import predictions", post_json, client, path, _body(pending))

        def landed() -> int | None:
            nonlocal pending
            held = read_state(client, settings, project_id).predictions
            pending = [(key, item) for key, item in pending if key[1] not in held.get(key[0], {})]
            return None if pending else 0

        write_once_then_check(send, landed, "import predictions")
        yield ImportedBatch(len(batch))


def delete_task(client: LabelStudio, settings: ServerSettings, task_id: int) -> bool:
    """Delete a duplicate task; False when it is gone already (a concurrent push deleted it: its goal too)."""
    return _delete(settings, "delete a duplicate task", client.tasks.delete, task_id)


def delete_prediction(client: LabelStudio, settings: ServerSettings, prediction_id: int) -> bool:
    """Delete a duplicate prediction set; False when it is gone already."""
    return _delete(settings, "delete a duplicate prediction set", client.predictions.delete, prediction_id)


def _delete(settings: ServerSettings, action: str, delete: Callable[..., Any], item_id: int) -> bool:
    try:
        call(settings, action, delete, id=item_id, request_options=NO_RETRY)
    except ServerError as error:
        if error.status == 404:
            return False
        raise
    return True
