"""Pull human annotations from Label Studio: every human decision accounted for.

The project is exported (all tasks, with skipped annotations and drafts expanded),
streamed to a hidden gzip file under ``pull.state_dir`` while its SHA-256 is computed,
with bounded retries of our own around the whole download (the SDK's ``max_retries``
does not cover a streamed body). The file is then parsed as a stream with ijson, task by
task: each task is stripped of annotator names and emails, kept in the raw pull
(``pull_state.RawWriter``) and processed (``toolkit.pull.tasks``). Two files are
written: the annotated articles (``--out``) and the ledger next to them
(``records.ledger_path``): every span of every annotation is in one or the other, with
its reason. The downloaded file is removed at the end; the raw pull and its manifest
only exist once the output and ledger do.

Incremental pulls: Label Studio Community cannot filter its export by ``updated_at``,
so every pull downloads the whole export. The state of the previous pull (a watermark
and a fingerprint per task) says which tasks are new, changed, unchanged or deleted;
the merged result is derived from the complete export (unchanged tasks give the same
records as before), and deleted tasks are reported in the ledger and dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit._testing.faults import DownloadFailures, InjectedFailure
from toolkit.config import Config
from toolkit.errors import InputError, OutputError, ProjectError, ServerError
from toolkit.io.hashing import sha256_file
from toolkit.labelstudio.client import ServerSettings, describe_api_error, public_url
from toolkit.pull.spans import ArticleControls, article_controls
from toolkit.pull.state import (
    IDENTITIES_REMOVED,
    PullState,
    RawWriter,
    annotator_secret,
    private_file,
    project_dir,
    strip_identities,
    write_json,
)
from toolkit.pull.tasks import (  # noqa: F401 - re-exported for callers of the old module
    AnnotatorIds,
    PullCounts,
    TaskProcessor,
    choose_annotation,
    task_fingerprint,
    task_watermark,
)
from toolkit.records import AnnotatedArticle, LedgerEntry, ledger_path

Progress = Callable[[str, int, "int | None"], None]
# Test hook: make the first N download attempts fail half-way, to exercise the retries
# against a real server.
CHUNK = 1 << 20


@dataclass
class Download:
    path: Path
    sha256: str
    size: int
    attempts: int
    seconds: float


@dataclass
class PullSummary:
    """What one pull did; ``as_dict`` is what ``toolkit pull --json`` prints."""

    project_id: int | None
    server: str
    out: Path
    ledger: Path
    policy: str
    counts: PullCounts
    mode: str = "full"  # full | incremental
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    deleted_tasks: list[int] = field(default_factory=list)
    watermark: str = ""
    previous_watermark: str = ""
    ledger_entries: int = 0
    raw: Path | None = None
    manifest: Path | None = None
    sha256: str | None = None
    download_attempts: int = 0
    download_seconds: float = 0.0
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "server": self.server,
            "out": str(self.out),
            "ledger": str(self.ledger),
            "policy": self.policy,
            "mode": self.mode,
            "tasks": {"new": self.new, "changed": self.changed, "unchanged": self.unchanged, "deleted": self.deleted},
            "deleted_tasks": self.deleted_tasks,
            "watermark": self.watermark,
            "previous_watermark": self.previous_watermark,
            "ledger_entries": self.ledger_entries,
            "raw": str(self.raw) if self.raw else None,
            "manifest": str(self.manifest) if self.manifest else None,
            "sha256": self.sha256,
            "download_attempts": self.download_attempts,
            "note": self.note,
            "counts": self.counts.as_dict(),
        }


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _transient(error: BaseException) -> bool:
    """Worth another attempt: the connection broke, timed out, or the server answered 5xx/429/408."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(error, ApiError):
        return error.status_code is not None and (error.status_code >= 500 or error.status_code in (408, 429))
    return isinstance(error, (httpx.TransportError, InjectedFailure))


def download_export(
    client: Any,
    settings: ServerSettings,
    project_id: int,
    dest: Path,
    *,
    timeout: float,
    retries: int,
    route: str = "direct",
    on_progress: Progress | None = None,
) -> Download:
    """Export the project and stream it, gzip-compressed, to ``dest``.

    Both routes give every task (annotated or not) with all its annotations (skipped
    ones too) and drafts expanded. ``direct`` is the project's export endpoint (the
    server keeps a copy of each export in its data folder; predictions come as ids, and
    each annotation carries the prediction it was shown); ``snapshot`` creates an export
    snapshot with predictions expanded and deletes it after the download (slower on the
    server: it loads predictions task by task). On a broken connection, a timeout or a
    5xx the whole export is tried again, ``retries`` more times, with growing pauses.
    """
    import tenacity

    started = _now()
    failures = DownloadFailures()
    attempts = [0]
    options = {"timeout": timeout, "max_retries": 0, "chunk_size": CHUNK}

    def direct() -> tuple[str, int]:
        attempts[0] += 1
        chunks = client.projects.exports.download_sync(
            id=project_id, export_type="JSON", download_all_tasks=True, request_options=options
        )
        return _stream_to(chunks, dest, failures, on_progress)

    def snapshot() -> tuple[str, int]:
        attempts[0] += 1
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
            status = created.status
            deadline = _now().timestamp() + timeout
            while status in ("created", "in_progress"):  # Community writes it before answering; others poll
                if _now().timestamp() > deadline:
                    raise ServerError(
                        f"the export of project {project_id} did not finish in {timeout:g} s",
                        hint="raise pull.timeout in the config",
                    )
                import time

                time.sleep(1)
                status = client.projects.exports.get(id=project_id, export_pk=created.id).status
            if status != "completed":
                raise ServerError(f"Label Studio could not export project {project_id} (status {status})")
            chunks = client.projects.exports.download(
                id=project_id, export_pk=created.id, export_type="JSON", request_options=options
            )
            return _stream_to(chunks, dest, failures, on_progress)
        finally:
            try:  # the snapshot file is ours: do not leave one per pull on the server
                client.projects.exports.delete(id=project_id, export_pk=created.id, request_options={"max_retries": 0})
            except Exception:  # noqa: BLE001 - cleanup only; the pull itself succeeded or failed already
                pass

    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(retries + 1),
        wait=tenacity.wait_exponential(multiplier=1, min=1, max=30),
        retry=tenacity.retry_if_exception(_transient),
        reraise=True,
    )
    try:
        sha256, size = retrying(snapshot if route == "snapshot" else direct)
    except InjectedFailure:
        raise ServerError(f"the export download broke off {attempts[0]} times (test hook)") from None
    except ServerError:
        raise
    except Exception as error:
        import httpx
        from label_studio_sdk.core.api_error import ApiError

        if isinstance(error, (ApiError, httpx.HTTPError)):
            failed = describe_api_error(error, settings, f"export project {project_id} (after {attempts[0]} attempts)")
            failed.hint = failed.hint or "try again later, or raise pull.timeout / pull.retries in the config"
            raise failed from None
        raise
    return Download(dest, sha256, size, attempts[0], (_now() - started).total_seconds())


def _stream_to(chunks: Any, dest: Path, failures: DownloadFailures, on_progress: Progress | None) -> tuple[str, int]:
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
                failures.check()
                if on_progress:
                    on_progress("download", size, None)
        os.replace(temporary, dest)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size


def iter_tasks(path: Path) -> Iterator[dict[str, Any]]:
    """The tasks of a raw pull, parsed as a stream (memory stays flat on large projects)."""
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


def _settings_fingerprint(config: Config, secret: bytes) -> str:
    shaping = {
        "labels": config.labels,
        "pull": config.pull.model_dump(
            mode="json", exclude={"state_dir", "secret_file", "timeout", "retries", "keep_raw"}
        ),
        "secret": hashlib.sha256(secret).hexdigest(),
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def _file_sha256(path: Path) -> str | None:
    try:
        return sha256_file(path)
    except OSError:
        return None


def pull(
    *,
    config: Config,
    settings: ServerSettings | None,
    out: Path,
    full: bool = False,
    from_raw: Path | None = None,
    on_progress: Progress | None = None,
) -> PullSummary:
    """Pull the project into ``out`` (annotated articles) and its ledger; returns the totals.

    ``from_raw`` re-derives the output from a kept raw pull (its ``.json.gz``) without
    contacting the server; ``full`` ignores the previous pull's state.
    """
    pull_config = config.pull
    secret = annotator_secret(pull_config.secret_file)
    ids = AnnotatorIds(secret)
    counts = PullCounts()
    started = _now()
    stamp = _stamp(started)

    download: Download | None = None
    project_id: int | None = None
    server = public_url(settings.url) if settings else ""
    state_file: Path | None = None
    writer: RawWriter | None = None
    manifest: dict[str, Any] = {}
    _check_writable(out)
    if from_raw is not None:
        manifest = _read_manifest(from_raw, config)
        project_id, server = manifest.get("project", {}).get("id"), manifest.get("server", "")
        raw_path = from_raw
        controls = ArticleControls.from_dict(manifest.get("controls"))
        full = True  # a replay does not touch the incremental state
    else:
        assert settings is not None
        from toolkit.push.run import find_project

        client = _client(settings, timeout=pull_config.timeout)
        project = find_project(client, settings, config)
        if project is None:
            raise ProjectError(
                f"no project titled {config.project.title!r} on {settings.url}",
                hint="push articles first: `toolkit push FILE.jsonl --config CONFIG`",
            )
        project_id = project.id
        controls = article_controls(getattr(project, "label_config", None))
        folder = project_dir(pull_config.state_dir, settings.url, project.id)
        state_file = folder / "state.json"
        # The export as the server sent it lives only during the pull: what is kept is
        # written task by task below, without names and emails.
        raw_path = folder / "raw" / f".{stamp}.export.json.gz"
        download = download_export(
            client,
            settings,
            project.id,
            raw_path,
            timeout=pull_config.timeout,
            retries=pull_config.retries,
            route=pull_config.export,
            on_progress=on_progress,
        )
    try:
        if download is not None and pull_config.keep_raw:
            writer = RawWriter(folder / "raw" / f"{stamp}.json.gz")
        summary = _derive(
            config=config,
            out=out,
            raw_path=raw_path,
            writer=writer,
            download=download,
            state_file=state_file,
            full=full,
            from_raw=from_raw,
            secret=secret,
            ids=ids,
            counts=counts,
            controls=controls,
            project_id=project_id,
            server=server,
            started=started,
            on_progress=on_progress,
        )
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        if download is not None:
            download.path.unlink(missing_ok=True)
    if from_raw is not None and not manifest["project"].get("title"):
        summary.note = "the raw pull's manifest does not name its project: not checked against the config's"
    return summary


def _stamp(started: datetime) -> str:
    """The name a pull's kept files share, from its start (UTC, to the millisecond)."""
    return f"{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z"


def _check_writable(out: Path) -> None:
    """Fail before the download when the output folder cannot take the output and its ledger."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=out.parent)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror})") from None


def _derive(
    *,
    config: Config,
    out: Path,
    raw_path: Path,
    writer: RawWriter | None,
    download: Download | None,
    state_file: Path | None,
    full: bool,
    from_raw: Path | None,
    secret: bytes,
    ids: AnnotatorIds,
    counts: PullCounts,
    controls: ArticleControls,
    project_id: int | None,
    server: str,
    started: datetime,
    on_progress: Progress | None,
) -> PullSummary:
    """Read the raw pull at ``raw_path`` into the output and its ledger (and the kept raw pull into ``writer``)."""
    pull_config = config.pull

    processor = TaskProcessor(labels=config.labels, pull=pull_config, ids=ids, counts=counts, controls=controls)
    previous = None if full or state_file is None else PullState.load(state_file)
    summary = PullSummary(
        project_id=project_id,
        server=server,
        out=out,
        ledger=ledger_path(out),
        policy=pull_config.policy,
        counts=counts,
        mode="incremental" if previous else "full",
    )
    if previous:
        summary.previous_watermark = previous.watermark
    new_state = PullState(pulled_at=started.isoformat(), settings=_settings_fingerprint(config, secret))

    from toolkit.io.atomic import atomic_output

    ledger_count = 0
    replaced: set[int] = set()
    with atomic_output(out) as records_file, atomic_output(summary.ledger) as ledger_file:

        def write_ledger(entry: LedgerEntry) -> None:
            nonlocal ledger_count
            ledger_file.write(entry.model_dump_json(exclude_none=True) + "\n")
            ledger_count += 1

        for task in iter_tasks(raw_path):
            # Stripped before use, so that a replay of the kept raw pull gives the same output.
            task = strip_identities(task)
            if writer is not None:
                writer.add(task)
            outcome = processor(task)
            task_id = task["id"]
            fingerprint = task_fingerprint(task)
            new_state.tasks[task_id] = fingerprint
            new_state.articles[task_id] = str((task.get("data") or {}).get("article_id") or f"ls-task-{task_id}")
            new_state.created[task_id] = str(task.get("created_at"))
            new_state.watermark = max(new_state.watermark, task_watermark(task))
            if previous is not None:
                before = previous.tasks.get(task_id)
                if (
                    before is not None
                    and previous.created.get(task_id, new_state.created[task_id]) != new_state.created[task_id]
                ):
                    replaced.add(task_id)  # the id of a deleted task, reused for a new one
                    before = None
                if before is None:
                    summary.new += 1
                elif before != fingerprint:
                    summary.changed += 1
                else:
                    summary.unchanged += 1
            for record in outcome.records:
                records_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            for entry in outcome.ledger:
                write_ledger(entry)
            if on_progress and counts.tasks % 100 == 0:
                on_progress("tasks", counts.tasks, None)
        if previous is not None:
            for task_id in sorted((set(previous.tasks) - set(new_state.tasks)) | replaced):
                summary.deleted_tasks.append(task_id)
                write_ledger(
                    LedgerEntry(
                        kind="task_deleted",
                        reason="pulled before, gone from Label Studio now",
                        task_id=task_id,
                        article_id=previous.articles.get(task_id),
                    )
                )
            summary.deleted = len(summary.deleted_tasks)
            if previous.settings != new_state.settings:
                summary.note = (
                    "labels, pull policy or annotator secret changed since the last pull: all tasks re-derived"
                )
    summary.ledger_entries = ledger_count
    summary.watermark = new_state.watermark
    if previous is None and from_raw is None:
        summary.new = counts.tasks

    if download is not None and state_file is not None:
        summary.sha256 = download.sha256
        summary.download_attempts, summary.download_seconds = download.attempts, download.seconds
        stored: dict[str, Any] | None = None
        if writer is not None:
            writer.commit()
            summary.raw = writer.path
            stored = {
                "file": writer.path.name,
                "bytes": writer.size,
                "sha256": writer.sha256.hexdigest(),
                "identities": IDENTITIES_REMOVED,
            }
        manifest_path = raw_path.parent / f"{_stamp(started)}.manifest.json"
        write_json(
            manifest_path,
            {
                "time": started.isoformat(),
                "server": server,
                "project": {"id": project_id, "title": config.project.title},
                "controls": controls.as_dict(),
                # The export as the server sent it (not kept: see "stored").
                "export": {
                    "format": "JSON",
                    "route": pull_config.export,
                    "bytes": download.size,
                    "sha256": download.sha256,
                    "attempts": download.attempts,
                },
                "stored": stored,
                "toolkit": __version__,
                "policy": pull_config.policy,
                "counts": {
                    "tasks": counts.tasks,
                    "annotations": counts.annotations,
                    "skipped_annotations": counts.skipped_annotations,
                    "drafts": counts.drafts,
                    "records": counts.records,
                    "spans_in": counts.spans_in,
                    "spans_out": counts.spans_out,
                    "ledger_entries": ledger_count,
                },
                "watermark": new_state.watermark,
                "output": str(out),
            },
        )
        summary.manifest = manifest_path
        new_state.output = str(out.resolve())
        new_state.output_sha256 = _file_sha256(out)
        new_state.ledger_sha256 = _file_sha256(summary.ledger)
        new_state.raw = str(writer.path) if writer is not None else None
        new_state.save(state_file)
    return summary


def _client(settings: ServerSettings, *, timeout: float) -> Any:
    """A client without ``connect``'s extra whoami request: finding the project is the
    first request and fails the same way (a ServerError naming the API key) when refused."""
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    try:
        return LabelStudio(base_url=settings.url, api_key=settings.api_key.get_secret_value(), timeout=timeout)
    except (ApiError, httpx.HTTPError) as error:
        raise describe_api_error(error, settings, "log in") from None


def _read_manifest(raw: Path, config: Config) -> dict[str, Any]:
    """The manifest of a kept raw pull, once the raw pull matches its SHA-256 and the config's project."""
    if not raw.is_file():
        raise InputError(f"{raw}: raw pull not found", hint="raw pulls are kept under pull.state_dir (*.json.gz)")
    manifest_path = raw.with_name(raw.name.removesuffix(".json.gz") + ".manifest.json")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{raw}: no manifest {manifest_path.name} next to it: its SHA-256 cannot be checked",
            hint="replay a raw pull from pull.state_dir, where each has its manifest",
        ) from None
    except (OSError, ValueError) as error:
        raise InputError(f"{manifest_path}: cannot read the manifest of {raw.name} ({error})") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_path}: not a manifest (a JSON object)")
    # A raw pull kept since identities are stripped is checked as stored; older ones as exported.
    stored = manifest.get("stored") if isinstance(manifest.get("stored"), dict) else {}
    expected = stored.get("sha256") or (manifest.get("export") or {}).get("sha256")
    if not isinstance(expected, str) or not expected:
        raise InputError(f"{manifest_path}: the manifest has no sha256 to check {raw.name} against")
    digest = hashlib.sha256()
    try:
        with gzip.open(raw, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{raw}: cannot read the raw pull ({error})") from None
    if digest.hexdigest() != expected:
        raise InputError(f"{raw}: the raw pull does not match the sha256 of its manifest {manifest_path.name}")
    project = manifest["project"] = manifest.get("project") if isinstance(manifest.get("project"), dict) else {}
    title, project_id = project.get("title"), project.get("id")
    if (title is not None and title != config.project.title) or (
        config.project.id is not None and project_id is not None and project_id != config.project.id
    ):
        raise InputError(
            f"{raw}: is a pull of project {project_id} {title!r} on {manifest.get('server') or 'an unknown server'}, "
            f"not of the config's project {config.project.id or config.project.title!r}",
            hint="replay it with the config of that project",
        )
    return manifest


def read_pulled(path: Path) -> Iterator[AnnotatedArticle]:
    """Read a pull's output back (for export and report)."""
    from toolkit.io.jsonl import read_records

    return read_records(path, AnnotatedArticle)


__all__ = ["PullCounts", "PullSummary", "download_export", "iter_tasks", "pull"]
