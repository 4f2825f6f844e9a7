"""What a pull keeps between runs: the annotator secret, raw pulls with manifests, the watermark.

Layout under ``pull.state_dir`` (git-ignored), one folder per server and project::

    127.0.0.1_8080-project-3/
        state.json                              watermark, per-task fingerprints, the last output
        raw/20261129T020000Z.json.gz            the export, annotator names and emails removed, compressed
        raw/20261129T020000Z.manifest.json      time, server, project, counts, sha256s

Every file here is written mode 0600. The raw pull is the server's export task by task
with the identities Label Studio puts in it (a draft's ``user`` email and
``created_username``, any ``email``/``username``/name field) removed; Label Studio's
numeric user ids stay, since the anonymous annotator ids are derived from them. So the
manifest holds two SHA-256: ``export.sha256`` of the bytes the server sent (as
downloaded, not kept) and ``stored.sha256`` of the stored JSON, which a replay checks.

Label Studio Community cannot filter its export by ``updated_at``, so an incremental
pull downloads the whole export and compares each task's fingerprint with the state:
unchanged tasks keep the records of the previous output, changed and new ones are
pulled again, and tasks gone from the server are reported and dropped.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from toolkit.errors import OutputError

SECRET_VARIABLE = "TOOLKIT_ANNOTATOR_SECRET"
STATE_VERSION = 1
# Keys that name a person wherever they appear outside the task's data and results.
IDENTITY_KEYS = frozenset(
    {"created_username", "email", "username", "first_name", "last_name", "avatar", "initials", "phone"}
)
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
IDENTITIES_REMOVED = (
    "annotator names and emails removed (a draft's user and created_username, any email, username or name field); "
    "Label Studio's numeric user ids kept: the anonymous annotator ids are derived from them"
)


def strip_identities(task: dict[str, Any]) -> dict[str, Any]:
    """The task without the names and emails of Label Studio users; pull results are unchanged by it.

    The task's ``data`` and the results (the annotated text) are left as they are.
    """
    for draft in task.get("drafts") or []:
        if isinstance(draft, dict) and not isinstance(draft.get("user"), int):
            # A draft names its user by email; ``created_username`` ends with ", <user id>".
            name = draft.get("created_username")
            user_id = name.rsplit(", ", 1)[1] if isinstance(name, str) and ", " in name else ""
            draft["user"] = int(user_id) if user_id.isdigit() else None
    return {key: value if key == "data" else _without_identities(value) for key, value in task.items()}


def _without_identities(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: item if key in ("result", "data") else _without_identities(item)
            for key, item in value.items()
            if key not in IDENTITY_KEYS
        }
    if isinstance(value, list):
        return [_without_identities(item) for item in value]
    if isinstance(value, str) and EMAIL.fullmatch(value):
        return None
    return value


def private_file(path: Path) -> IO[bytes]:
    """A new file only its owner can read (raw pulls hold the annotated texts)."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb")


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
    from toolkit.io.atomic import atomic_output

    with atomic_output(path) as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1)
        handle.write("\n")


def previous_lines(path: Path) -> dict[int, list[str]]:
    """The lines of a previous output or ledger file, by task id (lines kept verbatim)."""
    by_task: dict[int, list[str]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                by_task.setdefault(int(json.loads(line)["task_id"]), []).append(
                    line if line.endswith("\n") else line + "\n"
                )
    return by_task
