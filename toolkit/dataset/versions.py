"""Version folders under an export root: ``vN/``, ``LATEST``, and the temp folders they are built in.

::

    exports/news-ner/
      LATEST                 the name of the newest complete version ("v3")
      v1/ v2/ v3/            one folder per export, never changed once written (its files: see ``export``)
      .tmp-<pid>-<random>/   a version being built (removed when its process is gone)

A version is built in a ``.tmp-*`` folder and renamed into place only when every file
is written, so a kill half-way leaves the earlier versions as they were and nothing that
looks like a version.
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from toolkit.dataset.manifest import write_manifest
from toolkit.errors import OutputError, Remedy
from toolkit.io.atomic import atomic_output, pid_alive

# Reading a version (LATEST, the version names, its manifest) is shared with train and evaluate.
from toolkit.io.exports import LATEST, VERSION_PATTERN, read_manifest, versions

TEMP_PREFIX = ".tmp-"


def check_root(root: Path) -> None:
    """Refuse an export root that is something else: a file, a dataset of the old layout, a foreign folder."""
    if (root / "dataset_dict.json").is_file():
        raise OutputError(
            f"{root}: holds a dataset in the old single-folder layout",
            hint=f"move it away (e.g. `mv {root} {root}-old`); exports now go to {root}/vN/",
        )
    if root.exists() and not root.is_dir():
        raise OutputError(f"{root}: exists and is not a folder")
    if root.is_dir():
        names = [p.name for p in root.iterdir()]
        if LATEST in names or any(VERSION_PATTERN.match(name) for name in names):
            return  # an export root; other files next to the versions (e.g. a report page) are left alone
        foreign = [name for name in names if not name.startswith(TEMP_PREFIX)]
        if foreign:
            raise OutputError(
                f"{root}: exists and is not an export folder (it holds {', '.join(sorted(foreign)[:3])})",
                hint=(
                    Remedy(
                        "choose another export root, or an empty folder",
                        "out",
                        in_words="choose another export root, or an empty folder",
                    ),
                ),
            )


def clean_stale_temps(root: Path) -> list[Path]:
    """Remove ``.tmp-<pid>-*`` folders whose export process is gone (killed half-way)."""
    removed = []
    if not root.is_dir():
        return removed
    for path in root.iterdir():
        if not path.name.startswith(TEMP_PREFIX) or not path.is_dir():
            continue
        pid = path.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if pid.isdigit() and pid_alive(int(pid)) and int(pid) != os.getpid():
            continue  # another export is building right now
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed


def new_work_folder(root: Path) -> Path:
    """Create the root if needed, clear dead exports' temp folders, and make this export's own."""
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{root}: cannot create the folder ({error.strerror})") from None
    clean_stale_temps(root)
    work = root / f"{TEMP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        work.mkdir()
    except OSError as error:
        # The root exists but refuses new entries (read-only mount, permissions, immutable).
        raise OutputError(
            f"{root}: cannot write into the export root ({error.strerror})",
            hint=(
                "make the folder writable, or ",
                Remedy("choose another export root", "out", in_words="choose another export root"),
            ),
        ) from None
    return work


def publish(work: Path, root: Path) -> Path:
    """Rename the finished folder to the next free ``vN`` and point ``LATEST`` at it."""
    manifest = read_manifest(work)
    while True:
        existing = versions(root)
        target = root / f"v{int(existing[-1][1:]) + 1 if existing else 1}"
        manifest["version"] = target.name
        write_manifest(work, manifest)
        try:
            # rename() of a folder onto an existing non-empty folder fails: another
            # export took this number first, so take the next.
            work.rename(target)
        except OSError:
            if target.exists():
                continue
            raise
        break
    with atomic_output(root / LATEST) as handle:
        handle.write(target.name + "\n")
    (root / LATEST).chmod(0o644)  # the temp file it came from was private
    return target
