"""What changed between two export versions: articles added or removed, spans changed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.dataset.versions import resolve_version

Key = tuple[int, int, str]


@dataclass
class ArticleChange:
    article_id: str
    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    text_changed: bool = False
    split: tuple[str, str] | None = None  # (old, new) when the split moved


@dataclass
class ExportDiff:
    old: Path
    new: Path
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: list[ArticleChange] = field(default_factory=list)
    unchanged: int = 0

    @property
    def spans_added(self) -> int:
        return sum(len(change.added) for change in self.changed)

    @property
    def spans_removed(self) -> int:
        return sum(len(change.removed) for change in self.changed)


def _index(version: Path) -> dict[str, tuple[str, int, frozenset[Key]]]:
    """``id -> (split, hash of text, spans)`` for every row; texts themselves are not kept."""
    from datasets import load_from_disk

    index: dict[str, tuple[str, int, frozenset[Key]]] = {}
    for split, dataset in load_from_disk(str(version)).items():
        for batch in dataset.select_columns(["id", "text", "spans"]).iter(batch_size=1000):
            for article_id, text, spans in zip(batch["id"], batch["text"], batch["spans"]):
                index[article_id] = (split, hash(text), frozenset((s["start"], s["end"], s["label"]) for s in spans))
    return index


def diff_exports(old: Path, new: Path) -> ExportDiff:
    """Compare two export versions (a version folder, or an export root for its latest)."""
    old, new = resolve_version(old), resolve_version(new)
    before, after = _index(old), _index(new)
    result = ExportDiff(old=old, new=new)
    result.added = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    for article_id in sorted(set(before) & set(after)):
        (old_split, old_text, old_spans), (new_split, new_text, new_spans) = before[article_id], after[article_id]
        if (old_split, old_text, old_spans) == (new_split, new_text, new_spans):
            result.unchanged += 1
            continue
        result.changed.append(
            ArticleChange(
                article_id,
                added=sorted(new_spans - old_spans),
                removed=sorted(old_spans - new_spans),
                text_changed=old_text != new_text,
                split=(old_split, new_split) if old_split != new_split else None,
            )
        )
    return result


def diff_as_json(diff: ExportDiff) -> dict[str, Any]:
    return {
        "old": str(diff.old),
        "new": str(diff.new),
        "articles_added": diff.added,
        "articles_removed": diff.removed,
        "articles_unchanged": diff.unchanged,
        "articles_changed": [
            {
                "id": c.article_id,
                "spans_added": [list(k) for k in c.added],
                "spans_removed": [list(k) for k in c.removed],
                "text_changed": c.text_changed,
                "split": list(c.split) if c.split else None,
            }
            for c in diff.changed
        ],
    }
