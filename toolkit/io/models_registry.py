"""The project's models: which were trained, how they scored, and which one annotators see.

One JSON file per models folder (``train.models_dir``, default ``models``):
``registry.json``, keyed by the project's title (one config = one project), each project
with its models (version, where a copy of it lives, what it was trained on, its
validation and test scores, when it was registered and promoted) and the version that is
``current`` (None: the configured ``spacy.model``), and a history of every change of the
current model (how: evaluated, forced, chosen).

Each registered model is copied (hard links where the file system has them) to
``versions/<model version>/`` beside the file: ``toolkit train --out`` replaces its folder
at the next training, and the project's current model must survive that.

The file is written atomically (:func:`toolkit.io.atomic.atomic_output`) under the lock of
:mod:`toolkit.io.locks`: two trainings that register at once never lose an entry.
``toolkit preannotate`` without ``--model`` runs the current model; ``toolkit push``
refuses to move a project off it (``--allow-model-rollback``).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import InputError, OutputError
from toolkit.io.atomic import atomic_output
from toolkit.io.locks import output_lock

REGISTRY_FILE = "registry.json"
VERSIONS = "versions"
FORMAT = 1
BASE = "base"  # `toolkit models use base`: back to the configured spacy.model


@dataclass
class ModelEntry:
    """One trained model of a project."""

    version: str  # the model version Label Studio shows (name-version)
    path: str  # the registry's copy of it
    trained_on: dict[str, Any]  # export path, name, version
    base: str | None  # the model it was fine-tuned from
    validation_f1: float | None
    test_f1: float | None = None  # on the export's test split, in the promotion check
    registered_at: str = ""
    promoted_at: str | None = None  # the last time it became current

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ModelEntry:
        known = {name: data.get(name) for name in cls.__dataclass_fields__}
        known["trained_on"] = known["trained_on"] or {}
        return cls(**known)


@dataclass
class ProjectModels:
    """A project's models (in registration order), its current version and its history."""

    title: str
    models: list[ModelEntry] = field(default_factory=list)
    current: str | None = None  # None: the configured spacy.model
    history: list[dict[str, Any]] = field(default_factory=list)

    def entry(self, version: str) -> ModelEntry | None:
        return next((model for model in self.models if model.version == version), None)

    @property
    def current_entry(self) -> ModelEntry | None:
        return self.entry(self.current) if self.current else None


@dataclass(frozen=True)
class Promotion:
    """What the promotion check of ``toolkit train`` decided (rendered by ``toolkit.train.view``)."""

    version: str
    promoted: bool
    how: str  # evaluated | forced | skipped (--no-promote) | not evaluated
    reason: str
    reference: str  # the model it was compared with (the current one, or the configured model)
    test_articles: int = 0
    new_f1: float | None = None
    reference_f1: float | None = None
    difference: float | None = None
    low: float | None = None
    high: float | None = None


def registry_path(config: Config) -> Path:
    return Path(config.train.models_dir) / REGISTRY_FILE


def now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {"format": FORMAT, "projects": {}}
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputError(
            f"{path}: cannot read the model registry ({error})",
            hint="restore it from a backup, or move it away (the models' copies stay in versions/)",
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("projects"), dict):
        raise InputError(f"{path}: not a model registry (no 'projects' mapping)")
    return data


def _project(data: dict[str, Any], title: str) -> ProjectModels:
    raw = data["projects"].get(title) or {}
    return ProjectModels(
        title=title,
        models=[ModelEntry.from_json(item) for item in raw.get("models") or []],
        current=raw.get("current"),
        history=list(raw.get("history") or []),
    )


def project_models(config: Config) -> ProjectModels:
    """The config's project's models (none when nothing was registered)."""
    return _project(_read(registry_path(config)), config.project.title)


def current_model(config: Config) -> ModelEntry | None:
    """The project's current trained model (None: the configured spacy.model), checked to exist."""
    entry = project_models(config).current_entry
    if entry is not None and not (Path(entry.path) / "meta.json").is_file():
        raise InputError(
            f"{registry_path(config)}: the current model {entry.version} is missing from {entry.path}",
            hint="`toolkit models list` shows the others: `toolkit models use VERSION` (or `base`) picks one",
        )
    return entry


@contextmanager
def _updating(config: Config) -> Iterator[ProjectModels]:
    """The project's models, written back atomically when the block ends without an error."""
    path = registry_path(config)
    with output_lock(path, what="model registry"):
        data = _read(path)
        project = _project(data, config.project.title)
        yield project
        data["format"] = FORMAT
        data["projects"][project.title] = {
            "current": project.current,
            "models": [asdict(model) for model in project.models],
            "history": project.history,
        }
        with atomic_output(path) as handle:
            handle.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _copy_model(source: Path, target: Path) -> None:
    """A copy of the model folder, by hard links where possible (no second copy of the weights)."""

    def link_or_copy(src: str, dst: str) -> None:
        try:
            os.link(src, dst)
        except OSError:
            shutil.copy2(src, dst)

    if target.exists():
        return  # the same version: the same weights (the version ends in their hash)
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        shutil.copytree(source, partial, copy_function=link_or_copy)
        partial.rename(target)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise OutputError(f"{target}: cannot copy the model into the registry ({error.strerror})") from None


def register(
    config: Config,
    model: Path,
    *,
    version: str,
    trained_on: dict[str, Any],
    base: str | None,
    validation_f1: float | None,
    test_f1: float | None = None,
    promote: str | None = None,
) -> ProjectModels:
    """Record the trained model at ``model`` (copied into the registry); ``promote`` (how:
    evaluated, forced) makes it the project's current model."""
    target = Path(config.train.models_dir) / VERSIONS / version
    _copy_model(model, target)
    with _updating(config) as project:
        entry = project.entry(version)
        if entry is None:
            entry = ModelEntry(version, str(target.resolve()), trained_on, base, validation_f1, registered_at=now())
            project.models.append(entry)
        entry.test_f1 = test_f1 if test_f1 is not None else entry.test_f1
        if promote is not None:
            _make_current(project, entry, how=promote)
    return project


def _make_current(project: ProjectModels, entry: ModelEntry | None, *, how: str) -> None:
    at = now()
    if entry is not None:
        entry.promoted_at = at
    project.history.append({"at": at, "from": project.current, "to": entry.version if entry else None, "how": how})
    project.current = entry.version if entry else None


def use(config: Config, version: str) -> tuple[ProjectModels, str | None]:
    """Make ``version`` (or ``base``: the configured spacy.model) the project's current model on
    purpose; returns the project's models and the version that was current before."""
    with _updating(config) as project:
        before = project.current
        if version == BASE:
            entry = None
        else:
            entry = project.entry(version)
            if entry is None:
                known = ", ".join(model.version for model in project.models) or "none yet"
                raise InputError(
                    f"{registry_path(config)}: project {project.title!r} has no model {version!r} (models: {known})",
                    hint="`toolkit models list` shows them; `base` is the configured spacy.model",
                )
        _make_current(project, entry, how="chosen")
    return project, before
