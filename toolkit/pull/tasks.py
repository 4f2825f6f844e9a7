"""One exported Label Studio task -> annotated article record(s), ledger entries and its counts.

Per task: skipped annotations (``was_cancelled``) and drafts are not human data and go
to the ledger, counted; an annotation with an empty result is a valid "no entities here"
answer and is kept; a task without a submitted annotation yields no record. Several
annotations are resolved by the pull policy (``toolkit.annotations.policies``). Every
labelled span of every submitted annotation ends up in a record or in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from toolkit.annotations.disagreement import compare, versions_fingerprint
from toolkit.annotations.identities import AnnotatorIds
from toolkit.annotations.policies import Selection, majority_vote, newest_per_annotator, select
from toolkit.annotations.spans import (
    NOT_INTEGERS,
    CleanResult,
    Dropped,
    check_offsets,
    clean_annotation,
    resolve_overlaps,
)
from toolkit.config import Config
from toolkit.errors import InputError
from toolkit.labelstudio.labeling import text_sha256
from toolkit.labelstudio.results import ArticleControls, count_labelled, read_result
from toolkit.pull.decisions import Adjudication
from toolkit.pull.output import record, record_annotation, text_or_none
from toolkit.pull.summary import PullCounts
from toolkit.records import AnnotatedArticle, LedgerEntry, Span

# A prediction span without value.text on a text that changed cannot be checked.
UNCHECKABLE = "the text was edited after the push and the span has no value.text to re-anchor by"


@dataclass
class TaskOutcome:
    """What one task gave: records, ledger entries and the task's counts (to ``merge`` into a pull's)."""

    task_id: int
    article_id: str
    # JSON-ready ``AnnotatedArticle`` data (no None values): written as they are, since
    # validating tens of thousands of spans again would cost more than the pull's checks.
    records: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[LedgerEntry] = field(default_factory=list)
    counts: PullCounts = field(default_factory=lambda: PullCounts(tasks=1))

    def entry(self, kind: str, reason: str, **extra: Any) -> None:
        self.ledger.append(
            LedgerEntry(kind=kind, reason=reason, task_id=self.task_id, article_id=self.article_id, **extra)
        )

    @property
    def articles(self) -> list[AnnotatedArticle]:
        return [AnnotatedArticle.model_validate(record) for record in self.records]


def _title_made(task: dict[str, Any]) -> bool:
    """Whether push made the task's title up (``meta.title_from``: the article has none)."""
    meta = task.get("meta")
    return isinstance(meta, dict) and bool(meta.get("title_from"))


class TaskProcessor:
    """Turns exported tasks into records and ledger entries, each with its own counts."""

    def __init__(
        self,
        *,
        config: Config,
        ids: AnnotatorIds,
        controls: ArticleControls | None = None,
        adjudications: Mapping[int, Adjudication] | None = None,
    ) -> None:
        self.config = config
        self.pull = config.pull
        self.ids = ids
        self.controls = controls or ArticleControls()
        # Main task id -> its review task (``toolkit adjudicate``); None: no review project.
        self.adjudications = adjudications

    def annotator(self, annotation: dict[str, Any]) -> str:
        return self.ids(annotation.get("completed_by"))

    def __call__(self, task: dict[str, Any]) -> TaskOutcome:
        task_id = task.get("id")
        if not isinstance(task_id, int):
            raise InputError(f"export: a task without an integer id ({str(task)[:80]})")
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        outcome = TaskOutcome(task_id, str(data.get("article_id") or f"ls-task-{task_id}"))
        counts = outcome.counts

        drafts = [d for d in task.get("drafts") or [] if isinstance(d, dict)]
        for draft in drafts:
            counts.drafts += 1
            outcome.entry(
                "annotation_draft",
                "a draft, never submitted: not used",
                annotator=self.ids.of_draft(draft),
                raw={"draft_id": draft.get("id"), "spans": count_labelled(draft.get("result"), self.controls)},
            )
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
        skipped = [a for a in annotations if a.get("was_cancelled")]
        submitted = [a for a in annotations if not a.get("was_cancelled")]
        skipped_by: list[str] = []
        for annotation in skipped:
            counts.skipped_annotations += 1
            annotator = self.annotator(annotation)
            if annotator not in skipped_by:
                skipped_by.append(annotator)
            outcome.entry(
                "annotation_skipped",
                "the annotator skipped the task",
                annotation_id=annotation.get("id"),
                annotator=annotator,
                raw={"spans": count_labelled(annotation.get("result"), self.controls)},
            )
        if not submitted:
            self._decision_without_annotations(outcome)
            if skipped:
                counts.only_skipped += 1
                outcome.entry("task_only_skipped", f"every annotation was skipped ({len(skipped)})")
            else:
                counts.not_annotated += 1
                outcome.entry("task_not_annotated", "no submitted annotation: not human data")
            return outcome
        text = data.get("text")
        if not isinstance(text, str) or not text:
            counts.no_text += 1
            counts.annotations += len(submitted)
            outcome.entry(
                "task_no_text",
                "the task data has no text to anchor spans in; task left out",
                raw={"annotations": [a.get("id") for a in submitted]},
            )
            counts.problems.append(f"task {task_id}: no text in the task data; task left out")
            return outcome

        pushed = data.get("text_sha256")
        text_changed = isinstance(pushed, str) and pushed != text_sha256(text)
        if text_changed:
            counts.texts_changed += 1
            outcome.entry(
                "task_text_changed",
                "the text was edited in Label Studio after the push: "
                "human and model spans re-anchored where they fit, the others in the ledger",
            )
        by_prediction_id = _expanded_predictions(task)
        predictions = self._predictions(outcome, by_prediction_id, text, text_changed)
        cleaned: dict[int, CleanResult] = {}
        # Records are built as plain data and validated once, whole (fast on large pulls).
        records_annotations: list[dict[str, Any]] = []
        for annotation in submitted:
            annotation_id = annotation.get("id")
            if type(annotation_id) is not int:
                raise InputError(f"export: task {task_id} has an annotation without an integer id ({annotation_id!r})")
            cleaned[annotation_id] = self._clean(outcome, annotation, text)
            records_annotations.append(
                record_annotation(
                    annotation, self.annotator(annotation), cleaned[annotation_id].spans, by_prediction_id
                )
            )
        base = {
            "id": outcome.article_id,
            "text": text,
            # A title push made up for the Data Manager (the file name, the first words) is not the article's.
            "title": None if _title_made(task) else text_or_none(data.get("title")),
            "date": text_or_none(data.get("date")),
            "source": text_or_none(data.get("source")),
            # Only a near-duplicate's group is kept: an article alone is its own group (push sends
            # none for it now; older pushes sent its own id).
            "group": group if (group := text_or_none(data.get("group"))) != outcome.article_id else None,
            "task_id": task_id,
            "annotations": records_annotations,
            "policy": self.pull.policy,
            "predictions": predictions,
            "skipped_by": skipped_by,
            "drafts": len(drafts),
        }
        decided = self._decide(outcome, submitted, cleaned, base, text)
        outcome.records = [decided] if decided is not None else self._apply_policy(outcome, submitted, cleaned, base)
        counts.records += len(outcome.records)
        counts.tasks_with_records += 1
        counts.spans_out += sum(len(record["spans"]) for record in outcome.records)
        return outcome

    def _clean(self, outcome: TaskOutcome, annotation: dict[str, Any], text: str) -> CleanResult:
        """One submitted annotation's spans checked, each dropped or repaired one in the ledger."""
        counts = outcome.counts
        counts.annotations += 1
        annotation_id = annotation["id"]
        annotator = self.annotator(annotation)
        where = f"task {outcome.task_id} annotation {annotation_id}"
        read = read_result(annotation.get("result"), self.controls)
        clean = clean_annotation(
            read.labelled,
            text,
            self.config,
            on_unknown_label=self._unknown_label(where),
            provenance={"annotation_id": annotation_id, "annotator": annotator},
        )
        counts.spans_in += clean.candidates
        counts.overlapping_spans += clean.overlapping
        counts.other_results += read.other_results
        if clean.overlapping:
            counts.problems.append(f"{where}: {clean.overlapping} overlapping spans ({self.pull.overlaps})")
        for other in read.other_controls:
            counts.other_control_spans[other.control] += 1
            outcome.entry(
                "span_other_control",
                f"a span of the control {other.control!r} on {other.target!r}, not on the article text: not used",
                annotation_id=annotation_id,
                annotator=annotator,
                raw=other.raw,
            )
        for dropped in clean.dropped:
            _drop(outcome, dropped, annotation_id, annotator, where)
        for repaired in clean.repaired:
            counts.spans_repaired[repaired.reason] += 1
            outcome.entry(
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
        return clean

    def _unknown_label(self, where: str) -> Callable[[str], None] | None:
        if self.pull.unknown_labels != "fail":
            return None

        def fail(label: str) -> None:
            raise InputError(
                f"{where}: label {label!r} is not in the config's labels",
                hint="add it to `labels`, or set pull.unknown_labels: drop to leave such spans out (ledger)",
            )

        return fail

    def _apply_policy(
        self,
        outcome: TaskOutcome,
        submitted: list[dict[str, Any]],
        cleaned: dict[int, CleanResult],
        base: dict[str, Any],
    ) -> list[dict[str, Any]]:
        policy = self.pull.policy
        selection = select(submitted, policy, self.annotator)
        for left_out in selection.not_chosen:
            self._not_chosen(outcome, left_out.annotation, len(cleaned[left_out.annotation["id"]].spans), left_out.why)
        if policy == "majority":
            return [self._majority(outcome, selection, cleaned, base)]
        records = []
        for annotation in selection.chosen:
            spans = cleaned[annotation["id"]].spans
            outcome.counts.spans_used += len(spans)
            records.append(record(base, spans, [annotation["id"]]))
        return records

    def _decide(
        self,
        outcome: TaskOutcome,
        submitted: list[dict[str, Any]],
        cleaned: dict[int, CleanResult],
        base: dict[str, Any],
        text: str,
    ) -> dict[str, Any] | None:
        """The decision's record when an adjudication was submitted, else None (the policy decides);
        with several annotators, the article's ``decision`` noted in ``base`` either way.

        A submitted adjudication is the article's answer whatever the policy and however many
        annotators are left: once an annotator changed, deleted or added an answer since the
        review task was made, the decision still stands, marked ``stale`` and reported. Every
        annotator span it does not have is in the ledger (``span_overruled``). A decision made
        on another text than the task's now is not taken: it is in the ledger and the policy decides.
        """
        selection = newest_per_annotator(submitted, self.annotator)
        voters = selection.chosen
        adjudication = (self.adjudications or {}).get(outcome.task_id)
        decided = adjudication is not None and adjudication.decided
        if adjudication is not None:
            self._other_decisions(outcome, adjudication)
        if len(voters) < 2 and not decided:
            return None
        counts = outcome.counts
        versions = {self.annotator(a): cleaned[a["id"]].spans for a in voters}
        comparison = compare(versions)
        decision: dict[str, Any] = {
            "status": "agreed",
            "resolved": sorted(a["id"] for a in voters),
            "annotators": list(versions),
        }
        base["decision"] = decision
        if adjudication is not None and decided:
            if adjudication.text_sha256 == text_sha256(text):
                return self._adjudicated(outcome, adjudication, selection, cleaned, base, versions)
            self._text_changed(outcome, adjudication)
            if comparison.status == "single":
                del base["decision"]  # one annotator: no decision to note
                return None
        if comparison.status == "agreed":
            counts.agreed += 1
            return None
        counts.disputed += 1
        decision["status"] = "disputed" if adjudication is None else "pending"
        if adjudication is not None:
            decision["review_task_id"] = adjudication.review_task_id
        return None

    def _adjudicated(
        self,
        outcome: TaskOutcome,
        adjudication: Adjudication,
        selection: Selection,
        cleaned: dict[int, CleanResult],
        base: dict[str, Any],
        versions: dict[str, list[Any]],
    ) -> dict[str, Any]:
        """The record of a submitted adjudication; every annotator span it does not have in the ledger."""
        counts = outcome.counts
        voters = selection.chosen
        counts.adjudicated += 1
        decision = base["decision"]
        decision.update(
            status="adjudicated",
            resolved=adjudication.resolves or decision["resolved"],
            annotators=adjudication.annotators or decision["annotators"],
            by=adjudication.by,
            review_task_id=adjudication.review_task_id,
            annotation_id=adjudication.annotation_id,
        )
        if adjudication.versions is not None and adjudication.versions != versions_fingerprint(versions):
            decision["stale"] = True
            counts.changed_after_adjudication.append(outcome.article_id)
            counts.problems.append(
                f"task {outcome.task_id} ({outcome.article_id}): changed by an annotator after adjudication "
                f"(review task {adjudication.review_task_id}): the decision stands"
            )
        for left_out in selection.not_chosen:
            self._not_chosen(outcome, left_out.annotation, len(cleaned[left_out.annotation["id"]].spans), left_out.why)
        decided = {span.key for span in adjudication.spans}
        for annotation in voters:
            for span in cleaned[annotation["id"]].spans:
                if span.key in decided:
                    counts.spans_used += 1
                    continue
                counts.spans_dropped["overruled by the adjudication"] += 1
                outcome.entry(
                    "span_overruled",
                    f"not in the adjudicated answer (review task {adjudication.review_task_id}, by {adjudication.by})",
                    annotation_id=annotation.get("id"),
                    annotator=self.annotator(annotation),
                    span=span.to_span(),
                )
        spans = sorted(adjudication.spans, key=lambda s: (s.start, s.end, s.label))
        return record(base, spans, sorted(a["id"] for a in voters))

    def _text_changed(self, outcome: TaskOutcome, adjudication: Adjudication) -> None:
        outcome.counts.adjudications_text_changed += 1
        outcome.entry(
            "adjudication_text_changed",
            f"adjudicated in review task {adjudication.review_task_id} on another text than the task's now: "
            "not taken, the policy decides; adjudicate the article again",
            annotation_id=adjudication.annotation_id,
            annotator=adjudication.by,
        )
        outcome.counts.problems.append(
            f"task {outcome.task_id}: adjudicated on another text (review task {adjudication.review_task_id}); "
            "not taken"
        )

    def _other_decisions(self, outcome: TaskOutcome, adjudication: Adjudication) -> None:
        """The review task's submitted answers other than the newest (which wins): each in the ledger."""
        for other in adjudication.not_chosen:
            outcome.counts.adjudications_not_chosen += 1
            outcome.entry(
                "adjudication_not_chosen",
                f"review task {adjudication.review_task_id} has a newer submitted decision "
                f"(annotation {adjudication.annotation_id} by {adjudication.by}): the newest decision is taken",
                annotation_id=other.annotation_id,
                annotator=other.by,
                raw={"review_task_id": adjudication.review_task_id, "spans": other.spans},
            )
            outcome.counts.problems.append(
                f"task {outcome.task_id} ({outcome.article_id}): review task {adjudication.review_task_id} has "
                f"another submitted decision (annotation {other.annotation_id} by {other.by}); the newest is taken"
            )

    def _decision_without_annotations(self, outcome: TaskOutcome) -> None:
        """A submitted adjudication on a task with no submitted annotation left: no record can hold it."""
        adjudication = (self.adjudications or {}).get(outcome.task_id)
        if adjudication is None:
            return
        self._other_decisions(outcome, adjudication)
        if not adjudication.decided:
            return
        outcome.counts.adjudications_without_annotations += 1
        outcome.entry(
            "adjudication_no_annotations",
            f"adjudicated in review task {adjudication.review_task_id}, but the task has no submitted annotation "
            "left: no record; the decision stays in the review project",
            annotation_id=adjudication.annotation_id,
            annotator=adjudication.by,
            raw={"review_task_id": adjudication.review_task_id, "spans": len(adjudication.spans)},
        )
        outcome.counts.problems.append(
            f"task {outcome.task_id} ({outcome.article_id}): adjudicated (review task "
            f"{adjudication.review_task_id}) but no submitted annotation is left: no record"
        )

    def _not_chosen(self, outcome: TaskOutcome, annotation: dict[str, Any], spans: int, why: str) -> None:
        outcome.counts.not_chosen_annotations += 1
        outcome.counts.spans_not_chosen += spans
        outcome.entry(
            "annotation_not_chosen",
            why,
            annotation_id=annotation.get("id"),
            annotator=self.annotator(annotation),
            raw={"spans": spans},
        )

    def _majority(
        self, outcome: TaskOutcome, selection: Selection, cleaned: dict[int, CleanResult], base: dict[str, Any]
    ) -> dict[str, Any]:
        """The voted spans, then the overlap policy; every outvoted or overlapping span in the ledger."""
        counts = outcome.counts
        voters = selection.chosen  # newest first
        vote = majority_vote([cleaned[annotation["id"]].spans for annotation in voters])
        kept, dropped, overlapping = resolve_overlaps(
            sorted(vote.winners, key=lambda s: (s.start, s.end, s.label)), self.pull.overlaps
        )
        counts.overlapping_spans += overlapping
        dropped_keys = {d.span.key: d.reason for d in dropped if d.span is not None}
        kept_keys = {span.key for span in kept}
        for annotation in voters:
            annotator = self.annotator(annotation)
            for span in cleaned[annotation["id"]].spans:
                if span.key in kept_keys:
                    counts.spans_used += 1
                    continue
                reason = dropped_keys.get(span.key)
                counts.spans_dropped[reason or "outvoted"] += 1
                reason = reason or f"outvoted: {vote.votes[span.key]} of {vote.voters} annotators"
                outcome.entry(
                    "span_dropped", reason, annotation_id=annotation.get("id"), annotator=annotator, span=span.to_span()
                )
        return record(base, kept, sorted(a["id"] for a in voters))

    def _predictions(
        self, outcome: TaskOutcome, predictions: dict[int, dict[str, Any]], text: str, text_changed: bool
    ) -> list[dict[str, Any]]:
        """The task's predictions against its current text, checked as strictly as human spans.

        A task's text can be edited in Label Studio after the push while its predictions
        keep their offsets: each model span must still cover its ``value.text`` (or be
        re-anchored to it, one reading only), else it is dropped and in the ledger.
        """
        counts = outcome.counts
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
                label = item_labels[0]
                expected = value.get("text") if isinstance(value.get("text"), str) else None
                raw = {"start": start, "end": end, "labels": item_labels, "model_version": model_version}
                if expected is not None:
                    raw["text"] = expected
                checked = check_offsets(text, start, end, expected, self.pull.reanchor_window)
                if expected is None and text_changed and checked != NOT_INTEGERS:
                    checked = UNCHECKABLE
                if isinstance(checked, str):
                    counts.prediction_spans_dropped[checked] += 1
                    outcome.entry("prediction_dropped", checked, raw=raw)
                    continue
                start, end, fixes = checked
                span = {"start": start, "end": end, "label": label, "text": text[start:end]}
                score = item.get("score")
                if isinstance(score, (int, float)) and 0 <= score <= 1:
                    span["score"] = score
                spans.append(span)
                for fix in fixes:
                    counts.prediction_spans_repaired[fix] += 1
                    outcome.entry(
                        "prediction_repaired",
                        fix,
                        raw=raw,
                        span=Span(start=start, end=end, label=label, text=text[start:end]),
                    )
            prediction_record: dict[str, Any] = {"model_version": model_version, "spans": spans}
            if isinstance(prediction.get("score"), (int, float)):
                prediction_record["score"] = prediction["score"]
            out.append(prediction_record)
        return out


def _drop(outcome: TaskOutcome, dropped: Dropped, annotation_id: Any, annotator: str, where: str) -> None:
    outcome.counts.spans_dropped[dropped.reason] += 1
    outcome.entry(
        "span_dropped",
        dropped.reason,
        annotation_id=annotation_id,
        annotator=annotator,
        span=dropped.span.to_span() if dropped.span else None,
        raw=dropped.raw,
    )
    raw = dropped.raw
    outcome.counts.problems.append(
        f"{where} span {raw.get('start')}-{raw.get('end')} {raw.get('labels')}: {dropped.reason}"
    )


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
