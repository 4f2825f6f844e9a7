"""Kept raw pulls: the export task by task, without names and emails, next to a manifest.

Every raw pull is written mode 0600 under ``pull.state_dir`` (see ``toolkit.pull.state``)
as ``<stamp>.json.gz`` with ``<stamp>.manifest.json``: time, server URL (without
credentials), project, counts, two SHA-256 and the review project's decisions the pull
took (``adjudications``, so that a replay takes them too). The raw pull is the server's export with
the identities Label Studio puts in it removed (``toolkit.annotations.identities``), so it is not
byte for byte what the server sent: ``export.sha256`` is of the export as downloaded (not
kept), ``stored.sha256`` of the stored JSON, which a replay (``--from-raw``) checks.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit.annotations.identities import IDENTITIES_REMOVED
from toolkit.config import Config
from toolkit.errors import InputError
from toolkit.io.atomic import private_file
from toolkit.labelstudio.export import CHUNK, Download
from toolkit.labelstudio.results import ArticleControls
from toolkit.pull.decisions import Adjudication, Adjudications
from toolkit.pull.state import write_json
from toolkit.pull.summary import PullCounts


def stamp(started: datetime) -> str:
    """The name a pull's kept files share, from its start (UTC, to the millisecond)."""
    return f"{started:%Y%m%dT%H%M%S}{started.microsecond // 1000:03d}Z"


def manifest_path(raw: Path) -> Path:
    return raw.with_name(raw.name.removesuffix(".json.gz") + ".manifest.json")


class RawWriter:
    """Writes the raw pull, task by task, as a gzip-compressed JSON array under a hidden
    temporary name; ``commit`` moves it into place, ``discard`` removes it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.temporary = path.with_name(f".{path.name}.part")
        self.sha256 = hashlib.sha256()
        self.size = 0
        self._file = private_file(self.temporary)
        # Level 1: the raw pull is kept for reproducibility; speed matters more than size here.
        self._gzip = gzip.GzipFile(fileobj=self._file, mode="wb", compresslevel=1)
        self._first = True
        self._write(b"[")

    def _write(self, data: bytes) -> None:
        self.sha256.update(data)
        self.size += len(data)
        self._gzip.write(data)

    def add(self, task: dict[str, Any]) -> None:
        self._write((b"" if self._first else b",\n") + json.dumps(task, ensure_ascii=False).encode("utf-8"))
        self._first = False

    def close(self) -> None:
        if not self._file.closed:
            self._write(b"]\n")
            self._gzip.close()
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()

    def commit(self) -> None:
        self.close()
        os.replace(self.temporary, self.path)

    def discard(self) -> None:
        try:
            self._gzip.close()
            self._file.close()
        except (OSError, ValueError):
            pass
        self.temporary.unlink(missing_ok=True)
        self.path.unlink(missing_ok=True)


def write_manifest(
    path: Path,
    *,
    started: datetime,
    server: str,
    project_id: int | None,
    config: Config,
    controls: ArticleControls,
    download: Download,
    writer: RawWriter | None,
    counts: PullCounts,
    ledger_entries: int,
    watermark: str,
    out: Path,
    adjudications: Mapping[int, Adjudication] | None = None,
) -> None:
    """The manifest of one pull: what was downloaded, what is kept (``writer``, when raw pulls are kept), the counts,
    and the decisions read from the review project (``adjudications``; None: there is none)."""
    stored: dict[str, Any] | None = None
    if writer is not None:
        stored = {
            "file": writer.path.name,
            "bytes": writer.size,
            "sha256": writer.sha256.hexdigest(),
            "identities": IDENTITIES_REMOVED,
        }
    write_json(
        path,
        {
            "time": started.isoformat(),
            "server": server,
            "project": {"id": project_id, "title": config.project.title},
            "controls": controls.as_dict(),
            # The export as the server sent it (not kept: see "stored").
            "export": {
                "format": "JSON",
                "route": config.pull.export,
                "bytes": download.size,
                "sha256": download.sha256,
                "attempts": download.attempts,
            },
            "stored": stored,
            "toolkit": __version__,
            "policy": config.pull.policy,
            "counts": {
                "tasks": counts.tasks,
                "annotations": counts.annotations,
                "skipped_annotations": counts.skipped_annotations,
                "drafts": counts.drafts,
                "records": counts.records,
                "spans_in": counts.spans_in,
                "spans_out": counts.spans_out,
                "ledger_entries": ledger_entries,
            },
            "watermark": watermark,
            "output": str(out),
            "adjudications": (
                None
                if adjudications is None
                else {str(main_task_id): one.as_dict() for main_task_id, one in adjudications.items()}
            ),
        },
    )


def kept_adjudications(manifest: dict[str, Any], raw: Path) -> tuple[Adjudications | None, bool]:
    """The decisions a raw pull's manifest keeps, by main task id (None: the pull had no review project) and
    whether it keeps them at all (False: kept by a version that did not keep decisions)."""
    if "adjudications" not in manifest:
        return None, False
    kept = manifest["adjudications"]
    if kept is None:
        return None, True
    try:
        by_task = {int(main_task_id): Adjudication.from_dict(one) for main_task_id, one in kept.items()}
    except (AttributeError, TypeError, ValueError) as error:
        raise InputError(f"{manifest_path(raw)}: the manifest's adjudications cannot be read ({error})") from None
    return Adjudications(by_task=by_task), True


def read_manifest(raw: Path, config: Config) -> dict[str, Any]:
    """The manifest of a kept raw pull, once the raw pull matches its SHA-256 and the config's project."""
    if not raw.is_file():
        raise InputError(f"{raw}: raw pull not found", hint="raw pulls are kept under pull.state_dir (*.json.gz)")
    manifest_file = manifest_path(raw)
    try:
        manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(
            f"{raw}: no manifest {manifest_file.name} next to it: its SHA-256 cannot be checked",
            hint="replay a raw pull from pull.state_dir, where each has its manifest",
        ) from None
    except (OSError, ValueError) as error:
        raise InputError(f"{manifest_file}: cannot read the manifest of {raw.name} ({error})") from None
    if not isinstance(manifest, dict):
        raise InputError(f"{manifest_file}: not a manifest (a JSON object)")
    # A raw pull kept since identities are stripped is checked as stored; older ones as exported.
    stored = manifest.get("stored") if isinstance(manifest.get("stored"), dict) else {}
    expected = stored.get("sha256") or (manifest.get("export") or {}).get("sha256")
    if not isinstance(expected, str) or not expected:
        raise InputError(f"{manifest_file}: the manifest has no sha256 to check {raw.name} against")
    digest = hashlib.sha256()
    try:
        with gzip.open(raw, "rb") as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b""):
                digest.update(chunk)
    except (OSError, EOFError, zlib.error) as error:
        raise InputError(f"{raw}: cannot read the raw pull ({error})") from None
    if digest.hexdigest() != expected:
        raise InputError(f"{raw}: the raw pull does not match the sha256 of its manifest {manifest_file.name}")
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
