"""Reading an export: a version folder (or an export root's latest), its manifest, its splits.

The ``dataset`` stage writes exports; training and evaluation read them. What both sides
need to agree on (the layout's names, which version ``LATEST`` means) lives here, below
the stages, so that a reader never imports the writer. The layout itself is described
where it is written: the files of a version in ``toolkit.dataset.exporting``, the export root
around them (``LATEST``, ``vN/``, the temp folders) in ``toolkit.dataset.versions``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.errors import InputError
from toolkit.io.hashing import sha256_file

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

LATEST = "LATEST"
MANIFEST = "manifest.json"
VERSION_PATTERN = re.compile(r"^v(\d+)$")
DOCBIN_FOLDER = "spacy"


def read_manifest(folder: Path) -> dict[str, Any]:
    return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))


def versions(root: Path) -> list[str]:
    """The complete versions under an export root, oldest first."""
    if not root.is_dir():
        return []
    found = [(int(m.group(1)), p.name) for p in root.iterdir() if p.is_dir() and (m := VERSION_PATTERN.match(p.name))]
    return [name for _, name in sorted(found)]


def latest_version(root: Path) -> Path | None:
    """The version ``LATEST`` names, else the highest complete one, else None."""
    pointer = root / LATEST
    if pointer.is_file():
        name = pointer.read_text(encoding="utf-8").strip()
        if VERSION_PATTERN.match(name) and (root / name / MANIFEST).is_file():
            return root / name
    complete = [name for name in versions(root) if (root / name / MANIFEST).is_file()]
    return root / complete[-1] if complete else None


def resolve_version(path: Path) -> Path:
    """A version folder from either a version folder or an export root (its latest version)."""
    if (path / MANIFEST).is_file():
        return path
    latest = latest_version(path)
    if latest is None:
        raise InputError(f"{path}: not an export version nor an export root", hint="write one with `toolkit export`")
    return latest


@dataclass(frozen=True)
class GoldRow:
    """One human-annotated row of a split: what evaluation compares a model against."""

    index: int  # the row's position in the split (and its doc's in the DocBin shards)
    id: str
    text: str
    spans: tuple[tuple[int, int, str], ...]  # character offsets, as annotated


@dataclass(frozen=True)
class ExportVersion:
    """An export version, opened and checked: its manifest matches the files it names."""

    path: Path
    manifest: dict[str, Any]
    manifest_sha256: str

    @property
    def name(self) -> str:
        return str(self.manifest.get("name") or self.path.parent.name)

    @property
    def version(self) -> str:
        return str(self.manifest.get("version") or self.path.name)

    @property
    def labels(self) -> list[str]:
        return list(self.manifest.get("labels") or [])

    def docbin_files(self, split: str) -> list[Path]:
        return sorted((self.path / DOCBIN_FOLDER).glob(f"{split}-*.spacy"))

    @cached_property
    def _sources(self) -> dict[str, list[str]]:
        return {}

    def sources(self, split: str) -> list[str]:
        """The ``source`` of every row of the split (``human`` or ``model``), in row order."""
        if split not in self._sources:
            self._sources[split] = [str(value) for value in self._column(split, "source")]
        return self._sources[split]

    def human_rows(self, split: str) -> int:
        return sum(1 for source in self.sources(split) if source == "human")

    def _split_dataset(self, split: str) -> Any:
        import datasets

        folder = self.path / split
        if not folder.is_dir():
            raise InputError(f"{self.path}: has no {split!r} split (splits: {', '.join(self.splits) or 'none'})")
        try:
            return datasets.load_from_disk(str(folder))
        except Exception as error:  # datasets raises FileNotFoundError, ValueError, ArrowInvalid, ...
            raise InputError(f"{folder}: cannot read the dataset ({error})") from None

    def _column(self, split: str, column: str) -> list[Any]:
        dataset = self._split_dataset(split)
        if column not in dataset.column_names:
            raise InputError(f"{self.path / split}: has no {column!r} column; export it again with `toolkit export`")
        return list(dataset[column])

    @property
    def splits(self) -> list[str]:
        return list((self.manifest.get("splits") or {}).get("rows") or {})

    def gold_rows(self, split: str) -> list[GoldRow]:
        """The split's human rows with their character spans (model rows are not gold)."""
        dataset = self._split_dataset(split)
        rows = []
        for index, row in enumerate(dataset.select_columns(["id", "text", "spans", "source"])):
            if row["source"] != "human":
                continue
            spans = tuple((span["start"], span["end"], span["label"]) for span in row["spans"])
            rows.append(GoldRow(index=index, id=row["id"], text=row["text"], spans=spans))
        return rows

    def read_docs(self, split: str, vocab: Vocab, *, human_only: bool = True) -> list[Doc]:
        """The split's docs from its DocBin shards, in row order (human rows only by default)."""
        from spacy.tokens import DocBin

        docs: list[Doc] = []
        for path in self.docbin_files(split):
            try:
                docs.extend(DocBin().from_disk(path).get_docs(vocab))
            except Exception as error:  # a truncated or foreign file: msgpack / zlib errors
                raise InputError(f"{path}: not a readable DocBin ({error})") from None
        if not human_only:
            return docs
        sources = self.sources(split)
        if len(sources) != len(docs):
            raise InputError(
                f"{self.path}: the {split} split has {len(sources):,} rows but {len(docs):,} docs in its DocBin files"
            )
        return [doc for doc, source in zip(docs, sources) if source == "human"]


def open_export(path: Path) -> ExportVersion:
    """The export version at ``path`` (a version folder, or an export root for its ``LATEST``).

    Every DocBin shard is checked against the SHA-256 the manifest gives it, so a model is
    never trained on files that are not the ones the export wrote.
    """
    if not path.exists():
        raise InputError(f"{path}: no such export", hint="write one with `toolkit export ANNOTATIONS --out ROOT`")
    folder = resolve_version(path)
    try:
        manifest = read_manifest(folder)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{folder / MANIFEST}: cannot read the manifest ({error})") from None
    files = manifest.get("files") or {}
    for name, expected in sorted(files.items()):
        if not name.startswith(f"{DOCBIN_FOLDER}/"):
            continue
        file = folder / name
        if not file.is_file():
            raise InputError(f"{file}: named in the manifest but missing")
        if sha256_file(file) != expected:
            raise InputError(
                f"{file}: its SHA-256 is not the one in {folder / MANIFEST} (changed after the export)",
                hint="export again with `toolkit export`, or train on another version",
            )
    return ExportVersion(path=folder, manifest=manifest, manifest_sha256=sha256_file(folder / MANIFEST))
