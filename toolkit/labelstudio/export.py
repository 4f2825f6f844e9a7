"""The project's export: downloaded with retries of our own, streamed to a gzip file, read back as a stream.

The SDK's ``max_retries`` does not cover a streamed body, so the whole download is tried
again on a broken connection, a timeout or a 5xx, a bounded number of times.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit import hooks
from toolkit.errors import InputError, ServerError
from toolkit.io.atomic import private_file
from toolkit.labelstudio.client import ServerSettings, describe_api_error, transient
from toolkit.progress import OnProgress, emit

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

CHUNK = 1 << 20


@dataclass(frozen=True)
class Download:
    path: Path
    sha256: str  # of the export as the server sent it (the file holds it gzip-compressed)
    size: int
    attempts: int
    seconds: float


def download_export(
    client: LabelStudio,
    settings: ServerSettings,
    project_id: int,
    dest: Path,
    *,
    timeout: float,
    retries: int,
    route: str = "direct",
    on_progress: OnProgress | None = None,
) -> Download:
    """Export the project and stream it, gzip-compressed, to ``dest``.

    Both routes give every task (annotated or not) with all its annotations (skipped
    ones too) and drafts expanded. ``direct`` is the project's export endpoint (the
    server keeps a copy of each export in its data folder; predictions come as ids, and
    each annotation carries the prediction it was shown); ``snapshot`` creates an export
    snapshot with predictions expanded and deletes it after the download (slower on the
    server: it loads predictions task by task). On a broken connection, a timeout or a
    5xx the whole export is tried again, ``retries`` more times, with growing pauses.
    Progress: the bytes received, as phase "download".
    """
    import tenacity

    started = datetime.now(timezone.utc)
    on_chunk = hooks.current().download_chunk
    attempts = 0
    options = {"timeout": timeout, "max_retries": 0, "chunk_size": CHUNK}

    def direct() -> tuple[str, int]:
        chunks = client.projects.exports.download_sync(
            id=project_id, export_type="JSON", download_all_tasks=True, request_options=options
        )
        return _stream_to(chunks, dest, on_chunk, on_progress)

    def snapshot() -> tuple[str, int]:
        created = client.projects.exports.create(
            id=project_id,
            title=f"toolkit pull {started:%Y-%m-%dT%H:%M:%SZ}",
            serialization_options={
                "predictions": {"only_id": False},
                "drafts": {"only_id": False},
                "annotations__completed_by": {"only_id": True},
            },
            request_options={"timeout": timeout, "max_retries": 0},
        )
        try:
            _wait_for_snapshot(client, project_id, created, timeout)
            chunks = client.projects.exports.download(
                id=project_id, export_pk=created.id, export_type="JSON", request_options=options
            )
            return _stream_to(chunks, dest, on_chunk, on_progress)
        finally:
            try:  # the snapshot file is ours: do not leave one per pull on the server
                client.projects.exports.delete(id=project_id, export_pk=created.id, request_options={"max_retries": 0})
            except Exception:  # noqa: BLE001 - cleanup only; the pull itself succeeded or failed already
                pass

    def attempt() -> tuple[str, int]:
        nonlocal attempts
        attempts += 1
        return snapshot() if route == "snapshot" else direct()

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=tenacity.wait_exponential(multiplier=1, min=1, max=30),
        # A ServerError raised here is the export's own verdict (it did not finish, or failed): final.
        retry=tenacity.retry_if_exception(lambda error: transient(error) and not isinstance(error, ServerError)),
        reraise=True,
    )
    try:
        sha256, size = retrying(attempt)
    except ServerError:
        raise
    except Exception as error:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        if isinstance(error, (ApiError, httpx.HTTPError)):
            failed = describe_api_error(error, settings, f"export project {project_id} (after {attempts} attempts)")
            failed.hint = failed.hint or "try again later, or raise pull.timeout / pull.retries in the config"
            raise failed from None
        raise
    seconds = (datetime.now(timezone.utc) - started).total_seconds()
    return Download(dest, sha256, size, attempts, seconds)


def _wait_for_snapshot(client: LabelStudio, project_id: int, created: Any, timeout: float) -> None:
    status = created.status
    deadline = time.time() + timeout
    while status in ("created", "in_progress"):  # Community writes it before answering; others poll
        if time.time() > deadline:
            raise ServerError(
                f"the export of project {project_id} did not finish in {timeout:g} s",
                hint="raise pull.timeout in the config",
            )
        time.sleep(1)
        status = client.projects.exports.get(id=project_id, export_pk=created.id).status
    if status != "completed":
        raise ServerError(f"Label Studio could not export project {project_id} (status {status})")


def _stream_to(
    chunks: Any, dest: Path, on_chunk: Callable[[], None], on_progress: OnProgress | None
) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    temporary = dest.with_name(f".{dest.name}.part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Level 1: the download is read once, right after; speed matters more than size here.
        with private_file(temporary) as raw_file, gzip.GzipFile(fileobj=raw_file, mode="wb", compresslevel=1) as handle:
            for chunk in chunks:
                digest.update(chunk)
                handle.write(chunk)
                size += len(chunk)
                on_chunk()
                emit(on_progress, "download", len(chunk))
        os.replace(temporary, dest)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def iter_tasks(path: Path) -> Iterator[dict[str, Any]]:
    """The tasks of an export kept as gzip-compressed JSON, parsed as a stream (memory stays flat)."""
    import ijson

    try:
        with gzip.open(path, "rb") as handle:
            for task in ijson.items(handle, "item", use_float=True):
                if not isinstance(task, dict):
                    raise InputError(f"{path}: the export holds a {type(task).__name__} where a task belongs")
                yield task
    except (ijson.JSONError, ijson.IncompleteJSONError) as error:
        raise InputError(f"{path}: the export is not valid JSON ({error})") from None
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{path}: cannot read the raw pull ({error})") from None
