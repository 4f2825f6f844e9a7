"""One checked input record -> one dataset row, the alignment behind it, and its counts.

The records were validated by ``inputs.check_inputs``; here they are read as plain dicts,
which is several times faster than validating them again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from toolkit.config import Config
from toolkit.dataset.schema import split_of
from toolkit.dataset.stats import ExportStats, RowCounts
from toolkit.metrics.edits import classify_edits, corrections
from toolkit.nlp.alignment import Tokens, align
from toolkit.records import tag_names

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.tokens import Span as SpacySpan


@dataclass(frozen=True)
class RowSettings:
    """What every row needs from the config, worked out once."""

    make_doc: Callable[[str], Doc]
    splits: dict[str, float]
    mode: str
    fallback: str
    tag_ids: dict[str, int]

    @classmethod
    def of(cls, config: Config, make_doc: Callable[[str], Doc]) -> RowSettings:
        return cls(
            make_doc=make_doc,
            splits=dict(config.export.splits),
            mode=config.export.alignment,
            fallback=config.export.alignment_fallback,
            tag_ids={name: index for index, name in enumerate(tag_names(config.labels))},
        )


@dataclass
class Row:
    split: str
    values: dict[str, Any]  # the dataset row, column -> value
    tokens: Tokens
    kept: list[SpacySpan]  # the spans the tags carry (for the DocBin)
    tags: list[str]  # IOB2 tags of the word tokens (for CoNLL)
    doc: Doc
    row_counts: RowCounts

    @property
    def counts(self) -> ExportStats:
        """This row's counts as an ExportStats (``write_rows`` adds ``row_counts`` directly)."""
        return ExportStats().add_row(self.row_counts)


class _Span(NamedTuple):
    """A span as ``classify_edits`` reads it, without building pydantic records (a tenth
    of the export's time when they were)."""

    start: int
    end: int
    label: str

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)


def _spans(spans: list[dict[str, Any]]) -> list[_Span]:
    return [_Span(s["start"], s["end"], s["label"]) for s in spans]


def _human_provenance(value: dict[str, Any], counts: RowCounts) -> tuple[list[str], str | None, int | None]:
    """``(annotators, model_version, n_corrections)`` of an AnnotatedArticle dict; fills ``counts``."""
    annotations = value["annotations"]
    counts.annotators = [a["annotator"] for a in annotations]
    annotators = sorted(set(counts.annotators))
    chosen = set(value["chosen"])
    predictions = value.get("predictions") or []
    # As AnnotatedArticle.model_version: the prediction the chosen annotation started from.
    model_version = next(
        (a["model_version"] for a in annotations if a["id"] in chosen and a.get("model_version")), None
    )
    model_version = model_version or next((p["model_version"] for p in predictions), None)
    prediction = next((p for p in predictions if p["model_version"] == model_version), None)
    if prediction is None:
        return annotators, model_version, None
    human, predicted = _spans(value["spans"]), _spans(prediction["spans"])
    _, added, removed = corrections(human, predicted)
    counts.with_prediction = True
    counts.corrections = added + removed
    counts.edits = [kind for kind, _, _ in classify_edits(predicted, human)]
    return annotators, model_version, added + removed


def build_row(value: dict[str, Any], source: str, settings: RowSettings) -> Row:
    """The row of a checked record: ``source`` is ``human`` (AnnotatedArticle) or ``model`` (PredictedArticle)."""
    article_id, text = value["id"], value["text"]
    # Near-duplicates share their group's split: a syndicated copy never sits in test
    # while its twin is in train. An article without a group is its own.
    split = split_of(value.get("group") or article_id, settings.splits)
    spans = sorted((s["start"], s["end"], s["label"]) for s in value["spans"])
    counts = RowCounts(split, source, labels=[label for _, _, label in spans])
    decision = value.get("decision") or {}
    # Only a decision has a date to be stale against: null for every other row.
    stale = bool(decision.get("stale")) if decision.get("status") == "adjudicated" else None
    counts.stale_decision = bool(stale)
    if source == "human":
        annotators, model_version, n_corrections = _human_provenance(value, counts)
        task_id: int | None = value["task_id"]
    else:
        annotators, n_corrections, task_id = [], None, None
        model_version = f"{value['model']['name']}-{value['model']['version']}"  # ModelInfo.model_version
    doc = settings.make_doc(text)
    tokens = Tokens.of(doc, text)
    aligned = align(
        doc,
        spans,
        mode=settings.mode,
        fallback=settings.fallback,
        article_id=article_id,
        task_id=task_id,
        tokens=tokens,
        text=text,
    )
    counts.spans, counts.strict, counts.snapped, counts.lost = (
        aligned.spans,
        aligned.strict,
        aligned.snapped,
        aligned.lost,
    )
    values = {
        "id": article_id,
        "text": text,
        "title": value.get("title"),
        "date": value.get("date"),
        "tokens": [tokens.texts[i] for i in tokens.words],
        # Tag ids, not names: ClassLabel's str2int per tag was a tenth of the time.
        "ner_tags": [settings.tag_ids[tag] for tag in aligned.tags],
        "spans": [{"start": start, "end": end, "label": label} for start, end, label in spans],
        "source": source,
        "n_annotators": len(annotators),
        "annotators": annotators,
        "model_version": model_version,
        "n_corrections": n_corrections,
        "decision": decision.get("status"),
        "adjudicated_by": decision.get("by"),
        "decision_stale": stale,
    }
    return Row(split, values, tokens, aligned.kept, aligned.tags, doc, counts)
