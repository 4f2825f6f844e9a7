"""``manifest.json`` of a version: its inputs, versions, counts and the SHA-256 of every file.

It is written last: a version folder with a manifest is complete.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from toolkit import __version__
from toolkit.config import Config
from toolkit.dataset.inputs import InputHashes
from toolkit.dataset.schema import SPLIT_METHOD
from toolkit.dataset.stats import ExportStats
from toolkit.io.exports import MANIFEST
from toolkit.io.hashing import sha256_file
from toolkit.records import ledger_path, tag_names


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def file_hashes(folder: Path) -> dict[str, str]:
    """SHA-256 of every file of the version but the manifest, by path inside the folder."""
    return {
        str(path.relative_to(folder)): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }


def _package_version(name: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return None


def build_manifest(
    annotations: Path,
    predictions: Path | None,
    *,
    config: Config,
    stats: ExportStats,
    hashes: InputHashes,
    model: dict[str, str] | None,
    fingerprint: str,
) -> dict[str, Any]:
    """The manifest without its ``files`` (added when every other file is written)."""
    return {
        "name": config.export.name,
        "version": None,  # set when the folder gets its version name
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "input": {"file": annotations.name, "sha256": hashes.annotations},
        "predictions": {"file": predictions.name, "sha256": hashes.predictions} if predictions else None,
        "ledger": ledger_path(annotations).name if stats.ledger_found else None,
        "config_sha256": hashlib.sha256(config.model_dump_json().encode()).hexdigest(),
        "labels": list(config.labels),
        "tags": tag_names(config.labels),
        "splits": {
            "method": SPLIT_METHOD,
            "shares": dict(config.export.splits),
            "rows": {name: stats.rows_per_split.get(name, 0) for name in config.export.splits},
        },
        "alignment": {"mode": config.export.alignment, "fallback": config.export.alignment_fallback},
        "counts": {
            "rows": stats.articles,
            "human_rows": stats.human_rows,
            "model_rows": stats.model_rows,
            "spans": stats.spans,
            "aligned_strict": stats.aligned_strict,
            "aligned_non_strict": stats.aligned_non_strict,
            "lost_spans": len(stats.lost),
            "annotators": len(stats.annotations_per_annotator),
            "skipped_annotations": stats.skipped_annotations,
            "only_skipped_tasks": stats.only_skipped_tasks,
            "drafts": stats.drafts,
            "corrections": stats.corrections,
        },
        "versions": {
            "toolkit": __version__,
            "datasets": _package_version("datasets"),
            "spacy": _package_version("spacy"),
            "pyarrow": _package_version("pyarrow"),
            "huggingface_hub": _package_version("huggingface_hub"),
            "model": model,
        },
        "inputs_fingerprint": fingerprint,
    }
