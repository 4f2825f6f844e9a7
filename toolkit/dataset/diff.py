"""What changed between two export versions: the schema, articles added or removed, spans changed.

A change of the schema comes first: with the labels reordered (or one added), every
``ner_tags`` id means another tag, so a reader that keeps the ids of one version reads
the other wrongly even where no article changed. Rows are compared by tag *names*
(each version's own ``ClassLabel``), so a reorder alone changes no row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from toolkit.io.exports import resolve_version
from toolkit.records import Key


@dataclass
class ArticleChange:
    article_id: str
    added: list[Key] = field(default_factory=list)
    removed: list[Key] = field(default_factory=list)
    text_changed: bool = False
    # Same spans, but the tokens or their tag names differ (another tokenizer or alignment).
    tags_changed: bool = False
    split: tuple[str, str] | None = None  # (old, new) when the split moved


@dataclass
class SchemaChange:
    """How the two versions' columns differ; ``ner_tags`` ids by tag name."""

    old_tags: list[str]
    new_tags: list[str]
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    columns_retyped: list[str] = field(default_factory=list)

    @property
    def labels_added(self) -> list[str]:
        return [label for label in _labels(self.new_tags) if label not in _labels(self.old_tags)]

    @property
    def labels_removed(self) -> list[str]:
        return [label for label in _labels(self.old_tags) if label not in _labels(self.new_tags)]

    @property
    def ids_moved(self) -> list[tuple[str, int, int]]:
        """``(tag, old id, new id)`` for every tag in both versions whose id differs."""
        new_ids = {tag: i for i, tag in enumerate(self.new_tags)}
        return [(tag, i, new_ids[tag]) for i, tag in enumerate(self.old_tags) if tag in new_ids and new_ids[tag] != i]

    def lines(self) -> list[str]:
        """The change in words, most consequential first."""
        lines = []
        if self.old_tags != self.new_tags:
            moved = self.ids_moved
            what = []
            if self.labels_added:
                what.append(f"labels added: {', '.join(self.labels_added)}")
            if self.labels_removed:
                what.append(f"labels removed: {', '.join(self.labels_removed)}")
            if moved and not what:
                what.append("labels reordered")
            lines.append(
                f"ner_tags changed ({'; '.join(what)}): {_labels_text(self.old_tags)} -> {_labels_text(self.new_tags)}"
            )
            if moved:
                shown = ", ".join(f"{tag} {old}->{new}" for tag, old, new in moved[:6])
                more = f", and {len(moved) - 6} more" if len(moved) > 6 else ""
                lines.append(
                    f"ner_tags ids moved: {shown}{more}; read ner_tags by name "
                    "(features['ner_tags'].feature.names), not by id"
                )
        if self.columns_added:
            lines.append(f"columns added: {', '.join(self.columns_added)}")
        if self.columns_removed:
            lines.append(f"columns removed: {', '.join(self.columns_removed)}")
        if self.columns_retyped:
            lines.append(f"columns with another type: {', '.join(self.columns_retyped)}")
        return lines


def _labels(tags: list[str]) -> list[str]:
    """The entity labels of IOB2 tag names, in their order (``O``, ``B-X``, ``I-X`` -> ``X``)."""
    return [tag[2:] for tag in tags if tag.startswith("B-")]


def _labels_text(tags: list[str]) -> str:
    return "[" + ", ".join(_labels(tags)) + "]"


@dataclass
class ExportDiff:
    old: Path
    new: Path
    # None when both versions have the same columns and ner_tags names in the same order.
    schema: SchemaChange | None = None
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

    def to_json(self) -> dict[str, Any]:
        return diff_as_json(self)


Row = tuple[str, int, frozenset[Key], int]


def _load(version: Path) -> Any:
    from datasets import load_from_disk

    return load_from_disk(str(version))


def _features(dataset_dict: Any) -> Any:
    return next(iter(dataset_dict.values())).features if len(dataset_dict) else None


def _tag_names(features: Any) -> list[str]:
    """The ``ner_tags`` names, id order (an export without the column: none)."""
    if features is None or "ner_tags" not in features:
        return []
    return list(features["ner_tags"].feature.names)


def _schema_change(old_features: Any, new_features: Any) -> SchemaChange | None:
    old_columns = dict(old_features or {})
    new_columns = dict(new_features or {})
    change = SchemaChange(
        old_tags=_tag_names(old_features),
        new_tags=_tag_names(new_features),
        columns_added=[name for name in new_columns if name not in old_columns],
        columns_removed=[name for name in old_columns if name not in new_columns],
        # ner_tags is told by its names above; its ClassLabel differs whenever they do.
        columns_retyped=[
            name
            for name in old_columns
            if name in new_columns and name != "ner_tags" and old_columns[name] != new_columns[name]
        ],
    )
    return change if change.lines() else None


def _index(dataset_dict: Any) -> dict[str, Row]:
    """``id -> (split, hash of text, spans, hash of tokens and tag names)`` for every row.

    Texts themselves are not kept. Tags are taken by name through the version's own
    ``ClassLabel``, so two versions whose ids mean other tags compare by what they mean.
    """
    index: dict[str, Row] = {}
    for split, dataset in dataset_dict.items():
        columns = [name for name in ("id", "text", "spans", "tokens", "ner_tags") if name in dataset.column_names]
        names = _tag_names(dataset.features)
        for batch in dataset.select_columns(columns).iter(batch_size=1000):
            tokens = batch.get("tokens") or [[]] * len(batch["id"])
            tags = batch.get("ner_tags") or [[]] * len(batch["id"])
            for article_id, text, spans, row_tokens, row_tags in zip(
                batch["id"], batch["text"], batch["spans"], tokens, tags
            ):
                tagged = hash((tuple(row_tokens), tuple(names[tag] for tag in row_tags)))
                keys = frozenset((s["start"], s["end"], s["label"]) for s in spans)
                index[article_id] = (split, hash(text), keys, tagged)
    return index


def diff_exports(old: Path, new: Path) -> ExportDiff:
    """Compare two export versions (a version folder, or an export root for its latest)."""
    old, new = resolve_version(old), resolve_version(new)
    old_data, new_data = _load(old), _load(new)
    before, after = _index(old_data), _index(new_data)
    result = ExportDiff(old=old, new=new, schema=_schema_change(_features(old_data), _features(new_data)))
    result.added = sorted(set(after) - set(before))
    result.removed = sorted(set(before) - set(after))
    for article_id in sorted(set(before) & set(after)):
        (old_split, old_text, old_spans, old_tags), (new_split, new_text, new_spans, new_tags) = (
            before[article_id],
            after[article_id],
        )
        if before[article_id] == after[article_id]:
            result.unchanged += 1
            continue
        result.changed.append(
            ArticleChange(
                article_id,
                added=sorted(new_spans - old_spans),
                removed=sorted(old_spans - new_spans),
                text_changed=old_text != new_text,
                tags_changed=old_tags != new_tags and old_spans == new_spans and old_text == new_text,
                split=(old_split, new_split) if old_split != new_split else None,
            )
        )
    return result


def schema_as_json(change: SchemaChange | None) -> dict[str, Any] | None:
    if change is None:
        return None
    return {
        "summary": change.lines(),
        "ner_tags_old": change.old_tags,
        "ner_tags_new": change.new_tags,
        "labels_added": change.labels_added,
        "labels_removed": change.labels_removed,
        "ner_tags_ids_moved": [{"tag": tag, "old": old, "new": new} for tag, old, new in change.ids_moved],
        "columns_added": change.columns_added,
        "columns_removed": change.columns_removed,
        "columns_retyped": change.columns_retyped,
    }


def diff_as_json(diff: ExportDiff) -> dict[str, Any]:
    # The schema first: a reader of the JSON meets a change of what the ids mean before the rows.
    return {
        "schema_changed": diff.schema is not None,
        "schema": schema_as_json(diff.schema),
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
                "tags_changed": c.tags_changed,
                "split": list(c.split) if c.split else None,
            }
            for c in diff.changed
        ],
    }
