"""One exported Label Studio task -> annotated article record(s) plus ledger entries.

Per task: skipped annotations (``was_cancelled``) and drafts are not human data and go
to the ledger, counted; an annotation with an empty result is a valid "no entities here"
answer and is kept; a task without a submitted annotation yields no record. Several
annotations are resolved by the pull policy (``ground_truth``, ``latest``, ``majority``,
``all``). Every labelled span of every submitted annotation ends up in a record or in
the ledger: ``spans_in == spans_used + spans_dropped + spans_not_chosen``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from toolkit.config import PullConfig
from toolkit.errors import InputError
from toolkit.labelstudio.labeling import text_sha256
from toolkit.pull.spans import (
    NOT_INTEGERS,
    TRIMMED,
    WHITESPACE,
    ArticleControls,
    CleanResult,
    Dropped,
    PulledSpan,
    anchor,
    clean_spans,
    resolve_overlaps,
    trim,
)
from toolkit.records import AnnotatedArticle, LedgerEntry, Span

# A prediction span without value.text on a text that changed cannot be checked.
UNCHECKABLE = "the text was edited after the push and the span has no value.text to re-anchor by"

POLICIES = ("ground_truth", "latest", "majority", "all")


@dataclass
class PullCounts:
    """Totals of one pull; ``as_dict`` is what ``toolkit pull --json`` prints."""

    tasks: int = 0
    records: int = 0
    tasks_with_records: int = 0
    not_annotated: int = 0
    only_skipped: int = 0
    no_text: int = 0
    annotations: int = 0  # submitted (not skipped)
    skipped_annotations: int = 0
    drafts: int = 0
    not_chosen_annotations: int = 0
    empty_annotations: int = 0  # submitted with no spans: "no entities here"
    all_spans_dropped: int = 0  # submitted with spans, every one of them dropped (ledger)
    texts_changed: int = 0  # tasks whose text differs from the one pushed (text_sha256)
    spans_in: int = 0  # labelled spans in submitted annotations
    spans_used: int = 0  # of those, in a record
    spans_not_chosen: int = 0  # of those, in annotations the policy did not choose
    spans_out: int = 0  # spans written (majority merges agreeing spans into one)
    spans_dropped: Counter[str] = field(default_factory=Counter)
    spans_repaired: Counter[str] = field(default_factory=Counter)
    overlapping_spans: int = 0
    other_results: int = 0  # result items that are not labelled spans
    # labelled spans of other controls than the article text's, by control name: not
    # article spans, so outside spans_in
    other_control_spans: Counter[str] = field(default_factory=Counter)
    # model spans (of the predictions written with the records) re-anchored or dropped
    prediction_spans_repaired: Counter[str] = field(default_factory=Counter)
    prediction_spans_dropped: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans_dropped"] = dict(self.spans_dropped.most_common())
        data["spans_repaired"] = dict(self.spans_repaired.most_common())
        for name in ("other_control_spans", "prediction_spans_repaired", "prediction_spans_dropped"):
            data[name] = dict(getattr(self, name).most_common())
        data.pop("problems")
        return data

    def add(self, other: PullCounts) -> None:
        for name, value in vars(other).items():
            if isinstance(value, Counter):
                getattr(self, name).update(value)
            elif isinstance(value, list):
                getattr(self, name).extend(value)
            else:
                setattr(self, name, getattr(self, name) + value)


class AnnotatorIds:
    """Stable anonymous annotator ids: an HMAC of the Label Studio user id with a per-install secret.

    The same user gets the same id in every pull of this install; nobody without the
    secret can tell who it is, and no name or email is ever written.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret
        self._cache: dict[str, str] = {}

    def __call__(self, user: Any) -> str:
        if isinstance(user, dict):
            user = user.get("id")
        if user is None or user == "":
            return "ann-unknown"
        key = str(user)
        if key not in self._cache:
            digest = hmac.new(self._secret, f"user:{key}".encode(), hashlib.sha256).hexdigest()
            self._cache[key] = f"ann-{digest[:12]}"
        return self._cache[key]

    def of_draft(self, draft: dict[str, Any]) -> str:
        # Drafts name their user by email; ``created_username`` ends with ", <user id>".
        name = draft.get("created_username")
        if isinstance(name, str) and ", " in name and name.rsplit(", ", 1)[1].isdigit():
            return self(int(name.rsplit(", ", 1)[1]))
        user = draft.get("user")
        return self(user if isinstance(user, int) else None)


def _newest_key(annotation: dict[str, Any]) -> tuple[str, int]:
    return (annotation.get("updated_at") or annotation.get("created_at") or "", annotation.get("id") or 0)


def choose_annotation(annotations: list[dict[str, Any]], policy: str = "latest") -> dict[str, Any] | None:
    """The submitted annotation ``latest``/``ground_truth`` use: ground truth first if asked, then the newest."""
    submitted = [a for a in annotations if not a.get("was_cancelled")]
    if policy == "ground_truth":
        submitted = [a for a in submitted if a.get("ground_truth")] or submitted
    return max(submitted, key=_newest_key) if submitted else None


def task_fingerprint(task: dict[str, Any]) -> str:
    """What changes when anything a pull reads in the task changes (annotations, drafts, data)."""
    parts = [str(task.get("updated_at"))]
    for annotation in task.get("annotations") or []:
        parts.append(
            f"a{annotation.get('id')}:{annotation.get('updated_at')}:{annotation.get('was_cancelled')}:{annotation.get('ground_truth')}"
        )
    for draft in task.get("drafts") or []:
        parts.append(f"d{draft.get('id')}:{draft.get('updated_at')}")
    for prediction in task.get("predictions") or []:
        parts.append(f"p{prediction.get('id') if isinstance(prediction, dict) else prediction}")
    text = (task.get("data") or {}).get("text")
    parts.append(hashlib.blake2b(str(text).encode(), digest_size=8).hexdigest())
    return hashlib.blake2b("|".join(parts).encode(), digest_size=12).hexdigest()


def task_watermark(task: dict[str, Any]) -> str:
    """The newest timestamp in the task: the watermark of a pull is the largest of these."""
    stamps = [task.get("updated_at") or ""]
    stamps += [a.get("updated_at") or "" for a in task.get("annotations") or []]
    stamps += [d.get("updated_at") or "" for d in task.get("drafts") or []]
    return max(stamps)


@dataclass
class TaskOutcome:
    # JSON-ready ``AnnotatedArticle`` data (no None values): written as they are, since
    # validating tens of thousands of spans again would cost more than the pull's checks.
    records: list[dict[str, Any]]
    ledger: list[LedgerEntry]

    @property
    def articles(self) -> list[AnnotatedArticle]:
        return [AnnotatedArticle.model_validate(record) for record in self.records]


class TaskProcessor:
    """Turns exported tasks into records and ledger entries, adding to ``counts``."""

    def __init__(
        self,
        *,
        labels: list[str],
        pull: PullConfig,
        ids: AnnotatorIds,
        counts: PullCounts,
        controls: ArticleControls | None = None,
    ) -> None:
        self.labels = set(labels)
        self.pull = pull
        self.ids = ids
        self.counts = counts
        self.controls = controls or ArticleControls()

    def __call__(self, task: dict[str, Any]) -> TaskOutcome:
        counts = self.counts
        counts.tasks += 1
        task_id = task.get("id")
        if not isinstance(task_id, int):
            raise InputError(f"export: a task without an integer id ({str(task)[:80]})")
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        article_id = str(data.get("article_id") or f"ls-task-{task_id}")
        ledger: list[LedgerEntry] = []

        def entry(kind: str, reason: str, **extra: Any) -> None:
            ledger.append(LedgerEntry(kind=kind, reason=reason, task_id=task_id, article_id=article_id, **extra))

        drafts = [d for d in task.get("drafts") or [] if isinstance(d, dict)]
        for draft in drafts:
            counts.drafts += 1
            entry(
                "annotation_draft",
                "a draft, never submitted: not used",
                annotator=self.ids.of_draft(draft),
                raw={"draft_id": draft.get("id"), "spans": _count_labels(draft.get("result"), self.controls)},
            )
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
        skipped = [a for a in annotations if a.get("was_cancelled")]
        submitted = [a for a in annotations if not a.get("was_cancelled")]
        skipped_by: list[str] = []
        for annotation in skipped:
            counts.skipped_annotations += 1
            annotator = self.ids(annotation.get("completed_by"))
            if annotator not in skipped_by:
                skipped_by.append(annotator)
            entry(
                "annotation_skipped",
                "the annotator skipped the task",
                annotation_id=annotation.get("id"),
                annotator=annotator,
                raw={"spans": _count_labels(annotation.get("result"), self.controls)},
            )
        if not submitted:
            if skipped:
                counts.only_skipped += 1
                entry("task_only_skipped", f"every annotation was skipped ({len(skipped)})")
            else:
                counts.not_annotated += 1
                entry("task_not_annotated", "no submitted annotation: not human data")
            return TaskOutcome([], ledger)
        text = data.get("text")
        if not isinstance(text, str) or not text:
            counts.no_text += 1
            counts.annotations += len(submitted)
            entry(
                "task_no_text",
                "the task data has no text to anchor spans in; task left out",
                raw={"annotations": [a.get("id") for a in submitted]},
            )
            counts.problems.append(f"task {task_id}: no text in the task data; task left out")
            return TaskOutcome([], ledger)

        pushed = data.get("text_sha256")
        text_changed = isinstance(pushed, str) and pushed != text_sha256(text)
        if text_changed:
            counts.texts_changed += 1
            entry(
                "task_text_changed",
                "the text was edited in Label Studio after the push: "
                "human and model spans re-anchored where they fit, the others in the ledger",
            )
        by_prediction_id = _expanded_predictions(task)
        predictions = self._predictions(by_prediction_id, text, text_changed, entry)
        cleaned: dict[int, CleanResult] = {}
        # Records are built as plain data and validated once, whole (fast on large pulls).
        records_annotations: list[dict[str, Any]] = []
        for annotation in submitted:
            counts.annotations += 1
            annotation_id = annotation.get("id")
            if type(annotation_id) is not int:
                raise InputError(f"export: task {task_id} has an annotation without an integer id ({annotation_id!r})")
            annotator = self.ids(annotation.get("completed_by"))
            where = f"task {task_id} annotation {annotation_id}"
            clean = clean_spans(
                annotation.get("result"),
                text,
                labels=self.labels,
                overlaps=self.pull.overlaps,
                window=self.pull.reanchor_window,
                on_unknown_label=self._unknown_label(where),
                provenance={"annotation_id": annotation_id, "annotator": annotator},
                controls=self.controls,
            )
            cleaned[annotation_id] = clean
            counts.spans_in += clean.candidates
            counts.overlapping_spans += clean.overlapping
            counts.other_results += clean.other_results
            if clean.overlapping:
                counts.problems.append(f"{where}: {clean.overlapping} overlapping spans ({self.pull.overlaps})")
            for other in clean.other_controls:
                counts.other_control_spans[other.control] += 1
                entry(
                    "span_other_control",
                    f"a span of the control {other.control!r} on {other.target!r}, not on the article text: not used",
                    annotation_id=annotation_id,
                    annotator=annotator,
                    raw=other.raw,
                )
            for dropped in clean.dropped:
                self._dropped(entry, dropped, annotation_id, annotator, where)
            for repaired in clean.repaired:
                counts.spans_repaired[repaired.reason] += 1
                entry(
                    "span_repaired",
                    repaired.reason,
                    annotation_id=annotation_id,
                    annotator=annotator,
                    span=repaired.span.to_span(),
                    raw=repaired.raw,
                )
            if not clean.spans and clean.candidates:
                counts.all_spans_dropped += 1
            elif not clean.spans:
                counts.empty_annotations += 1
            record_annotation = {
                "id": annotation_id,
                "annotator": annotator,
                "spans": [span.as_dict() for span in clean.spans],
                "created_at": annotation.get("created_at"),
                "updated_at": annotation.get("updated_at"),
                "lead_time": lead_time if isinstance(lead_time := annotation.get("lead_time"), (int, float)) else None,
                "ground_truth": bool(annotation.get("ground_truth")),
                "model_version": _started_from(annotation, by_prediction_id),
            }
            records_annotations.append({k: v for k, v in record_annotation.items() if v is not None})
        base = {
            "id": article_id,
            "text": text,
            "title": _text_or_none(data.get("title")),
            "date": _text_or_none(data.get("date")),
            "source": _text_or_none(data.get("source")),
            "task_id": task_id,
            "annotations": records_annotations,
            "policy": self.pull.policy,
            "predictions": predictions,
            "skipped_by": skipped_by,
            "drafts": len(drafts),
        }
        records = self._apply_policy(submitted, cleaned, base, entry)
        counts.records += len(records)
        counts.tasks_with_records += 1
        counts.spans_out += sum(len(record["spans"]) for record in records)
        return TaskOutcome(records, ledger)

    def _unknown_label(self, where: str) -> Callable[[str], None] | None:
        if self.pull.unknown_labels != "fail":
            return None

        def fail(label: str) -> None:
            raise InputError(
                f"{where}: label {label!r} is not in the config's labels",
                hint="add it to `labels`, or set pull.unknown_labels: drop to leave such spans out (ledger)",
            )

        return fail

    def _dropped(
        self, entry: Callable[..., None], dropped: Dropped, annotation_id: Any, annotator: str, where: str
    ) -> None:
        self.counts.spans_dropped[dropped.reason] += 1
        entry(
            "span_dropped",
            dropped.reason,
            annotation_id=annotation_id,
            annotator=annotator,
            span=dropped.span.to_span() if dropped.span else None,
            raw=dropped.raw,
        )
        self.counts.problems.append(
            f"{where} span {dropped.raw.get('start')}-{dropped.raw.get('end')} "
            f"{dropped.raw.get('labels')}: {dropped.reason}"
        )

    def _not_chosen(self, entry: Callable[..., None], annotation: dict[str, Any], spans: int, why: str) -> None:
        self.counts.not_chosen_annotations += 1
        self.counts.spans_not_chosen += spans
        entry(
            "annotation_not_chosen",
            why,
            annotation_id=annotation.get("id"),
            annotator=self.ids(annotation.get("completed_by")),
            raw={"spans": spans},
        )

    def _apply_policy(
        self,
        submitted: list[dict[str, Any]],
        cleaned: dict[int, CleanResult],
        base: dict[str, Any],
        entry: Callable[..., None],
    ) -> list[dict[str, Any]]:
        policy = self.pull.policy
        newest_first = sorted(submitted, key=_newest_key, reverse=True)
        if policy in ("latest", "ground_truth"):
            chosen = choose_annotation(submitted, policy)
            assert chosen is not None
            why = (
                "the policy chose the ground-truth annotation"
                if chosen.get("ground_truth") and policy == "ground_truth"
                else "the policy chose the newest annotation"
            )
            for annotation in newest_first:
                if annotation is not chosen:
                    self._not_chosen(entry, annotation, len(cleaned[annotation["id"]].spans), f"{why} ({chosen['id']})")
            spans = cleaned[chosen["id"]].spans
            self.counts.spans_used += len(spans)
            return [_record(base, spans, [chosen["id"]])]
        # majority and all work on one annotation per annotator: their newest.
        per_annotator: dict[str, dict[str, Any]] = {}
        for annotation in newest_first:
            annotator = self.ids(annotation.get("completed_by"))
            if annotator in per_annotator:
                self._not_chosen(
                    entry,
                    annotation,
                    len(cleaned[annotation["id"]].spans),
                    f"the same annotator's newer annotation {per_annotator[annotator]['id']} counts",
                )
            else:
                per_annotator[annotator] = annotation
        voters = list(per_annotator.values())  # newest first
        if policy == "all":
            records = []
            for annotation in sorted(voters, key=lambda a: a["id"]):
                spans = cleaned[annotation["id"]].spans
                self.counts.spans_used += len(spans)
                records.append(_record(base, spans, [annotation["id"]]))
            return records
        return [self._majority(voters, cleaned, base, entry)]

    def _majority(
        self,
        voters: list[dict[str, Any]],
        cleaned: dict[int, CleanResult],
        base: dict[str, Any],
        entry: Callable[..., None],
    ) -> dict[str, Any]:
        """Span-level vote: a span wins with more than half the annotators; at exactly half, the newest decides."""
        total = len(voters)
        votes: Counter[tuple[int, int, str]] = Counter()
        for annotation in voters:
            votes.update(span.key for span in cleaned[annotation["id"]].spans)
        newest_keys = {span.key for span in cleaned[voters[0]["id"]].spans}
        winners: dict[tuple[int, int, str], PulledSpan] = {}
        for annotation in voters:  # newest first: a winning span keeps the newest annotation's provenance
            for span in cleaned[annotation["id"]].spans:
                count = votes[span.key]
                if span.key not in winners and (2 * count > total or (2 * count == total and span.key in newest_keys)):
                    winners[span.key] = span
        kept, dropped, overlapping = resolve_overlaps(
            sorted(winners.values(), key=lambda s: (s.start, s.end, s.label)), self.pull.overlaps
        )
        self.counts.overlapping_spans += overlapping
        dropped_keys = {d.span.key: d.reason for d in dropped if d.span is not None}
        kept_keys = {span.key for span in kept}
        for annotation in voters:
            annotator = self.ids(annotation.get("completed_by"))
            for span in cleaned[annotation["id"]].spans:
                if span.key in kept_keys:
                    self.counts.spans_used += 1
                    continue
                reason = dropped_keys.get(span.key) or f"outvoted: {votes[span.key]} of {total} annotators"
                self.counts.spans_dropped[reason.split(":")[0] if reason.startswith("outvoted") else reason] += 1
                entry(
                    "span_dropped", reason, annotation_id=annotation.get("id"), annotator=annotator, span=span.to_span()
                )
        return _record(base, kept, sorted(a["id"] for a in voters))

    def _predictions(
        self, predictions: dict[int, dict[str, Any]], text: str, text_changed: bool, entry: Callable[..., None]
    ) -> list[dict[str, Any]]:
        """The task's predictions against its current text, checked as strictly as human spans.

        A task's text can be edited in Label Studio after the push while its predictions
        keep their offsets: each model span must still cover its ``value.text`` (or be
        re-anchored to it, one reading only), else it is dropped and in the ledger.
        """
        counts = self.counts
        out = []
        for _, prediction in sorted(predictions.items()):
            model_version = prediction.get("model_version") or "undefined"
            spans = []
            for item in prediction.get("result") or []:
                value = item.get("value") if isinstance(item, dict) else None
                if not isinstance(value, dict) or item.get("type") != "labels" or not self.controls.owns(item):
                    continue
                start, end, item_labels = value.get("start"), value.get("end"), value.get("labels") or []
                if len(item_labels) != 1 or not isinstance(item_labels[0], str) or not item_labels[0]:
                    continue
                expected = value.get("text") if isinstance(value.get("text"), str) else None
                raw = {"start": start, "end": end, "labels": item_labels, "model_version": model_version}
                if expected is not None:
                    raw["text"] = expected
                fixes: list[str] = []
                if type(start) is not int or type(end) is not int:
                    reason: str | None = NOT_INTEGERS
                elif expected is None and text_changed:
                    reason = UNCHECKABLE
                else:
                    anchored = anchor(text, start, end, expected, self.pull.reanchor_window)
                    reason = anchored if isinstance(anchored, str) else None
                    if not isinstance(anchored, str):
                        start, end, fix = anchored
                        fixes = [fix] if fix else []
                        trimmed = trim(text, start, end)
                        if trimmed[0] >= trimmed[1]:
                            reason = WHITESPACE
                        elif trimmed != (start, end):
                            fixes.append(TRIMMED)
                            start, end = trimmed
                if reason is not None:
                    counts.prediction_spans_dropped[reason] += 1
                    entry("prediction_dropped", reason, raw=raw)
                    continue
                span = {"start": start, "end": end, "label": item_labels[0], "text": text[start:end]}
                score = item.get("score")
                if isinstance(score, (int, float)) and 0 <= score <= 1:
                    span["score"] = score
                spans.append(span)
                for fix in fixes:
                    counts.prediction_spans_repaired[fix] += 1
                    entry(
                        "prediction_repaired",
                        fix,
                        raw=raw,
                        span=Span(start=start, end=end, label=item_labels[0], text=text[start:end]),
                    )
            prediction_record: dict[str, Any] = {"model_version": model_version, "spans": spans}
            if isinstance(prediction.get("score"), (int, float)):
                prediction_record["score"] = prediction["score"]
            out.append(prediction_record)
        return out


def _text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _count_labels(result: Any, controls: ArticleControls) -> int:
    return sum(
        1 for item in result or [] if isinstance(item, dict) and item.get("type") == "labels" and controls.owns(item)
    )


def _started_from(annotation: dict[str, Any], predictions: dict[int, dict[str, Any]]) -> str | None:
    """The model version of the prediction the annotator started from, if the server knows it."""
    parent = annotation.get("parent_prediction")
    if isinstance(parent, int) and parent in predictions:
        return predictions[parent].get("model_version") or None
    # Without a known parent (annotations made through the API), the prediction the
    # server showed with the task, which it records on the annotation.
    shown = annotation.get("prediction")
    if isinstance(shown, dict) and shown.get("result"):
        return shown.get("model_version") or None
    return None


def _expanded_predictions(task: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The task's predictions by id: expanded in a snapshot export, else (the project's direct
    export gives ids only) the copies the server keeps on each annotation of the prediction
    it showed."""
    found: dict[int, dict[str, Any]] = {}
    for prediction in task.get("predictions") or []:
        if isinstance(prediction, dict) and isinstance(prediction.get("id"), int):
            found[prediction["id"]] = prediction
    for annotation in task.get("annotations") or []:
        shown = annotation.get("prediction") if isinstance(annotation, dict) else None
        if isinstance(shown, dict) and isinstance(shown.get("id"), int) and shown.get("result") is not None:
            found.setdefault(shown["id"], shown)
    return found


def _record(base: dict[str, Any], spans: list[PulledSpan], chosen: list[int]) -> dict[str, Any]:
    """One ``AnnotatedArticle`` as JSON-ready data, fields in the record's order, no None values."""
    record = {key: base[key] for key in ("id", "text", "title", "date", "source", "task_id") if base[key] is not None}
    record["spans"] = [span.as_dict() for span in spans]
    record["chosen"] = chosen
    for key in ("annotations", "policy", "predictions", "skipped_by", "drafts"):
        record[key] = base[key]
    return record
