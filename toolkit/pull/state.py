"""What a pull keeps between runs, to tell what changed in Label Studio since the last one.

Layout under ``pull.state_dir`` (git-ignored), one folder per server and project::

    127.0.0.1_8080-project-3/
        state.json                              watermark, per-task fingerprints
        raw/20261129T020000Z.json.gz            the export, annotator names and emails removed (toolkit.pull.raw)
        raw/20261129T020000Z.manifest.json      time, server, project, counts, sha256s

Label Studio Community cannot filter its export by ``updated_at``, so an incremental
pull downloads the whole export and compares each task's fingerprint with the state:
tasks are new, changed, unchanged, or gone from the server (reported and dropped).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATE_VERSION = 1


def task_fingerprint(task: dict[str, Any]) -> str:
    """What changes when anything a pull reads in the task changes (annotations, drafts, data)."""
    parts = [str(task.get("updated_at"))]
    for annotation in task.get("annotations") or []:
        parts.append(
            f"a{annotation.get('id')}:{annotation.get('updated_at')}:{annotation.get('was_cancelled')}:{annotation.get('ground_truth')}"
        )
    for draft in task.get("drafts") or []:
        parts.append(f"d{draft.get('id')}:{draft.get('updated_at')}")
    for prediction in task.get("predictions") or []:
        parts.append(f"p{prediction.get('id') if isinstance(prediction, dict) else prediction}")
    text = (task.get("data") or {}).get("text")
    parts.append(hashlib.blake2b(str(text).encode(), digest_size=8).hexdigest())
    return hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()


def task_watermark(task: dict[str, Any]) -> str:
    """The newest timestamp in the task: the watermark of a pull is the largest of these."""
    stamps = [task.get("updated_at") or ""]
    stamps += [a.get("updated_at") or "" for a in task.get("annotations") or []]
    stamps += [d.get("updated_at") or "" for d in task.get("drafts") or []]
    return max(stamps)


@dataclass
class PullState:
    """The previous pull of one project: enough to merge, and to report what changed."""

    watermark: str = ""
    tasks: dict[int, str] = field(default_factory=dict)  # task id -> fingerprint
    articles: dict[int, str] = field(default_factory=dict)  # task id -> article id
    # task id -> created_at: SQLite hands the id of a deleted last task to the next new one,
    # so an id alone does not say it is the same task.
    created: dict[int, str] = field(default_factory=dict)
    settings: str | None = None  # fingerprint of what shapes records (labels, pull policy, secret)
    pulled_at: str | None = None

    def add(self, task: dict[str, Any]) -> None:
        """Remember a task of this pull."""
        task_id = task["id"]
        self.tasks[task_id] = task_fingerprint(task)
        self.articles[task_id] = str((task.get("data") or {}).get("article_id") or f"ls-task-{task_id}")
        self.created[task_id] = str(task.get("created_at"))
        self.watermark = max(self.watermark, task_watermark(task))

    def change(self, task_id: int, now: PullState) -> str:
        """What task ``task_id`` of the pull ``now`` (which has it) is since this earlier pull: ``new``,
        ``replaced`` (a new task under a deleted one's id), ``changed`` or ``unchanged``."""
        before = self.tasks.get(task_id)
        if before is None:
            return "new"
        if self.created.get(task_id, now.created[task_id]) != now.created[task_id]:
            return "replaced"
        return "unchanged" if before == now.tasks[task_id] else "changed"

    @classmethod
    def load(cls, path: Path) -> PullState | None:
        """The state saved by the last pull; None for none (or a broken one: a full pull, never a failed one).

        Keys this version does not read (older pulls wrote the output's path and hashes) are ignored.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
            return None
        return cls(
            watermark=data.get("watermark") or "",
            tasks={int(k): v for k, v in (data.get("tasks") or {}).items()},
            articles={int(k): v for k, v in (data.get("articles") or {}).items()},
            created={int(k): v for k, v in (data.get("created") or {}).items()},
            settings=data.get("settings"),
            pulled_at=data.get("pulled_at"),
        )

    def save(self, path: Path) -> None:
        data = {
            "version": STATE_VERSION,
            "pulled_at": self.pulled_at,
            "watermark": self.watermark,
            "settings": self.settings,
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
