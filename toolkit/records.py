"""The small typed records that flow one way through the loop.

articles -> predicted articles (pre-annotate) -> Label Studio tasks (push)
-> annotated articles (pull) -> dataset rows (export)

Each record is written as one JSON object per line. Offsets are Python ``str``
indices (Unicode code points), end exclusive: the unit spaCy and Label Studio use.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# A span as (start, end, label): what the metrics, the aligner and the diffs compare.
Key = tuple[int, int, str]


class _Record(BaseModel):
    # Later versions may add fields; older readers ignore what they do not know.
    model_config = ConfigDict(extra="ignore", frozen=True)

    def to_json_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class Span(_Record):
    start: int = Field(ge=0)
    end: int = Field(ge=1)
    label: str = Field(min_length=1)
    text: str | None = None
    # The model's confidence in [0, 1], on predicted spans.
    score: float | None = Field(default=None, ge=0, le=1)
    # Label Studio's provenance of a human span: prediction | prediction-changed | manual.
    origin: str | None = None
    # On pulled spans: the annotation the span comes from and its annotator's anonymous id
    # (the annotation, in ``AnnotatedArticle.annotations``, carries the lead time).
    annotation_id: int | None = None
    annotator: str | None = None

    @model_validator(mode="after")
    def _start_before_end(self) -> Span:
        if self.start >= self.end:
            raise ValueError(f"span start {self.start} is not before end {self.end}")
        return self

    @property
    def key(self) -> Key:
        return (self.start, self.end, self.label)


def span_keys(spans: list[Span] | list[Key]) -> list[Key]:
    return [span.key if isinstance(span, Span) else span for span in spans]


def tag_names(labels: list[str]) -> list[str]:
    """IOB2 tag names (a dataset row's ``ner_tags``): ``O`` first, then ``B-``/``I-`` per label in config order."""
    return ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]


class Article(_Record):
    """One news article: the normalised text that is pushed, pulled and exported."""

    id: str = Field(min_length=1)
    text: str = Field(min_length=1)
    title: str | None = None
    date: str | None = None
    source: str | None = None
    # The date as the input wrote it, when it differs from ``date`` (ISO 8601) or did not parse.
    date_original: str | None = None


# The scoring part of a record written with scores off.
UNSCORED = "unscored"
# What a scoring fingerprint looks like (Scoring.describe): the model_version's last word names it.
_SCORING = re.compile(r"unscored|beam\d+(\+cal-[A-Za-z0-9._-]+)?")


class Scoring(_Record):
    """How a run scored its predictions: the settings whose scores are comparable with each other.

    ``beam_width`` None: scores off (``spacy.scores: false``). ``calibration``: the id of the
    calibration applied to the beam's probabilities (None: the raw beam). Scores written with
    another fingerprint are other numbers: they are not resumed into one output, and each
    fingerprint is its own prediction set in Label Studio (``ModelInfo.model_version``).
    """

    beam_width: int | None = Field(default=None, ge=1)
    # One word of these characters, so that ``scoring_of`` reads it back from a model_version.
    calibration: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]+$")

    def describe(self) -> str:
        """``unscored``, ``beam8``, or ``beam8+cal-<id>``: the fingerprint as records and versions write it."""
        if self.beam_width is None:
            return UNSCORED
        return f"beam{self.beam_width}" + (f"+cal-{self.calibration}" if self.calibration else "")


def is_scored(scoring: str | None) -> bool | None:
    """Whether a fingerprint is of scored predictions; None: unknown (written before fingerprints)."""
    return None if scoring is None else scoring != UNSCORED


def scoring_of(model_version: str | None) -> str | None:
    """The scoring fingerprint a Label Studio model_version names (its last word), or None: a
    version pushed before versions named their scoring, or not the toolkit's."""
    last = (model_version or "").rpartition(" ")[2]
    return last if " " in (model_version or "") and _SCORING.fullmatch(last) else None


def model_of(model_version: str | None) -> str | None:
    """A Label Studio model_version without its scoring word: the model that made the
    predictions, whichever way they were scored (``en_core_web_md-3.8.0 beam8`` ->
    ``en_core_web_md-3.8.0``)."""
    if model_version is None or scoring_of(model_version) is None:
        return model_version
    return model_version.rpartition(" ")[0]


class ModelInfo(_Record):
    name: str
    version: str
    # How the predictions were scored (``Scoring.describe()``); None on the records of a run
    # before fingerprints were written, and where no prediction is made (a tokenizer, training).
    scoring: str | None = None

    @property
    def model_version(self) -> str:
        """The prediction set's name in Label Studio: the model, then its scoring (``en_core_web_md-3.8.0
        beam8``), so that predictions scored otherwise are another set and the stream compares one kind."""
        base = f"{self.name}-{self.version}"
        return f"{base} {self.scoring}" if self.scoring else base


class PredictedArticle(Article):
    """An article with the spans the model predicted."""

    model: ModelInfo
    spans: list[Span]
    # The task score in [0, 1] (1 / (1 + the expected wrong decisions of the model's beam),
    # toolkit.nlp.scoring), sent as the prediction score that the labeling stream follows,
    # lowest first; None when scores are off.
    score: float | None = Field(default=None, ge=0, le=1)


class Prediction(_Record):
    """One model version's spans for an article, as stored in Label Studio."""

    model_version: str
    spans: list[Span]
    score: float | None = None


class Annotation(_Record):
    """One human's submitted annotation of a task."""

    id: int
    annotator: str  # a stable anonymous id, never a name or an email
    spans: list[Span]
    created_at: str | None = None
    updated_at: str | None = None
    lead_time: float | None = None
    ground_truth: bool = False
    # The model version of the prediction the annotator started from, if any.
    model_version: str | None = None


class Decision(_Record):
    """How an article with several annotators got its answer (``toolkit adjudicate``, then pull).

    ``agreed``: every annotator's newest answer is the same (auto-accepted, final);
    ``adjudicated``: an adjudicator's submitted answer in the review project is the
    article's, whatever the pull policy; ``pending``: disputed, the review task not yet
    submitted; ``disputed``: disputed, no review task yet (run ``toolkit adjudicate``).
    For the last two the pull policy gave the spans.
    """

    status: Literal["agreed", "adjudicated", "pending", "disputed"]
    # The annotator versions the answer resolved: their annotation ids and anonymous ids.
    resolved: list[int] = Field(default_factory=list)
    annotators: list[str] = Field(default_factory=list)
    by: str | None = None  # the adjudicator's anonymous id
    review_task_id: int | None = None
    annotation_id: int | None = None  # the adjudication, in the review project
    # An annotator changed, added or deleted an answer after the review task was made: the
    # decision resolved earlier versions and still stands (pull and adjudicate report it).
    stale: bool = False


class AnnotatedArticle(Article):
    """An article with the spans the humans settled on in Label Studio.

    ``spans`` are the spans the pull policy chose (for ``latest``, those of the newest
    submitted annotation); ``annotations`` holds every submitted annotation of the task,
    chosen or not, and ``chosen`` the ids of those the spans come from.
    """

    task_id: int
    # The near-duplicate group (push's ``data.group``: the id of the group's first article);
    # export keeps a group in one split. None: the article is its own group.
    group: str | None = None
    spans: list[Span]
    chosen: list[int] = Field(min_length=1)
    annotations: list[Annotation] = Field(min_length=1)
    policy: str = "latest"
    predictions: list[Prediction] = Field(default_factory=list)
    # Anonymous ids of the annotators who skipped this task (their skips are not data).
    skipped_by: list[str] = Field(default_factory=list)
    # Drafts (started, never submitted) on this task: counted, never used.
    drafts: int = 0
    # Several annotators: agreed, adjudicated or still disputed (see ``Decision``).
    decision: Decision | None = None

    @property
    def chosen_annotations(self) -> list[Annotation]:
        return [annotation for annotation in self.annotations if annotation.id in self.chosen]

    @property
    def model_version(self) -> str | None:
        """The model version the chosen annotation started from, if any."""
        return next((a.model_version for a in self.chosen_annotations if a.model_version), None)


LedgerKind = Literal[
    "task_not_annotated",  # no annotation at all: not human data
    "task_only_skipped",  # every annotation was skipped
    "task_deleted",  # pulled before, gone from Label Studio now
    "task_no_text",  # the task data has no text to anchor spans in
    "annotation_skipped",  # one annotator skipped (was_cancelled)
    "annotation_draft",  # a draft, never submitted
    "annotation_not_chosen",  # submitted, but the pull policy chose another
    "span_dropped",  # a span left out of the output, with the reason
    "span_repaired",  # a span kept after a fix (re-anchored, trimmed), with the fix
    "span_other_control",  # a span of another Labels control than the article text's: not used
    "task_text_changed",  # the text was edited in Label Studio after the push
    "prediction_dropped",  # a model span that no longer fits the task's text
    "prediction_repaired",  # a model span re-anchored to the task's edited text
    "span_overruled",  # an annotator's span the adjudicated answer does not have
    "adjudication_text_changed",  # adjudicated on another text than the task's now: not used
    "adjudication_not_chosen",  # a submitted review answer older than the review task's newest: not used
    "adjudication_no_annotations",  # adjudicated, but the task has no submitted annotation left: no record
]


class LedgerEntry(_Record):
    """One human decision that did not reach the output as it was, and why.

    Pull writes these next to its output (see ``ledger_path``): every span of every
    annotation in a pull is either in the output or in the ledger.
    """

    kind: LedgerKind
    reason: str
    task_id: int
    article_id: str | None = None
    annotation_id: int | None = None
    annotator: str | None = None
    span: Span | None = None
    # Raw offsets/label of a span too broken to be a ``Span`` (e.g. start >= end).
    raw: dict[str, Any] | None = None


def ledger_path(output: str | Path) -> Path:
    """Where pull writes the ledger of the output file ``output``."""
    output = Path(output)
    return output.with_name(output.name.removesuffix(".jsonl") + ".ledger.jsonl")


# What each record is called in messages, and which command writes it.
_RECORD_NAMES: dict[str, tuple[str, str]] = {
    "PredictedArticle": ("a predicted article", "toolkit preannotate"),
    "AnnotatedArticle": ("an annotated article", "toolkit pull"),
    "LedgerEntry": ("a pull ledger", "toolkit pull"),
}


def _written_by(value: dict[str, Any]) -> str | None:
    """Which record a JSON object looks like, by the fields only that record has."""
    if "kind" in value and "reason" in value and "task_id" in value:
        return "LedgerEntry"
    if "task_id" in value and "annotations" in value:
        return "AnnotatedArticle"
    if "model" in value and "text" in value and "task_id" not in value:
        return "PredictedArticle"
    return None


def record_mismatch(where: str, value: dict[str, Any], expected: str, problem: str) -> tuple[str, str | None]:
    """The message and hint for a line that is not the record ``expected`` (a class name).

    Names the record as a user knows it (by the command that writes it), and when the
    line is another of the toolkit's records, says which file it looks like.
    """
    name, writer = _RECORD_NAMES.get(expected, (expected, None))
    message = f"{where}: not {name} record ({problem})"
    found = _written_by(value)
    if found is not None and found != expected:
        found_name, found_writer = _RECORD_NAMES[found]
        return message, f"this looks like {found_name} (written by `{found_writer}`); give the file `{writer}` writes"
    return message, f"give the file `{writer}` writes" if writer else None
