"""Report on a pull: what the humans corrected, and how much they agree.

pulled annotated articles (+ the pull's ledger) -> a ``Report`` with four sections:

- progress: tasks in total, annotated, skipped, drafts; per annotator;
- model against human: the pre-annotations measured against the final human spans,
  entity-level precision/recall/F1 per label, both seqeval's strict IOB2 mode on spaCy
  tokens and exact character-span match, and the edits the humans made;
- agreement on tasks several annotators submitted: pairwise span F1, Cohen's kappa and
  Krippendorff's alpha on token tags, per label and overall, with the tasks they rest on;
- per annotator: tasks, median lead time, share of predictions accepted unchanged, and a
  flag for annotators who accept nearly everything very fast.

A figure that cannot be computed (no predictions, no task with two annotators, nothing
but ``O`` tokens) is ``None`` with a reason, never a division by zero. The report is a
pydantic model: ``--json`` is its dump; ``report_markdown`` and ``toolkit.report.html``
render the same figures.
"""

from __future__ import annotations

import math
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from toolkit.config import Config
from toolkit.errors import ModelError
from toolkit.io.jsonl import read_records
from toolkit.metrics.edits import EDIT_KINDS, classify_edits
from toolkit.records import AnnotatedArticle, Annotation, LedgerEntry, Prediction, Span, ledger_path

if TYPE_CHECKING:
    from spacy.tokens import Doc

NOT_ENOUGH_DATA = "not enough data"
OVERALL = "overall"


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
    tokens_lost: int = 0  # spans the token tags cannot carry (overlap another span)
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


class Report(_Model):
    source: str
    tokenizer: str | None  # None when no token-level figure was needed
    thresholds: Thresholds
    progress: Progress
    model: ModelSection
    agreement: AgreementSection
    annotators: list[AnnotatorRow]
    label_counts: dict[str, dict[str, int]]  # label -> {"human": n, "predicted": n}


# ---------------------------------------------------------------- tokens


class LazyTokenizer:
    """The configured pipeline's tokenizer, loaded on the first call only.

    When the model cannot be loaded, a blank ``spacy.blank(language)`` tokenizer is used
    instead and ``name`` says so: the report is still useful, the tokens differ only
    where the model's tokenizer has custom rules.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.name: str | None = None
        self._make_doc: Callable[[str], Doc] | None = None

    def __call__(self, text: str) -> Doc:
        if self._make_doc is None:
            self._make_doc, self.name = load_tokenizer(self.config)
        return self._make_doc(text)


def load_tokenizer(config: Config) -> tuple[Callable[[str], Doc], str]:
    """``(make_doc, description)``: the configured model's tokenizer, else a blank one."""
    from toolkit.nlp.pipeline import load_pipeline

    try:
        pipeline = load_pipeline(config, scores=False)
    except ModelError as error:
        import spacy

        language = config.export.language
        return spacy.blank(
            language
        ).tokenizer, f"blank spacy.blank({language!r}) tokenizer (model not loadable: {error})"
    return pipeline.nlp.tokenizer, f"{pipeline.model.name} {pipeline.model.version} tokenizer"


def token_tags(doc: Doc, spans: Iterable[Span]) -> tuple[list[str], int]:
    """IOB2 tags of the non-whitespace tokens, and how many spans they cannot carry.

    Spans are aligned with ``Doc.char_span(alignment_mode="expand")`` (a span ending
    inside a token covers that token); a span overlapping an earlier one is counted.
    Whitespace tokens are left out, as in the exported dataset.
    """
    tags = ["O"] * len(doc)
    lost = 0
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        aligned = doc.char_span(span.start, span.end, alignment_mode="expand")
        if aligned is None or len(aligned) == 0 or any(tags[i] != "O" for i in range(aligned.start, aligned.end)):
            lost += 1
            continue
        tags[aligned.start] = f"B-{span.label}"
        for i in range(aligned.start + 1, aligned.end):
            tags[i] = f"I-{span.label}"
    return [tags[i] for i in _words(doc)], lost


def _words(doc: Doc) -> list[int]:
    """Indices of the non-whitespace tokens (read as an array: no Token object per token)."""
    from spacy.attrs import IS_SPACE

    return [i for i, space in enumerate(doc.to_array(IS_SPACE).tolist()) if not space]


# ---------------------------------------------------------------- scores


def scores(label: str, true_positives: int, predicted: int, gold: int) -> Scores:
    total = predicted + gold
    return Scores(
        label=label,
        true_positives=true_positives,
        predicted=predicted,
        gold=gold,
        precision=true_positives / predicted if predicted else None,
        recall=true_positives / gold if gold else None,
        f1=2 * true_positives / total if total else None,
    )


def _score_table(counts: dict[str, Counter[str]], labels: list[str]) -> list[Scores]:
    """Per-label rows (labels that occur, in config order) and an overall (micro) row."""
    present = [label for label in labels if counts["predicted"][label] or counts["gold"][label]]
    rows = [scores(label, counts["tp"][label], counts["predicted"][label], counts["gold"][label]) for label in present]
    rows.append(
        scores(OVERALL, sum(counts["tp"].values()), sum(counts["predicted"].values()), sum(counts["gold"].values()))
    )
    return rows


def _count(
    counts: dict[str, Counter[str]], predicted: Iterable[tuple[Any, str]], gold: Iterable[tuple[Any, str]]
) -> None:
    """Count predicted, gold and matched items; each item is ``(key, label)``."""
    predicted, gold = set(predicted), set(gold)
    for _, label in predicted:
        counts["predicted"][label] += 1
    for _, label in gold:
        counts["gold"][label] += 1
    for _, label in predicted & gold:
        counts["tp"][label] += 1


def _new_counts() -> dict[str, Counter[str]]:
    return {"tp": Counter(), "predicted": Counter(), "gold": Counter()}


def strict_entities(tags: list[str], sentence: int) -> list[tuple[tuple[int, int, int], str]]:
    """The entities seqeval finds in strict IOB2 mode, as ``((sentence, start, end), label)``.

    In strict IOB2 an entity is a ``B-X`` and the ``I-X`` right after it; any other ``I``
    starts nothing. Found here in one pass: seqeval builds several objects per token,
    which was half the report's time on a large pull. The tests check the result
    against seqeval's own ``Entities`` on random, also malformed, tag sequences.
    """
    found = []
    position, count = 0, len(tags)
    while position < count:
        tag = tags[position]
        if tag.startswith("B-"):
            label, inside, end = tag[2:], "I-" + tag[2:], position + 1
            while end < count and tags[end] == inside:
                end += 1
            found.append(((sentence, position, end), label))
            position = end
        else:
            position += 1
    return found


# ---------------------------------------------------------------- edits


def _describe(span: Span | None, text: str) -> str | None:
    if span is None:
        return None
    return f"{span.start}-{span.end} {span.label} {text[span.start : span.end]!r}"


def reference_prediction(article: AnnotatedArticle, model_version: str | None) -> Prediction | None:
    """The prediction an annotation started from: the one of its model version, else the first."""
    if not article.predictions:
        return None
    return next((p for p in article.predictions if p.model_version == model_version), article.predictions[0])


# ---------------------------------------------------------------- sections


def _labels(config: Config, found: Iterable[str]) -> list[str]:
    """The config's labels, then any other label found in the data (sorted)."""
    extra = sorted(set(found) - set(config.labels))
    return [*config.labels, *extra]


def _latest_per_annotator(article: AnnotatedArticle) -> dict[str, Annotation]:
    latest: dict[str, Annotation] = {}
    for annotation in sorted(article.annotations, key=lambda a: (a.updated_at or a.created_at or "", a.id)):
        latest[annotation.annotator] = annotation
    return latest


class _TagCodes:
    """IOB2 tags as integer codes, and per label a projection that maps other labels' tags to O."""

    def __init__(self, labels: list[str]) -> None:
        import numpy as np

        self.names = ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]
        self.code = {name: number for number, name in enumerate(self.names)}
        self.projection = {OVERALL: np.arange(len(self.names))}
        for label in labels:
            self.projection[label] = np.array([n if name[2:] == label else 0 for n, name in enumerate(self.names)])

    def encode(self, tags: list[str]) -> Any:
        import numpy as np

        return np.fromiter((self.code[tag] for tag in tags), dtype=np.int64, count=len(tags))


class _AgreementUnits:
    """The token tags of the tasks several annotators submitted, for kappa and alpha.

    Tokens are the units; each annotator of a task gives one tag per token.
    """

    def __init__(self, tags: _TagCodes, tagged: list[dict[str, list[str]]]) -> None:
        import numpy as np

        self.tags = tags
        size = len(tags.names)
        self.tokens = sum(len(next(iter(task.values()))) for task in tagged)
        # Cohen's kappa: every annotator pair of every task, the first by annotator id as rater A.
        first, second = [], []
        # Krippendorff's alpha: per token, how many annotators gave each tag.
        self.counts = np.zeros((self.tokens, size), dtype=np.int64)
        offset = 0
        for task in tagged:
            codes = {name: tags.encode(values) for name, values in task.items()}
            length = len(next(iter(task.values())))
            for values in codes.values():
                self.counts[np.arange(offset, offset + length), values] += 1
            for a, b in combinations(sorted(codes), 2):
                first.append(codes[a])
                second.append(codes[b])
            offset += length
        self.first = np.concatenate(first) if first else np.zeros(0, dtype=np.int64)
        self.second = np.concatenate(second) if second else np.zeros(0, dtype=np.int64)

    def kappa(self, label: str) -> float | None:
        """Cohen's kappa, (p_o - p_e) / (1 - p_e), of the pooled pairs; None when p_e is 1."""
        import numpy as np

        if not len(self.first):
            return None
        size = len(self.tags.names)
        projection = self.tags.projection[label]
        a, b = projection[self.first], projection[self.second]
        confusion = np.bincount(a * size + b, minlength=size * size).reshape(size, size)
        total = confusion.sum()
        observed = np.trace(confusion) / total
        expected = float(confusion.sum(axis=1) @ confusion.sum(axis=0)) / total**2
        if expected >= 1.0:
            return None
        return float((observed - expected) / (1 - expected))

    def alpha(self, label: str) -> float | None:
        """Krippendorff's alpha, nominal, from the value counts; None when only one tag occurs."""
        import numpy as np

        projection = self.tags.projection[label]
        size = len(self.tags.names)
        # Sum the columns of the tags that project onto the same tag.
        merge = np.zeros((size, size), dtype=np.int64)
        merge[np.arange(size), projection] = 1
        counts = self.counts @ merge
        counts = counts[:, counts.sum(axis=0) > 0]
        if counts.shape[1] < 2:
            return None
        import krippendorff

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            alpha = float(krippendorff.alpha(value_counts=counts, level_of_measurement="nominal"))
        return None if math.isnan(alpha) else alpha


class _Tally:
    """Every section's figures, gathered in one pass over the articles.

    The articles are read once and not kept: the memory grows with the tasks several
    annotators share (their token tags, for kappa and alpha) and a few ints per task, not
    with the text of the corpus.
    """

    def __init__(
        self, config: Config, ledger: list[LedgerEntry], make_doc: Callable[[str], Doc], examples: int
    ) -> None:
        self.config, self.ledger, self.make_doc, self.examples = config, ledger, make_doc, examples
        self.tokenized = False
        self.articles = 0
        self.annotated: set[int] = set()
        # annotator -> tasks they skipped; each skip once, from the articles and the ledger.
        self.skipped: dict[str, set[int]] = defaultdict(set)
        # annotator -> drafts. A task's drafts counted on the article and in the ledger count once.
        self.drafts: Counter[str] = Counter()
        self.drafts_in_ledger: Counter[int] = Counter()
        for entry in ledger:
            if entry.kind == "annotation_skipped":
                self.skipped[entry.annotator or "annotator-unknown"].add(entry.task_id)
            elif entry.kind == "annotation_draft":
                self.drafts[entry.annotator or "annotator-unknown"] += 1
                self.drafts_in_ledger[entry.task_id] += 1
        # model against human
        self.compared = 0
        self.without_predictions = 0
        self.model_labels: set[str] = set()
        self.model_versions: set[str] = set()
        self.exact, self.strict = _new_counts(), _new_counts()
        self.edits: Counter[str] = Counter({kind: 0 for kind in EDIT_KINDS})
        self.shown: dict[str, list[EditExample]] = {kind: [] for kind in EDIT_KINDS}
        self.tokens_lost = 0
        # agreement
        self.shared_tasks = 0
        self.shared_annotators: set[str] = set()
        self.shared_labels: set[str] = set()
        self.tagged: list[dict[str, list[str]]] = []
        self.label_tasks: Counter[str] = Counter()
        self.label_pairs: Counter[str] = Counter()
        self.span_counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # matched, total of both sides
        self.pairs = 0
        # per annotator
        self.annotator_tasks: dict[str, set[int]] = defaultdict(set)
        self.lead_times: dict[str, list[float]] = defaultdict(list)
        self.predicted_spans: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        # label counts
        self.human_labels: Counter[str] = Counter()
        self.predicted_labels: Counter[str] = Counter()

    def add(self, article: AnnotatedArticle) -> None:
        self.articles += 1
        self.annotated.add(article.task_id)
        for annotator in article.skipped_by:
            self.skipped[annotator].add(article.task_id)
        missing = article.drafts - self.drafts_in_ledger[article.task_id]
        if missing > 0:
            self.drafts["annotator-unknown"] += missing
        doc: list[Doc] = []  # tokenized at most once per article, and only when a section needs it

        def tokens() -> Doc:
            if not doc:
                self.tokenized = True
                doc.append(self.make_doc(article.text))
            return doc[0]

        prediction = reference_prediction(article, article.model_version)
        self.human_labels.update(span.label for span in article.spans)
        if prediction is None:
            self.without_predictions += 1
        else:
            self.predicted_labels.update(span.label for span in prediction.spans)
            self._compare(article, prediction, tokens())
        by_annotator = _latest_per_annotator(article)
        if len(by_annotator) >= 2:
            self._agree(by_annotator, tokens())
        for annotation in article.annotations:
            name = annotation.annotator
            self.annotator_tasks[name].add(article.task_id)
            if annotation.lead_time is not None:
                self.lead_times[name].append(annotation.lead_time)
            started_from = reference_prediction(article, annotation.model_version)
            if started_from is None:
                continue
            self.predicted_spans[name] += len(started_from.spans)
            self.accepted[name] += sum(
                kind == "accepted unchanged" for kind, _, _ in classify_edits(started_from.spans, annotation.spans)
            )

    def _compare(self, article: AnnotatedArticle, prediction: Prediction, doc: Doc) -> None:
        number = self.compared
        self.compared += 1
        self.model_versions.add(prediction.model_version)
        self.model_labels.update(span.label for span in [*article.spans, *prediction.spans])
        _count(self.exact, ((s.key, s.label) for s in prediction.spans), ((s.key, s.label) for s in article.spans))
        predicted_tags, lost_predicted = token_tags(doc, prediction.spans)
        human_tags, lost_human = token_tags(doc, article.spans)
        self.tokens_lost += lost_predicted + lost_human
        _count(self.strict, strict_entities(predicted_tags, number), strict_entities(human_tags, number))
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

    def _agree(self, by_annotator: dict[str, Annotation], doc: Doc) -> None:
        self.shared_tasks += 1
        self.shared_annotators.update(by_annotator)
        self.tagged.append({name: token_tags(doc, annotation.spans)[0] for name, annotation in by_annotator.items()})
        used = {span.label for annotation in by_annotator.values() for span in annotation.spans}
        self.shared_labels |= used
        task_pairs = list(combinations(sorted(by_annotator), 2))
        self.pairs += len(task_pairs)
        for label in used:
            self.label_tasks[label] += 1
            self.label_pairs[label] += len(task_pairs)
        for first, second in task_pairs:
            a, b = by_annotator[first].spans, by_annotator[second].spans
            # A label neither side uses adds nothing: only the pair's labels are counted.
            for label in [*{s.label for s in [*a, *b]}, OVERALL]:
                keys_a = {s.key for s in a if label in (OVERALL, s.label)}
                keys_b = {s.key for s in b if label in (OVERALL, s.label)}
                self.span_counts[label][0] += 2 * len(keys_a & keys_b)
                self.span_counts[label][1] += len(keys_a) + len(keys_b)

    # --- the sections, once every article is added

    def progress(self, ledger_file: Path | None) -> Progress:
        annotated = self.annotated
        skipped_annotations = sum(len(tasks) for tasks in self.skipped.values())
        if ledger_file is None:
            return Progress(
                ledger=None,
                tasks_total=None,
                annotated=len(annotated),
                not_annotated=None,
                only_skipped=None,
                skipped_annotations=skipped_annotations,
                drafts=sum(self.drafts.values()),
            )
        tasks_by_kind: dict[str, set[int]] = defaultdict(set)
        for entry in self.ledger:
            tasks_by_kind[entry.kind].add(entry.task_id)
        not_annotated = tasks_by_kind["task_not_annotated"] - annotated
        only_skipped = tasks_by_kind["task_only_skipped"] - annotated
        return Progress(
            ledger=str(ledger_file),
            tasks_total=len(annotated | not_annotated | only_skipped | tasks_by_kind["task_no_text"]),
            annotated=len(annotated),
            not_annotated=len(not_annotated),
            only_skipped=len(only_skipped),
            skipped_annotations=skipped_annotations,
            drafts=sum(self.drafts.values()),
            spans_dropped=dict(Counter(e.reason for e in self.ledger if e.kind == "span_dropped").most_common()),
            spans_repaired=sum(1 for e in self.ledger if e.kind == "span_repaired"),
        )

    def model(self) -> ModelSection:
        if not self.compared:
            return ModelSection(
                status=NOT_ENOUGH_DATA,
                reason="no annotated task carries a prediction: nothing to measure the model against"
                if self.articles
                else "no annotated task in the input",
                tasks_without_predictions=self.without_predictions,
            )
        labels = _labels(self.config, self.model_labels)
        return ModelSection(
            status="ok",
            tasks=self.compared,
            tasks_without_predictions=self.without_predictions,
            model_versions=sorted(self.model_versions),
            strict_iob2=_score_table(self.strict, labels),
            exact_span=_score_table(self.exact, labels),
            tokens_lost=self.tokens_lost,
            edits=dict(self.edits),
            examples={kind: rows for kind, rows in self.shown.items() if rows},
        )

    def agreement(self) -> AgreementSection:
        if not self.shared_tasks:
            return AgreementSection(
                status=NOT_ENOUGH_DATA,
                reason="no task was submitted by two or more annotators: agreement needs overlapping tasks "
                "(give tasks to several annotators in Label Studio, e.g. its overlap setting)",
            )
        labels = _labels(self.config, self.shared_labels)
        units = _AgreementUnits(_TagCodes(labels), self.tagged)
        rows = []
        for label in [*labels, OVERALL]:
            if label != OVERALL and not self.label_tasks[label]:
                continue
            matched, total = self.span_counts[label]
            kappa = units.kappa(label)
            alpha = units.alpha(label)
            reasons = []
            if not total:
                reasons.append("span F1: no span on either side")
            if kappa is None or alpha is None:
                reasons.append("kappa/alpha: every token carries the same tag")
            rows.append(
                Agreement(
                    label=label,
                    tasks=self.shared_tasks if label == OVERALL else self.label_tasks[label],
                    pairs=self.pairs if label == OVERALL else self.label_pairs[label],
                    span_f1=matched / total if total else None,
                    cohen_kappa=kappa,
                    krippendorff_alpha=alpha,
                    reason="; ".join(reasons) or None,
                )
            )
        return AgreementSection(
            status="ok",
            tasks=self.shared_tasks,
            annotators=len(self.shared_annotators),
            pairs=self.pairs,
            tokens=units.tokens,
            per_label=rows,
        )

    def annotators(self, thresholds: Thresholds) -> list[AnnotatorRow]:
        rows = []
        names = set(self.annotator_tasks) | set(self.skipped) | {n for n in self.drafts if self.drafts[n]}
        for name in sorted(names):
            tasks = len(self.annotator_tasks[name])
            median = statistics.median(self.lead_times[name]) if self.lead_times[name] else None
            predicted = self.predicted_spans[name]
            share = self.accepted[name] / predicted if predicted else None
            flagged = (
                tasks >= thresholds.min_tasks
                and share is not None
                and share >= thresholds.accept_share
                and median is not None
                and median <= thresholds.fast_lead_time
            )
            rows.append(
                AnnotatorRow(
                    annotator=name,
                    tasks=tasks,
                    skipped=len(self.skipped[name]),
                    drafts=self.drafts[name],
                    median_lead_time=median,
                    predicted_spans=predicted,
                    accepted_unchanged=self.accepted[name],
                    accepted_share=share,
                    flagged=flagged,
                    flag_reason=(
                        f"accepted {share:.0%} of predictions unchanged (>= {thresholds.accept_share:.0%}) with a median "
                        f"lead time of {median:.1f} s (<= {thresholds.fast_lead_time:g} s) over {tasks} tasks"
                        if flagged
                        else None
                    ),
                )
            )
        return rows

    def label_counts(self) -> dict[str, dict[str, int]]:
        labels = _labels(self.config, [*self.human_labels, *self.predicted_labels])
        return {
            label: {"human": self.human_labels[label], "predicted": self.predicted_labels[label]} for label in labels
        }


# ---------------------------------------------------------------- entry points


class ReportBuilder:
    """Build a report while the articles go by: ``add`` each one, then ``finish``.

    For a caller that reads the articles anyway (export validates every record before it
    writes): the report then costs no second read of the file.
    """

    def __init__(
        self,
        *,
        config: Config,
        ledger: Iterable[LedgerEntry] = (),
        ledger_file: Path | None = None,
        make_doc: Callable[[str], Doc] | None = None,
        tokenizer: str | None = None,
        source: str = "",
    ) -> None:
        settings = config.report
        self.thresholds = Thresholds(
            accept_share=settings.accept_share, fast_lead_time=settings.fast_lead_time, min_tasks=settings.min_tasks
        )
        self.lazy = LazyTokenizer(config) if make_doc is None else None
        self.tokenizer, self.source, self.ledger_file = tokenizer, source, ledger_file
        self.tally = _Tally(config, list(ledger), make_doc or self.lazy, settings.examples)
        self.add = self.tally.add

    def finish(self) -> Report:
        tally = self.tally
        name = None
        if tally.tokenized:
            name = self.lazy.name if self.lazy is not None else self.tokenizer or "the given tokenizer"
        return Report(
            source=self.source,
            tokenizer=name,
            thresholds=self.thresholds,
            progress=tally.progress(self.ledger_file),
            model=tally.model(),
            agreement=tally.agreement(),
            annotators=tally.annotators(self.thresholds),
            label_counts=tally.label_counts(),
        )


def build_report(
    articles: Iterable[AnnotatedArticle],
    *,
    config: Config,
    ledger: Iterable[LedgerEntry] = (),
    ledger_file: Path | None = None,
    make_doc: Callable[[str], Doc] | None = None,
    tokenizer: str | None = None,
    source: str = "",
) -> Report:
    """The report of pulled articles, read once (an iterator is not kept in memory).

    ``make_doc`` defaults to the configured model's tokenizer (lazy).
    """
    builder = ReportBuilder(
        config=config, ledger=ledger, ledger_file=ledger_file, make_doc=make_doc, tokenizer=tokenizer, source=source
    )
    for article in articles:
        builder.add(article)
    return builder.finish()


def report_builder(
    annotations: Path, *, config: Config, make_doc: Callable[[str], Doc] | None = None, tokenizer: str | None = None
) -> ReportBuilder:
    """A builder for the report of a pull's output, with the pull's ledger read (when there is one)."""
    ledger_file = ledger_path(annotations)
    found = ledger_file.is_file()
    return ReportBuilder(
        config=config,
        ledger=read_records(ledger_file, LedgerEntry) if found else (),
        ledger_file=ledger_file if found else None,
        make_doc=make_doc,
        tokenizer=tokenizer,
        source=str(annotations),
    )


def report(
    annotations: Path, *, config: Config, make_doc: Callable[[str], Doc] | None = None, tokenizer: str | None = None
) -> Report:
    """Read a pull's output (and its ledger, when there is one) and build the report."""
    builder = report_builder(annotations, config=config, make_doc=make_doc, tokenizer=tokenizer)
    for article in read_records(annotations, AnnotatedArticle):  # streamed: the articles are not held in memory
        builder.add(article)
    return builder.finish()


# ---------------------------------------------------------------- markdown


def _number(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def report_markdown(report: Report) -> str:
    """A compact markdown of the report's figures, for the dataset card.

    Names from the data (model versions, labels, annotator ids) go through
    ``markdown_text``: the card is rendered as markdown with HTML on the Hub.
    """
    from toolkit.io.markdown import markdown_text as md

    lines = ["## Annotation report", ""]
    p = report.progress
    total = "unknown (no pull ledger)" if p.tasks_total is None else f"{p.tasks_total:,}"
    lines += [
        f"- Tasks: {total}; annotated {p.annotated:,}"
        + (
            f", not annotated {p.not_annotated:,}, only skipped {p.only_skipped:,}" if p.tasks_total is not None else ""
        ),
        f"- Skipped annotations: {p.skipped_annotations:,}; drafts: {p.drafts:,}",
        "",
        "### Model against human",
        "",
    ]
    m = report.model
    if m.status != "ok":
        lines += [f"{NOT_ENOUGH_DATA.capitalize()}: {m.reason}.", ""]
    else:
        lines += [
            (
                f"Pre-annotations ({', '.join(md(v) for v in m.model_versions)}) against the final human spans of {m.tasks:,} tasks "
                f"({m.tasks_without_predictions:,} without predictions). Strict: seqeval, mode=strict, scheme=IOB2 on "
                f"{md(report.tokenizer)} tokens. Exact: identical character offsets and label."
            ),
            "",
            "| label | strict P | strict R | strict F1 | exact P | exact R | exact F1 | human spans |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ]
        exact = {row.label: row for row in m.exact_span}
        for row in m.strict_iob2:
            e = exact.get(row.label)
            lines.append(
                f"| {md(row.label)} | {_number(row.precision)} | {_number(row.recall)} | {_number(row.f1)} | "
                f"{_number(e.precision if e else None)} | {_number(e.recall if e else None)} | "
                f"{_number(e.f1 if e else None)} | {e.gold if e else row.gold} |"
            )
        lines += ["", "Edits: " + ", ".join(f"{kind} {count:,}" for kind, count in m.edits.items()), ""]
    lines += ["### Agreement", ""]
    a = report.agreement
    if a.status != "ok":
        lines += [f"{NOT_ENOUGH_DATA.capitalize()}: {a.reason}.", ""]
    else:
        lines += [
            f"{a.tasks:,} tasks with several annotators ({a.annotators} annotators, {a.pairs} pairs, {a.tokens:,} tokens).",
            "",
            "| label | tasks | pairwise span F1 | Cohen's kappa | Krippendorff's alpha |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {md(row.label)} | {row.tasks} | {_number(row.span_f1)} | {_number(row.cohen_kappa)} | {_number(row.krippendorff_alpha)} |"
            for row in a.per_label
        ]
        lines.append("")
    lines += ["### Annotators", ""]
    if not report.annotators:
        lines += [f"{NOT_ENOUGH_DATA.capitalize()}: no annotator in the input.", ""]
    else:
        lines += [
            "| annotator | tasks | median lead time (s) | accepted unchanged | flag |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {md(row.annotator)} | {row.tasks} | {_number(row.median_lead_time, 1)} | {_percent(row.accepted_share)} | "
            f"{'fast, accepts nearly all' if row.flagged else ''} |"
            for row in report.annotators
        ]
        lines.append("")
    return "\n".join(lines)
