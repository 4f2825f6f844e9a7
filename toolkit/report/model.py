"""The report's records (pydantic): what ``--json`` prints and every renderer reads.

A figure that cannot be computed (no predictions, no task with two annotators, nothing
but ``O`` tokens) is None with a reason, never a division by zero.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from toolkit.metrics.spans import OVERALL as OVERALL
from toolkit.metrics.spans import PRF

NOT_ENOUGH_DATA = "not enough data"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class Scores(_Model):
    """Entity-level precision, recall and F1 of one label (or overall).

    ``precision`` is None when nothing was predicted, ``recall`` when the humans have
    no span; ``f1`` (= 2 tp / (predicted + gold)) when both are empty.
    """

    label: str
    true_positives: int
    predicted: int
    gold: int
    precision: float | None
    recall: float | None
    f1: float | None

    @classmethod
    def of(cls, label: str, prf: PRF) -> Scores:
        return cls(
            label=label,
            true_positives=prf.true_positives,
            predicted=prf.predicted,
            gold=prf.gold,
            precision=prf.precision,
            recall=prf.recall,
            f1=prf.f1,
        )


class EditExample(_Model):
    article_id: str
    task_id: int
    before: str | None  # "start-end LABEL 'text'" of the predicted span
    after: str | None  # the same of the human span


class ModelSection(_Model):
    status: str  # "ok" or NOT_ENOUGH_DATA
    reason: str | None = None
    tasks: int = 0  # annotated tasks that carry a prediction
    tasks_without_predictions: int = 0
    model_versions: list[str] = []
    strict_iob2: list[Scores] = []  # seqeval, mode="strict", scheme=IOB2, on spaCy tokens; last row overall
    exact_span: list[Scores] = []  # exact (start, end, label) character-span match; last row overall
    # Spans the token tags cannot carry: overlapping another span, or not alignable in the
    # configured modes (export.alignment_fallback none).
    tokens_lost: int = 0
    edits: dict[str, int] = {}
    examples: dict[str, list[EditExample]] = {}


class Agreement(_Model):
    label: str
    tasks: int  # tasks with several annotators where the label (any label, overall) occurs
    pairs: int  # annotator pairs on those tasks
    span_f1: float | None
    cohen_kappa: float | None
    krippendorff_alpha: float | None
    reason: str | None = None  # why a figure is None


class AgreementSection(_Model):
    status: str
    reason: str | None = None
    tasks: int = 0  # tasks submitted by at least two annotators
    annotators: int = 0
    pairs: int = 0
    tokens: int = 0
    per_label: list[Agreement] = []  # last row overall


class SidedWith(_Model):
    label: str
    annotator: str
    disputed_spans: int  # the annotator's spans of this label that another annotator did not have
    kept: int  # of those, in the adjudicated answer

    @property
    def share(self) -> float | None:
        return self.kept / self.disputed_spans if self.disputed_spans else None


class AdjudicationSection(_Model):
    """Disputes (``toolkit adjudicate``) and their decisions; ``articles`` 0: no article had several annotators
    or a decision."""

    articles: int = 0  # with several annotators
    agreed: int = 0
    found: int = 0  # disputed
    resolved: int = 0  # adjudicated
    pending: int = 0  # with a review task, not adjudicated
    not_sent: int = 0  # disputed, no review task yet
    stale: int = 0  # adjudicated, then an annotator changed, added or deleted an answer
    stale_articles: list[str] = []  # their article ids
    # Pairwise span F1 among the annotators before; after, with each adjudicated answer
    # standing for every annotator of its article (disputes settled count as agreement).
    agreement_before: float | None = None
    agreement_after: float | None = None
    sided_with: list[SidedWith] = []


class AnnotatorRow(_Model):
    annotator: str
    tasks: int
    skipped: int
    drafts: int
    median_lead_time: float | None
    predicted_spans: int  # spans of the predictions their annotations started from
    accepted_unchanged: int
    accepted_share: float | None
    flagged: bool
    flag_reason: str | None = None


class Progress(_Model):
    ledger: str | None  # the ledger read, or None when there is none
    tasks_total: int | None  # None without a ledger: tasks nobody annotated are unknown
    annotated: int
    not_annotated: int | None
    only_skipped: int | None
    skipped_annotations: int
    drafts: int
    # From the ledger: human spans pull left out, by reason, and spans it kept after a fix.
    spans_dropped: dict[str, int] = {}
    spans_repaired: int = 0


class Thresholds(_Model):
    accept_share: float
    fast_lead_time: float
    min_tasks: int


class AlignmentModes(_Model):
    """How spans were aligned to tokens: ``Doc.char_span`` in ``mode``, else in ``fallback``."""

    mode: str  # export.alignment
    fallback: str  # export.alignment_fallback


class Report(_Model):
    source: str
    tokenizer: str | None  # None when no token-level figure was needed
    alignment: AlignmentModes
    thresholds: Thresholds
    progress: Progress
    model: ModelSection
    agreement: AgreementSection
    annotators: list[AnnotatorRow]
    label_counts: dict[str, dict[str, int]]  # label -> {"human": n, "predicted": n}
    adjudication: AdjudicationSection = AdjudicationSection()

    def to_json(self) -> dict[str, Any]:
        """The whole report as plain JSON values (``toolkit report --json``)."""
        return self.model_dump(mode="json")
