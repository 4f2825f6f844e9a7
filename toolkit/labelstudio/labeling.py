"""How articles and spans look inside Label Studio.

Builds the labeling config from the project labels, turns predicted articles into
task payloads, and spans into Label Studio result items (``results.py`` reads them back). Offsets in
Label Studio are Python ``str`` indices, the same unit spaCy uses, so they are passed
through unchanged; only the text they cover is checked.
"""

from __future__ import annotations

import hashlib
import textwrap
import xml.etree.ElementTree as ET
from pathlib import PurePath
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from toolkit.config import Config
from toolkit.records import PredictedArticle, Span

FROM_NAME = "label"
TO_NAME = "text"

# One distinct, readable colour per label, cycling for long label lists.
PALETTE = [
    "#e6194b",
    "#3cb44b",
    "#4363d8",
    "#f58231",
    "#911eb4",
    "#42d4f4",
    "#f032e6",
    "#bfef45",
    "#fabed4",
    "#469990",
    "#dcbeff",
    "#9a6324",
    "#800000",
    "#aaffc3",
    "#808000",
    "#ffd8b1",
    "#000075",
    "#a9a9a9",
]
HOTKEYS = "1234567890qwertyuiopasdfghjklzxcvbnm"


def labeling_config(config: Config) -> str:
    """The Label Studio labeling config for the project's labels."""
    label_lines = []
    for index, label in enumerate(config.labels):
        attributes = f"value={quoteattr(label)} background={quoteattr(PALETTE[index % len(PALETTE)])}"
        if index < len(HOTKEYS):
            attributes += f" hotkey={quoteattr(HOTKEYS[index])}"
        label_lines.append(f"    <Label {attributes}/>")
    return (
        "<View>\n"
        "  <Style>.htx-text { white-space: pre-wrap; }</Style>\n"
        '  <Header value="$title"/>\n'
        '  <Header value="$date" size="6"/>\n'
        f'  <Labels name="{FROM_NAME}" toName="{TO_NAME}">\n' + "\n".join(label_lines) + "\n  </Labels>\n"
        f'  <Text name="{TO_NAME}" value="$text"/>\n'
        "</View>\n"
    )


# How the labeling view works, shown under the project's own instructions: spans are
# added label-first (selecting text and then pressing a hotkey does nothing), and Skip
# is only offered in the labeling stream.
HOW_TO_LABEL = (
    "<p><b>How to label</b></p><ul>"
    "<li><b>Add a span:</b> first choose the label (click it above the text, or press its hotkey), "
    "then select the words. Selecting words first and then pressing a hotkey does nothing.</li>"
    "<li><b>Change a span's label:</b> click the span, then click (or press) the new label.</li>"
    "<li><b>Fix a boundary:</b> delete the span and add it again with the right words.</li>"
    "<li><b>Delete a span:</b> click it and press Backspace (or the bin icon in the region list).</li>"
    "<li><b>No entities at all</b> is a valid answer: remove every span and Submit.</li>"
    "<li><b>Skip</b> an article that is not usable news text (a broken page, an index, a table). "
    "Skip is offered in <i>Label All Tasks</i>; a task opened from the table shows only Submit.</li>"
    "</ul>"
)


def instructions(config: Config) -> str:
    """The project's instructions: the config's own text, then how the labeling view works."""
    own = config.project.instructions.strip()
    return (f"<p>{escape(own)}</p>" if own else "") + HOW_TO_LABEL


def result_items(spans: list[Span], text: str, *, id_prefix: str) -> list[dict[str, Any]]:
    """Spans as Label Studio ``labels`` result items; a scored span carries its ``score``
    (the labeling view shows it beside the region, so the annotator sees which span is doubtful)."""
    items = []
    for index, span in enumerate(spans):
        item: dict[str, Any] = {
            "id": f"{id_prefix}{index}",
            "from_name": FROM_NAME,
            "to_name": TO_NAME,
            "type": "labels",
            "value": {
                "start": span.start,
                "end": span.end,
                "text": text[span.start : span.end],
                "labels": [span.label],
            },
        }
        if span.score is not None:
            item["score"] = span.score
        items.append(item)
    return items


def config_labels(label_config: str) -> list[str]:
    """The labels of the ``Labels`` control in a labeling config (ours or a user's edit)."""
    try:
        root = ET.fromstring(label_config)
    except ET.ParseError:
        return []
    for control in root.iter("Labels"):
        if control.get("name") == FROM_NAME:
            return [label.get("value", "") for label in control.iter("Label")]
    return []


# The prediction score of a near-duplicate that is not the first of its group: above
# every task score, so that uncertainty sampling serves each group's first article before
# any copy (the copy's own score stays in the task data, ``model_score``).
COPY_SCORE = 1.0


def prediction_payload(
    article: PredictedArticle, *, task_id: int | None = None, copy_of: str | None = None
) -> dict[str, Any]:
    """One prediction set: the model's spans, its version and, when known, its confidence.

    With ``task_id`` it is an item of the bulk predictions import for an existing task.
    ``copy_of`` (the first article of the near-duplicate group this one is a copy of)
    sends ``COPY_SCORE`` instead of the article's score.
    """
    prediction: dict[str, Any] = {
        "model_version": article.model.model_version,
        "result": result_items(article.spans, article.text, id_prefix="p"),
    }
    # PredictedArticle.score is optional (older prediction files have none); Label
    # Studio sorts and filters tasks by it.
    score = getattr(article, "score", None)
    if score is not None:
        prediction["score"] = COPY_SCORE if copy_of is not None else score
    if task_id is not None:
        prediction["task"] = task_id
    return prediction


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# How long a title made from the article's first words may be (the Data Manager's column
# shows about this much).
FIRST_WORDS_CHARS = 60


def shown_title(article: PredictedArticle) -> tuple[str, str | None]:
    """The title a task shows, and what it was made from when the article has none.

    The article's own title when it has one (``None`` as the second item); else, for a
    ``.txt`` input (one file per article), the file's name without its suffix; else the
    text's first words, cut at a word boundary with an ellipsis. Without it the Data
    Manager's rows show only hex ids.
    """
    if article.title:
        return article.title, None
    source = article.source or ""
    if source.lower().endswith(".txt"):
        return PurePath(source).stem, "file name"
    words = textwrap.shorten(article.text, width=FIRST_WORDS_CHARS + 1, placeholder="…")
    if words == "…":  # a first word longer than the width: cut inside it
        words = " ".join(article.text.split())[:FIRST_WORDS_CHARS] + "…"
    return words, "first words"


def task_payload(
    article: PredictedArticle, *more_versions: PredictedArticle, group: str | None = None
) -> dict[str, Any]:
    """One import item: the task data plus the model's spans as prediction sets.

    ``more_versions`` are the same article predicted by other model versions: each
    adds one prediction set to the same task. ``group`` is the near-duplicate group
    (the id of its first article), for an article in a group of two or more only: an
    article alone sends none, so the Data Manager has no column that repeats ``article_id``.
    """
    title, title_from = shown_title(article)
    copy = group is not None and group != article.id
    data = {
        "text": article.text,
        "article_id": article.id,
        "title": title,
        "date": article.date or "",
        "source": article.source or "",
        # Lets pull tell a text edited in Label Studio from the one the spans were made on.
        "text_sha256": text_sha256(article.text),
    }
    if group is not None:
        # Export keeps a group in one split; the stream serves a group's first article first.
        data["group"] = group
    if copy and article.score is not None:
        data["model_score"] = article.score
    payload: dict[str, Any] = {
        "data": data,
        "predictions": [
            prediction_payload(version, copy_of=group if copy else None) for version in (article, *more_versions)
        ],
    }
    if title_from is not None:
        # In the task's meta, which the Data Manager shows no column of: pull reads it and
        # gives the dataset no title (the article has none) instead of the made-up one.
        payload["meta"] = {"title_from": title_from}
    return payload


# The most bytes a character takes in the JSON push sends (``ensure_ascii=False``): a
# control character's ``\u00XX`` escape; others take 1-4 (UTF-8) or 2 (``\"``).
_MOST_BYTES_PER_CHARACTER = 6
# More than the keys, numbers and punctuation of one span item, one prediction set or one
# task's data take (a span item's are about 150 bytes with a 24-character score).
_SPAN_ROOM, _SET_ROOM, _TASK_ROOM = 256, 256, 512


def task_payload_bound(article: PredictedArticle, *more_versions: PredictedArticle, id_room: int) -> int:
    """At least the JSON size of ``task_payload(article, *more_versions, group=...)`` for any group
    id of at most ``id_room`` characters, counted without building the payload (its ``meta``
    fits in ``_TASK_ROOM``)."""
    characters = len(article.text) + len(article.id) + 2 * id_room + 64  # text_sha256
    # The title shown: the article's, its file's name or its first words (shown_title).
    characters += max(len(article.title or ""), len(article.source or ""), FIRST_WORDS_CHARS + 1)
    characters += len(article.date or "") + len(article.source or "")
    spans = 0
    for version in (article, *more_versions):
        characters += len(version.model.model_version)
        for span in version.spans:
            characters += span.end - span.start + len(span.label)
        spans += len(version.spans)
    sets = 1 + len(more_versions)
    return _MOST_BYTES_PER_CHARACTER * characters + _SPAN_ROOM * spans + _SET_ROOM * sets + _TASK_ROOM
