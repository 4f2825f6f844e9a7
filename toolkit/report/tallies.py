"""The report's counts, gathered one article at a time; each tally does one job and merges.

Tallies keep a few ints per task (and the token tags of the tasks several annotators
share, for kappa and alpha), never an article's text: the report of a large pull reads
it once, in a stream. ``merge`` adds another tally of the same kind, so partial tallies
(say, of workers) sum to the tally of all their articles.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import TYPE_CHECKING

from toolkit.metrics.agreement import SpanAgreement
from toolkit.metrics.edits import EDIT_KINDS, classify_edits
from toolkit.metrics.spans import MatchCounts, exact_items, strict_entities
from toolkit.records import AnnotatedArticle, Annotation, LedgerEntry, Prediction, Span
from toolkit.report.model import EditExample

if TYPE_CHECKING:
    from toolkit.nlp.alignment import Alignment

# Tags an article's spans on its tokens (the article is tokenized once, on first use).
Tagger = Callable[[list[Span]], "Alignment"]

UNKNOWN_ANNOTATOR = "annotator-unknown"


def reference_prediction(article: AnnotatedArticle, model_version: str | None) -> Prediction | None:
    """The prediction an annotation started from: the one of its model version, else the first."""
    if not article.predictions:
        return None
    return next((p for p in article.predictions if p.model_version == model_version), article.predictions[0])


def latest_per_annotator(article: AnnotatedArticle) -> dict[str, Annotation]:
    """Each annotator's newest annotation of the task."""
    latest: dict[str, Annotation] = {}
    for annotation in sorted(article.annotations, key=lambda a: (a.updated_at or a.created_at or "", a.id)):
        latest[annotation.annotator] = annotation
    return latest


def _describe(span: Span | None, text: str) -> str | None:
    if span is None:
        return None
    return f"{span.start}-{span.end} {span.label} {text[span.start : span.end]!r}"


@dataclass
class ProgressTally:
    """Tasks annotated, skipped and drafted, from the articles and the pull's ledger."""

    annotated: set[int] = field(default_factory=set)
    # annotator -> tasks they skipped; each skip once, from the articles and the ledger.
    skipped: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    ledger_drafts: Counter[str] = field(default_factory=Counter)  # annotator -> drafts
    ledger_drafts_per_task: Counter[int] = field(default_factory=Counter)
    article_drafts: list[tuple[int, int]] = field(default_factory=list)  # (task, drafts) per article
    ledger_tasks: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # kind -> tasks
    spans_dropped: Counter[str] = field(default_factory=Counter)
    spans_repaired: int = 0

    def add_ledger(self, entry: LedgerEntry) -> None:
        self.ledger_tasks[entry.kind].add(entry.task_id)
        if entry.kind == "annotation_skipped":
            self.skipped[entry.annotator or UNKNOWN_ANNOTATOR].add(entry.task_id)
        elif entry.kind == "annotation_draft":
            self.ledger_drafts[entry.annotator or UNKNOWN_ANNOTATOR] += 1
            self.ledger_drafts_per_task[entry.task_id] += 1
        elif entry.kind == "span_dropped":
            self.spans_dropped[entry.reason] += 1
        elif entry.kind == "span_repaired":
            self.spans_repaired += 1

    def add(self, article: AnnotatedArticle) -> None:
        self.annotated.add(article.task_id)
        for annotator in article.skipped_by:
            self.skipped[annotator].add(article.task_id)
        if article.drafts:
            self.article_drafts.append((article.task_id, article.drafts))

    def merge(self, other: ProgressTally) -> ProgressTally:
        self.annotated |= other.annotated
        for annotator, tasks in other.skipped.items():
            self.skipped[annotator] |= tasks
        self.ledger_drafts.update(other.ledger_drafts)
        self.ledger_drafts_per_task.update(other.ledger_drafts_per_task)
        self.article_drafts.extend(other.article_drafts)
        for kind, tasks in other.ledger_tasks.items():
            self.ledger_tasks[kind] |= tasks
        self.spans_dropped.update(other.spans_dropped)
        self.spans_repaired += other.spans_repaired
        return self

    def drafts(self) -> Counter[str]:
        """Drafts per annotator. An article's drafts the ledger names count once; the rest
        (no ledger line says whose they are) go to ``annotator-unknown``."""
        drafts = Counter(self.ledger_drafts)
        missing = sum(max(0, count - self.ledger_drafts_per_task[task]) for task, count in self.article_drafts)
        if missing:
            drafts[UNKNOWN_ANNOTATOR] += missing
        return drafts


@dataclass
class ModelTally:
    """The prediction each annotated task started from against its final human spans."""

    examples: int = 3  # edit examples kept per kind
    compared: int = 0
    without_predictions: int = 0
    labels: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    exact: MatchCounts = field(default_factory=MatchCounts)
    strict: MatchCounts = field(default_factory=MatchCounts)
    edits: Counter[str] = field(default_factory=lambda: Counter({kind: 0 for kind in EDIT_KINDS}))
    shown: dict[str, list[EditExample]] = field(default_factory=lambda: {kind: [] for kind in EDIT_KINDS})
    tokens_lost: int = 0

    def add(self, article: AnnotatedArticle, prediction: Prediction | None, tags: Tagger) -> None:
        if prediction is None:
            self.without_predictions += 1
            return
        self.compared += 1
        self.versions.add(prediction.model_version)
        self.labels.update(span.label for span in [*article.spans, *prediction.spans])
        predicted_keys, human_keys = [s.key for s in prediction.spans], [s.key for s in article.spans]
        self.exact.add(exact_items(predicted_keys), exact_items(human_keys))
        predicted, human = tags(prediction.spans), tags(article.spans)
        self.tokens_lost += len(predicted.lost) + len(human.lost)
        self.strict.add(strict_entities(predicted.tags), strict_entities(human.tags))
        for kind, before, after in classify_edits(prediction.spans, article.spans):
            self.edits[kind] += 1
            if len(self.shown[kind]) < self.examples:
                self.shown[kind].append(
                    EditExample(
                        article_id=article.id,
                        task_id=article.task_id,
                        before=_describe(before, article.text),
                        after=_describe(after, article.text),
                    )
                )

    def merge(self, other: ModelTally) -> ModelTally:
        self.compared += other.compared
        self.without_predictions += other.without_predictions
        self.labels |= other.labels
        self.versions |= other.versions
        self.exact.merge(other.exact)
        self.strict.merge(other.strict)
        self.edits.update(other.edits)
        for kind, examples in other.shown.items():
            shown = self.shown.setdefault(kind, [])
            shown.extend(examples[: max(0, self.examples - len(shown))])
        self.tokens_lost += other.tokens_lost
        return self


@dataclass
class AgreementTally:
    """The tasks several annotators submitted: their spans' pairwise counts and token tags."""

    tasks: int = 0
    annotators: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    tagged: list[dict[str, list[str]]] = field(default_factory=list)  # per task: annotator -> tags
    label_tasks: Counter[str] = field(default_factory=Counter)
    label_pairs: Counter[str] = field(default_factory=Counter)
    spans: SpanAgreement = field(default_factory=SpanAgreement)
    pairs: int = 0

    def add(self, by_annotator: dict[str, Annotation], tags: Tagger) -> None:
        self.tasks += 1
        self.annotators.update(by_annotator)
        self.tagged.append({name: tags(annotation.spans).tags for name, annotation in by_annotator.items()})
        used = {span.label for annotation in by_annotator.values() for span in annotation.spans}
        self.labels |= used
        pairs = len(list(combinations(by_annotator, 2)))
        self.pairs += pairs
        for label in used:
            self.label_tasks[label] += 1
            self.label_pairs[label] += pairs
        self.spans.merge(SpanAgreement.of_task({name: [s.key for s in a.spans] for name, a in by_annotator.items()}))

    def merge(self, other: AgreementTally) -> AgreementTally:
        self.tasks += other.tasks
        self.annotators |= other.annotators
        self.labels |= other.labels
        self.tagged.extend(other.tagged)
        self.label_tasks.update(other.label_tasks)
        self.label_pairs.update(other.label_pairs)
        self.spans.merge(other.spans)
        self.pairs += other.pairs
        return self


@dataclass
class AnnotatorTally:
    """Per annotator: tasks, lead times, and the predicted spans they accepted unchanged."""

    tasks: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    lead_times: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    predicted_spans: Counter[str] = field(default_factory=Counter)
    accepted: Counter[str] = field(default_factory=Counter)

    def add(self, article: AnnotatedArticle) -> None:
        for annotation in article.annotations:
            name = annotation.annotator
            self.tasks[name].add(article.task_id)
            if annotation.lead_time is not None:
                self.lead_times[name].append(annotation.lead_time)
            started_from = reference_prediction(article, annotation.model_version)
            if started_from is None:
                continue
            self.predicted_spans[name] += len(started_from.spans)
            self.accepted[name] += sum(
                kind == "accepted unchanged" for kind, _, _ in classify_edits(started_from.spans, annotation.spans)
            )

    def merge(self, other: AnnotatorTally) -> AnnotatorTally:
        for name, tasks in other.tasks.items():
            self.tasks[name] |= tasks
        for name, times in other.lead_times.items():
            self.lead_times[name].extend(times)
        self.predicted_spans.update(other.predicted_spans)
        self.accepted.update(other.accepted)
        return self


@dataclass
class LabelTally:
    """Spans per label: the humans' final spans and the reference predictions'."""

    human: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)

    def add(self, article: AnnotatedArticle, prediction: Prediction | None) -> None:
        self.human.update(span.label for span in article.spans)
        if prediction is not None:
            self.predicted.update(span.label for span in prediction.spans)

    def merge(self, other: LabelTally) -> LabelTally:
        self.human.update(other.human)
        self.predicted.update(other.predicted)
        return self


@dataclass
class AdjudicationTally:
    """Decisions on articles with several annotators: counts, agreement before and after, whom the adjudicator kept."""

    statuses: Counter[str] = field(default_factory=Counter)
    stale: int = 0
    stale_articles: list[str] = field(default_factory=list)
    before: SpanAgreement = field(default_factory=SpanAgreement)
    after: SpanAgreement = field(default_factory=SpanAgreement)
    # (label, annotator) -> [their disputed spans, of those kept by the adjudicator]
    sided: dict[tuple[str, str], list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def add(self, article: AnnotatedArticle, by_annotator: dict[str, Annotation]) -> None:
        decision = article.decision
        # An adjudicated article counts however many annotators are left (one deleted their answer since).
        if decision is None or (len(by_annotator) < 2 and decision.status != "adjudicated"):
            return
        self.statuses[decision.status] += 1
        versions = {annotator: {s.key for s in a.spans} for annotator, a in by_annotator.items()}
        self.before.merge(SpanAgreement.of_task(versions))
        if decision.status != "adjudicated":
            self.after.merge(SpanAgreement.of_task(versions))
            return
        self.stale += decision.stale
        if decision.stale:
            self.stale_articles.append(article.id)
        final = {s.key for s in article.spans}
        self.after.merge(SpanAgreement.of_task({annotator: final for annotator in versions}))
        common = set.intersection(*versions.values())
        for annotator, keys in versions.items():
            for key in keys - common:
                counts = self.sided[(key[2], annotator)]
                counts[0] += 1
                counts[1] += key in final

    def merge(self, other: AdjudicationTally) -> AdjudicationTally:
        self.statuses.update(other.statuses)
        self.stale += other.stale
        self.stale_articles.extend(other.stale_articles)
        self.before.merge(other.before)
        self.after.merge(other.after)
        for key, (disputed, kept) in other.sided.items():
            self.sided[key][0] += disputed
            self.sided[key][1] += kept
        return self


@dataclass
class ReportTally:
    """Every section's tally; ``add`` gives an article to each one that needs it."""

    examples: int = 3
    progress: ProgressTally = field(default_factory=ProgressTally)
    model: ModelTally = field(init=False)
    agreement: AgreementTally = field(default_factory=AgreementTally)
    annotators: AnnotatorTally = field(default_factory=AnnotatorTally)
    labels: LabelTally = field(default_factory=LabelTally)
    adjudication: AdjudicationTally = field(default_factory=AdjudicationTally)
    articles: int = 0
    tokenized: bool = False  # whether any article needed its tokens

    def __post_init__(self) -> None:
        self.model = ModelTally(examples=self.examples)

    def add(self, article: AnnotatedArticle, tags: Tagger) -> None:
        """Count one article; ``tags`` is called only for the sections that need tokens."""

        def tagged(spans: list[Span]) -> Alignment:
            self.tokenized = True
            return tags(spans)

        self.articles += 1
        self.progress.add(article)
        prediction = reference_prediction(article, article.model_version)
        self.labels.add(article, prediction)
        self.model.add(article, prediction, tagged)
        by_annotator = latest_per_annotator(article)
        if len(by_annotator) >= 2:
            self.agreement.add(by_annotator, tagged)
        self.adjudication.add(article, by_annotator)
        self.annotators.add(article)

    def merge(self, other: ReportTally) -> ReportTally:
        self.progress.merge(other.progress)
        self.model.merge(other.model)
        self.agreement.merge(other.agreement)
        self.annotators.merge(other.annotators)
        self.labels.merge(other.labels)
        self.adjudication.merge(other.adjudication)
        self.articles += other.articles
        self.tokenized = self.tokenized or other.tokenized
        return self
