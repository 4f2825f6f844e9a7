"""An annotation's ``result`` as Label Studio stores it, read: which items are labelled spans on the article text.

A result is a list of items. A labelled span is an item of type ``labels`` whose
``value`` holds ``start``, ``end`` (``str`` indices into the task text), ``labels`` and
the ``text`` they cover; ``origin`` says whether it came from a prediction. Reading takes
nothing on trust: the offsets and labels are passed on as found (they are checked against
the text by ``toolkit.annotations.spans.clean_spans``), and what is not a labelled span on
the article text is set apart and counted, never dropped unseen.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from toolkit.labelstudio.labeling import FROM_NAME, TO_NAME

# A labelled span as read, unchecked: (start, end, labels, value.text, origin). A plain
# tuple, because a pull reads one per span.
LabelledItem = tuple[Any, Any, list[Any], str | None, str | None]


@dataclass(frozen=True)
class ArticleControls:
    """The labeling-config controls whose spans are on the article text.

    A project's labeling config may be extended by hand with more ``Labels`` controls on
    other fields (the source, the title): their offsets are into those fields, so their
    spans must never be read against the article text.
    """

    labels: frozenset[str] = frozenset({FROM_NAME})
    texts: frozenset[str] = frozenset({TO_NAME})

    def owns(self, item: dict[str, Any]) -> bool:
        # Result items written without control names (hand-made files) are taken as ours.
        from_name, to_name = item.get("from_name"), item.get("to_name")
        return (from_name is None or from_name in self.labels) and (to_name is None or to_name in self.texts)

    def as_dict(self) -> dict[str, list[str]]:
        return {"labels": sorted(self.labels), "texts": sorted(self.texts)}

    @classmethod
    def from_dict(cls, data: Any) -> ArticleControls:
        if isinstance(data, dict) and data.get("labels") and data.get("texts"):
            return cls(frozenset(map(str, data["labels"])), frozenset(map(str, data["texts"])))
        return cls()


def article_controls(label_config: str | None) -> ArticleControls:
    """The ``Labels`` controls bound to the ``Text`` control showing ``$text``; ours when none is found."""
    try:
        root = ET.fromstring(label_config or "")
    except ET.ParseError:
        return ArticleControls()
    texts = {tag.get("name") for tag in root.iter() if tag.tag in ("Text", "HyperText") and tag.get("value") == "$text"}
    texts.discard(None)
    labels = {tag.get("name") for tag in root.iter("Labels") if tag.get("toName") in texts}
    labels.discard(None)
    if not texts or not labels:
        return ArticleControls()
    return ArticleControls(frozenset(labels), frozenset(texts))  # type: ignore[arg-type]


@dataclass(frozen=True)
class OtherControl:
    """A labelled span of another control than the article text's: never an article span."""

    control: str
    target: str
    raw: dict[str, Any]


@dataclass
class ReadResult:
    labelled: list[LabelledItem] = field(default_factory=list)  # in the result's order
    other_controls: list[OtherControl] = field(default_factory=list)
    other_results: int = 0  # result items that are not labelled spans (relations, ...)


def read_result(result: list[Any] | None, controls: ArticleControls | None = None) -> ReadResult:
    """The labelled spans of one annotation's ``result`` on the article text, the labelled
    spans of other controls, and how many items are not labelled spans at all."""
    controls = controls or ArticleControls()
    read = ReadResult()
    for item in result or []:
        if not isinstance(item, dict) or item.get("type") != "labels":
            read.other_results += 1
            continue
        if not controls.owns(item):
            read.other_controls.append(OtherControl(str(item.get("from_name")), str(item.get("to_name")), _raw(item)))
            continue
        value = item.get("value")
        if not isinstance(value, dict):
            value = {}
        labels, text, origin = value.get("labels"), value.get("text"), item.get("origin")
        read.labelled.append(
            (
                value.get("start"),
                value.get("end"),
                labels if isinstance(labels, list) else [],
                text if isinstance(text, str) else None,
                origin if isinstance(origin, str) else None,
            )
        )
    return read


def count_labelled(result: Any, controls: ArticleControls) -> int:
    """How many labelled spans on the article text a result holds (a draft's, an answer not chosen)."""
    return sum(
        1 for item in result or [] if isinstance(item, dict) and item.get("type") == "labels" and controls.owns(item)
    )


def _raw(item: dict[str, Any]) -> dict[str, Any]:
    value = item.get("value") if isinstance(item.get("value"), dict) else {}
    raw = {
        "from_name": item.get("from_name"),
        "to_name": item.get("to_name"),
        "start": value.get("start"),
        "end": value.get("end"),
        "labels": value.get("labels"),
    }
    if isinstance(value.get("text"), str):
        raw["text"] = value["text"]
    return raw
