"""The dataset's columns (``datasets.Features``) and the split an article goes to."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from toolkit.records import tag_names

if TYPE_CHECKING:
    from datasets import Features

SPLIT_METHOD = "sha256 of the article id, first 8 bytes as a fraction of 2**64, cut at the cumulative shares"


def features(labels: list[str]) -> Features:
    from datasets import ClassLabel, Features, List, Value

    return Features(
        {
            "id": Value("string"),
            "text": Value("string"),
            "title": Value("string"),
            "date": Value("string"),
            "tokens": List(Value("string")),
            "ner_tags": List(ClassLabel(names=tag_names(labels))),
            "spans": List({"start": Value("int32"), "end": Value("int32"), "label": Value("string")}),
            # Provenance: "human" (pulled from Label Studio) or "model" (the predictions' rows).
            "source": Value("string"),
            "n_annotators": Value("int32"),
            "annotators": List(Value("string")),
            "model_version": Value("string"),
            # Spans added plus spans deleted against the prediction the humans started from,
            # by exact offsets and label (toolkit.metrics.edits.corrections); null without one.
            "n_corrections": Value("int32"),
            # Several annotators: "agreed", "adjudicated" (an adjudicator's decision, by the
            # anonymous id in adjudicated_by), "pending"/"disputed" (the pull policy's); else null.
            "decision": Value("string"),
            "adjudicated_by": Value("string"),
            # An adjudicated row whose annotators changed, added or deleted an answer after the
            # decision (it stands: pull's decision.stale); null when the row has no decision.
            "decision_stale": Value("bool"),
        }
    )


def split_of(article_id: str, splits: dict[str, float]) -> str:
    """The split an article belongs to, from a hash of its id alone.

    It does not depend on the other articles, so a split never changes when articles
    are added, and an article never sits in two splits. Near-duplicates are split by
    their group's id instead (the id of the group's first article), so a whole group
    lands in one split and an article without copies keeps its split.
    """
    point = int.from_bytes(hashlib.sha256(article_id.encode("utf-8")).digest()[:8], "big") / 2**64
    order = cut_order(splits)
    cumulative = 0.0
    for name in order:
        cumulative += splits[name]
        if point < cumulative:
            return name
    return order[-1]


# The usual splits first, in this order, then any others by name.
_USUAL_SPLITS = ("train", "validation", "test")


def cut_order(splits: dict[str, float]) -> list[str]:
    """The order in which ``split_of`` cuts [0, 1) into the splits' shares.

    Fixed by the names, not by the order a config lists them in: a config written with
    its keys sorted (as YAML dumpers do) must put every article in the same split.
    """
    usual = [name for name in _USUAL_SPLITS if name in splits]
    return usual + sorted(name for name in splits if name not in _USUAL_SPLITS)
