"""Pull human annotations from Label Studio: every human decision accounted for.

The project is exported (all tasks, with skipped annotations and drafts expanded) and
streamed to a hidden gzip file under ``pull.state_dir`` (``toolkit.labelstudio.export``).
The file is then parsed as a stream, task by task: each task is stripped of annotator
names and emails, kept in the raw pull (``toolkit.pull.raw``) and processed
(``toolkit.pull.tasks``). Two files are written (``toolkit.pull.output``): the annotated
articles and the ledger next to them: every span of every annotation is in one or the
other, with its reason. The downloaded file is removed at the end; the raw pull and its
manifest only exist once the output and ledger do.

Incremental pulls: Label Studio Community cannot filter its export by ``updated_at``,
so every pull downloads the whole export. The state of the previous pull (a watermark
and a fingerprint per task, ``toolkit.pull.state``) says which tasks are new, changed,
unchanged or deleted; the result is derived from the complete export (unchanged tasks
give the same records as before), and deleted tasks are reported in the ledger and dropped.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from toolkit.annotations.identities import AnnotatorIds, annotator_secret, strip_identities
from toolkit.config import Config
from toolkit.errors import OutputError
from toolkit.io.locks import output_lock
from toolkit.labelstudio.client import ServerSettings, connect, public_url
from toolkit.labelstudio.export import Download, download_export, iter_tasks
from toolkit.labelstudio.project import project_dir, require_project
from toolkit.labelstudio.results import ArticleControls, article_controls
from toolkit.progress import OnProgress, emit
from toolkit.pull.decisions import Adjudications, read_adjudications
from toolkit.pull.output import open_output
from toolkit.pull.raw import RawWriter, kept_adjudications, read_manifest, stamp, write_manifest
from toolkit.pull.state import PullState
from toolkit.pull.summary import PullCounts, PullSummary
from toolkit.pull.tasks import TaskProcessor
from toolkit.records import LedgerEntry, ledger_path

# Tasks read between two progress events.
PROGRESS_EVERY = 100


@dataclass(frozen=True)
class _Source:
    """Where a pull's tasks come from: a fresh download, or a kept raw pull replayed."""

    raw_path: Path
    project_id: int | None
    server: str  # without credentials
    controls: ArticleControls
    download: Download | None = None  # None: a replay, which touches no state
    folder: Path | None = None  # the project's folder under pull.state_dir, for a download
    note: str | None = None
    # The review project's tasks (``toolkit adjudicate``); None: no review project. A replay
    # takes those its raw pull's manifest keeps.
    adjudications: Adjudications | None = None
    decisions_kept: bool = True  # False: a replay of a raw pull kept without the decisions


def pull(
    *,
    config: Config,
    settings: ServerSettings | None,
    out: Path,
    full: bool = False,
    from_raw: Path | None = None,
    on_progress: OnProgress | None = None,
) -> PullSummary:
    """Pull the project into ``out`` (annotated articles) and its ledger; returns the totals.

    ``from_raw`` re-derives the output from a kept raw pull (its ``.json.gz``) without
    contacting the server; ``full`` ignores the previous pull's state. Progress: a note
    while exporting, the bytes downloaded (phase "download"), the tasks read ("tasks").
    """
    # Held to the end: two pulls into one file could pair one's output with the other's ledger.
    with output_lock(out, what="annotations file"):
        summary = _pull_locked(
            config=config, settings=settings, out=out, full=full, from_raw=from_raw, on_progress=on_progress
        )
        # The pulled decisions on the current model's predictions: its calibration refitted
        # (imported here: it reads the model registry and may load the model).
        from toolkit.pull.refit import refit_calibration

        summary.calibration = refit_calibration(config, out, on_progress=on_progress)
        return summary


def _pull_locked(
    *,
    config: Config,
    settings: ServerSettings | None,
    out: Path,
    full: bool,
    from_raw: Path | None,
    on_progress: OnProgress | None,
) -> PullSummary:
    secret = annotator_secret(config.pull.secret_file)
    started = datetime.now(timezone.utc)
    _check_writable(out)
    if from_raw is not None:
        source = _replay(from_raw, config)
    else:
        assert settings is not None
        source = _download(config, settings, started, AnnotatorIds(secret), on_progress)
    writer: RawWriter | None = None
    try:
        if source.download is not None and source.folder is not None and config.pull.keep_raw:
            writer = RawWriter(source.folder / "raw" / f"{stamp(started)}.json.gz")
        summary = _derive(
            config, out, source, writer, full=full, secret=secret, started=started, on_progress=on_progress
        )
    except BaseException:
        if writer is not None:
            writer.discard()
        raise
    finally:
        if source.download is not None:
            source.download.path.unlink(missing_ok=True)
    if source.note:
        summary.note = source.note
    if not source.decisions_kept and summary.counts.disputed:
        summary.note = (
            (summary.note + "; " if summary.note else "")
            + "this raw pull was kept without the review project's decisions (by an older version): "
            + (
                "1 disputed article takes"
                if summary.counts.disputed == 1
                else f"{summary.counts.disputed:,} disputed articles take"
            )
            + " the policy's answer here, whatever was adjudicated"
        )
    return summary


def _check_writable(out: Path) -> None:
    """Fail before the download when the output folder cannot take the output and its ledger."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".probe", dir=out.parent)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror})") from None


def _replay(raw: Path, config: Config) -> _Source:
    manifest = read_manifest(raw, config)
    project = manifest["project"]
    note = None
    if not project.get("title"):
        note = "the raw pull's manifest does not name its project: not checked against the config's"
    adjudications, kept = kept_adjudications(manifest, raw)
    return _Source(
        raw_path=raw,
        project_id=project.get("id"),
        server=manifest.get("server", ""),
        controls=ArticleControls.from_dict(manifest.get("controls")),
        note=note,
        adjudications=adjudications,
        decisions_kept=kept,
    )


def _download(
    config: Config, settings: ServerSettings, started: datetime, ids: AnnotatorIds, on_progress: OnProgress | None
) -> _Source:
    emit(on_progress, "export", note="Exporting the project")
    # No whoami check: finding the project is the first request and fails the same way.
    client = connect(settings, timeout=config.pull.timeout, check=False)
    project = require_project(client, settings, config)
    folder = project_dir(config.pull.state_dir, settings.url, project.id)
    # Read before the export: a decision submitted while the export runs is taken by the next pull.
    adjudications = read_adjudications(
        client, settings, config, ids, folder / "raw" / f".{stamp(started)}.review-export.json.gz", project.id
    )
    # The export as the server sent it lives only during the pull: what is kept is
    # written task by task, without names and emails.
    download = download_export(
        client,
        settings,
        project.id,
        folder / "raw" / f".{stamp(started)}.export.json.gz",
        timeout=config.pull.timeout,
        retries=config.pull.retries,
        route=config.pull.export,
        on_progress=on_progress,
    )
    return _Source(
        raw_path=download.path,
        project_id=project.id,
        server=public_url(settings.url),
        controls=article_controls(getattr(project, "label_config", None)),
        download=download,
        folder=folder,
        adjudications=adjudications,
    )


def _settings_fingerprint(config: Config, secret: bytes) -> str:
    """What shapes the records: when it changed since the last pull, every task is re-derived."""
    shaping = {
        "labels": config.labels,
        "pull": config.pull.model_dump(
            mode="json", exclude={"state_dir", "secret_file", "timeout", "retries", "keep_raw"}
        ),
        "secret": hashlib.sha256(secret).hexdigest(),
    }
    return hashlib.sha256(json.dumps(shaping, sort_keys=True).encode()).hexdigest()[:16]


def _derive(
    config: Config,
    out: Path,
    source: _Source,
    writer: RawWriter | None,
    *,
    full: bool,
    secret: bytes,
    started: datetime,
    on_progress: OnProgress | None,
) -> PullSummary:
    """Read the tasks of ``source`` into the output and its ledger (and the kept raw pull into ``writer``)."""
    processor = TaskProcessor(
        config=config,
        ids=AnnotatorIds(secret),
        controls=source.controls,
        adjudications=source.adjudications.by_task if source.adjudications is not None else None,
    )
    state_file = source.folder / "state.json" if source.folder is not None else None
    previous = None if full or state_file is None else PullState.load(state_file)
    counts = PullCounts()
    summary = PullSummary(
        project_id=source.project_id,
        server=source.server,
        out=out,
        ledger=ledger_path(out),
        policy=config.pull.policy,
        counts=counts,
        mode="incremental" if previous else "full",
    )
    if previous:
        summary.previous_watermark = previous.watermark
        summary.previous_pulled_at = previous.pulled_at
    new_state = PullState(pulled_at=started.isoformat(), settings=_settings_fingerprint(config, secret))
    replaced: set[int] = set()  # ids of deleted tasks that new ones got
    if source.adjudications is not None:
        summary.warnings.extend(source.adjudications.warnings)
    tasks_of: dict[str, list[int]] = {}  # article id -> the tasks it has records of
    with open_output(out) as output:
        for task in iter_tasks(source.raw_path):
            # Stripped before use, so that a replay of the kept raw pull gives the same output.
            task = strip_identities(task)
            if writer is not None:
                writer.add(task)
            outcome = processor(task)
            counts.merge(outcome.counts)
            if outcome.records:
                tasks_of.setdefault(outcome.article_id, []).append(task["id"])
            new_state.add(task)
            if previous is not None:
                change = previous.change(task["id"], new_state)
                if change == "replaced":
                    replaced.add(task["id"])
                summary.new += change in ("new", "replaced")
                summary.changed += change == "changed"
                summary.unchanged += change == "unchanged"
            output.write(outcome.records, outcome.ledger)
            if counts.tasks % PROGRESS_EVERY == 0:
                emit(on_progress, "tasks", PROGRESS_EVERY)
        if previous is not None:
            summary.deleted_tasks = sorted((set(previous.tasks) - set(new_state.tasks)) | replaced)
            output.write(
                [],
                (
                    LedgerEntry(
                        kind="task_deleted",
                        reason="pulled before, gone from Label Studio now",
                        task_id=task_id,
                        article_id=previous.articles.get(task_id),
                    )
                    for task_id in summary.deleted_tasks
                ),
            )
            summary.deleted = len(summary.deleted_tasks)
            if previous.settings != new_state.settings:
                summary.note = (
                    "labels, pull policy or annotator secret changed since the last pull: all tasks re-derived"
                )
    summary.warnings.extend(_shared_ids(tasks_of))
    summary.ledger_entries = output.ledger_entries
    summary.watermark = new_state.watermark
    if previous is None and source.download is not None:
        summary.new = counts.tasks
    if source.download is not None and state_file is not None:
        _keep(config, out, source, writer, summary, new_state, started)
        new_state.save(state_file)
    return summary


def _shared_ids(tasks_of: dict[str, list[int]]) -> list[str]:
    """One warning per article id with records from several tasks (export refuses them)."""
    return [
        f"wrote {len(tasks):,} records for article id {article_id!r}, one per Label Studio task "
        f"({', '.join(map(str, tasks))}): export refuses them until each task has its own data.article_id "
        "(change it in Label Studio, then pull again)"
        for article_id, tasks in tasks_of.items()
        if len(tasks) > 1
    ]


def _keep(
    config: Config,
    out: Path,
    source: _Source,
    writer: RawWriter | None,
    summary: PullSummary,
    state: PullState,
    started: datetime,
) -> None:
    """After the output is in place: the raw pull (when kept) and the manifest of the download."""
    download = source.download
    assert download is not None
    summary.sha256 = download.sha256
    summary.download_attempts, summary.download_seconds = download.attempts, download.seconds
    if writer is not None:
        writer.commit()
        summary.raw = writer.path
    manifest = source.raw_path.parent / f"{stamp(started)}.manifest.json"
    write_manifest(
        manifest,
        started=started,
        server=source.server,
        project_id=source.project_id,
        config=config,
        controls=source.controls,
        download=download,
        writer=writer,
        counts=summary.counts,
        ledger_entries=summary.ledger_entries,
        watermark=state.watermark,
        out=out,
        adjudications=source.adjudications.by_task if source.adjudications is not None else None,
    )
    summary.manifest = manifest


__all__ = ["PullSummary", "pull"]
