"""What a pull keeps between runs: the annotator secret, raw pulls with manifests, the watermark.

Layout under ``pull.state_dir`` (git-ignored), one folder per server and project::

    127.0.0.1_8080-project-3/
        state.json                              watermark, per-task fingerprints, the last output
        raw/20261129T020000Z.json.gz            the export exactly as downloaded, compressed
        raw/20261129T020000Z.manifest.json      time, server, project, counts, sha256

Label Studio Community cannot filter its export by ``updated_at``, so an incremental
pull downloads the whole export and compares each task's fingerprint with the state:
unchanged tasks keep the records of the previous output, changed and new ones are
pulled again, and tasks gone from the server are reported and dropped.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from toolkit.errors import OutputError

SECRET_VARIABLE = "TOOLKIT_ANNOTATOR_SECRET"
STATE_VERSION = 1


def public_url(url: str) -> str:
    """The server URL without user, password, query or fragment: safe to write down."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


def project_dir(state_dir: Path, url: str, project_id: int) -> Path:
    parts = urlsplit(url)
    server = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.hostname or 'server'}_{parts.port or ''}{parts.path}").strip("_")
    return state_dir / f"{server}-project-{project_id}"


def annotator_secret(path: Path) -> bytes:
    """The per-install secret behind annotator ids; created (mode 0600) on first use.

    ``TOOLKIT_ANNOTATOR_SECRET`` wins, so that a team can share ids across machines.
    """
    from_env = os.environ.get(SECRET_VARIABLE, "").strip()
    if from_env:
        return from_env.encode()
    try:
        return path.read_text(encoding="utf-8").strip().encode()
    except FileNotFoundError:
        pass
    except OSError as error:
        raise OutputError(f"{path}: cannot read the annotator secret ({error.strerror})") from None
    value = secrets.token_hex(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
    except FileExistsError:  # another pull created it meanwhile
        return path.read_text(encoding="utf-8").strip().encode()
    except OSError as error:
        raise OutputError(f"{path}: cannot create the annotator secret ({error.strerror})") from None
    return value.encode()


@dataclass
class PullState:
    """The previous pull of one project: enough to merge, and to report what changed."""

    watermark: str = ""
    tasks: dict[int, str] = field(default_factory=dict)  # task id -> fingerprint
    articles: dict[int, str] = field(default_factory=dict)  # task id -> article id
    # task id -> created_at: SQLite hands the id of a deleted last task to the next new one,
    # so an id alone does not say it is the same task.
    created: dict[int, str] = field(default_factory=dict)
    output: str | None = None  # the output file written (absolute path)
    output_sha256: str | None = None
    ledger_sha256: str | None = None
    settings: str | None = None  # fingerprint of what shapes records (labels, pull policy, secret)
    pulled_at: str | None = None
    raw: str | None = None

    @classmethod
    def load(cls, path: Path) -> PullState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a broken state means a full pull, never a failed one
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return cls(
            watermark=data.get("watermark") or "",
            tasks={int(k): v for k, v in (data.get("tasks") or {}).items()},
            articles={int(k): v for k, v in (data.get("articles") or {}).items()},
            created={int(k): v for k, v in (data.get("created") or {}).items()},
            output=data.get("output"),
            output_sha256=data.get("output_sha256"),
            ledger_sha256=data.get("ledger_sha256"),
            settings=data.get("settings"),
            pulled_at=data.get("pulled_at"),
            raw=data.get("raw"),
        )

    def save(self, path: Path) -> None:
        data = {
            "version": STATE_VERSION,
            "pulled_at": self.pulled_at,
            "watermark": self.watermark,
            "output": self.output,
            "output_sha256": self.output_sha256,
            "ledger_sha256": self.ledger_sha256,
            "settings": self.settings,
            "raw": self.raw,
            "tasks": {str(k): v for k, v in self.tasks.items()},
            "articles": {str(k): v for k, v in self.articles.items()},
            "created": {str(k): v for k, v in self.created.items()},
        }
        write_json(path, data)


def write_json(path: Path, data: Any) -> None:
    """Write JSON atomically (a kill half-way leaves the previous file)."""
    from toolkit.jsonl import atomic_output

    with atomic_output(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


def previous_lines(path: Path) -> dict[int, list[str]]:
    """The lines of a previous output or ledger file, by task id (lines kept verbatim)."""
    by_task: dict[int, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                by_task.setdefault(int(json.loads(line)["task_id"]), []).append(line if line.endswith("\n") else line + "\n")
    return by_task
