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

Token tags come from ``toolkit.nlp.alignment.align`` in the configured
``export.alignment`` and ``export.alignment_fallback``, on the configured model's
tokenizer (``load_tokenizer``): the report's tokens and tags are the export's.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.errors import InputError
from toolkit.io.jsonl import read_records
from toolkit.metrics.agreement import TokenAgreement
from toolkit.metrics.spans import OVERALL, MatchCounts
from toolkit.records import AnnotatedArticle, LedgerEntry, Span, ledger_path
from toolkit.report.model import (
    NOT_ENOUGH_DATA,
    AdjudicationSection,
    Agreement,
    AgreementSection,
    AlignmentModes,
    AnnotatorRow,
    ModelSection,
    Progress,
    Report,
    Scores,
    SidedWith,
    Thresholds,
)
from toolkit.report.tallies import AdjudicationTally, AgreementTally, ModelTally, ProgressTally, ReportTally

if TYPE_CHECKING:
    from spacy.tokens import Doc

    from toolkit.nlp.alignment import Alignment


class ArticleTokens:
    """One article's tokens, made on the first call (most articles' sections need none),
    and its spans' tags, aligned as the export aligns them."""

    def __init__(self, text: str, make_doc: Callable[[str], Doc], alignment: AlignmentModes) -> None:
        self.text, self.make_doc, self.alignment = text, make_doc, alignment
        self._doc: tuple[Doc, list[int]] | None = None

    def __call__(self, spans: list[Span]) -> Alignment:
        from toolkit.nlp.alignment import align, word_indices

        if self._doc is None:
            doc = self.make_doc(self.text)
            # Only the word indices: the report needs the tags, not the export's token arrays.
            self._doc = doc, word_indices(doc)
        doc, words = self._doc
        # Sorted as the export sorts them: which of two spans on the same tokens wins is the same.
        keys = sorted(span.key for span in spans)
        mode, fallback = self.alignment.mode, self.alignment.fallback
        return align(doc, keys, mode=mode, fallback=fallback, words=words, text=self.text, check=False)


class LazyTokenizer:
    """The configured model's tokenizer (``load_tokenizer``), loaded on the first call only."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.name: str | None = None
        self._make_doc: Callable[[str], Doc] | None = None

    def __call__(self, text: str) -> Doc:
        if self._make_doc is None:
            from toolkit.nlp.pipeline import load_tokenizer

            tokenizer = load_tokenizer(self.config)
            self._make_doc, self.name = tokenizer.make_doc, tokenizer.description
        return self._make_doc(text)


# ---------------------------------------------------------------- sections


def _labels(config: Config, found: Iterable[str]) -> list[str]:
    """The config's labels, then any other label found in the data (sorted)."""
    extra = sorted(set(found) - set(config.labels))
    return [*config.labels, *extra]


def _score_rows(counts: MatchCounts, labels: list[str]) -> list[Scores]:
    """Per-label rows (labels that occur, in config order) and an overall (micro) row."""
    present = counts.labels()
    rows = [label for label in labels if label in present]
    return [Scores.of(label, counts.prf(label)) for label in [*rows, OVERALL]]


def progress_section(tally: ProgressTally, ledger_file: Path | None) -> Progress:
    skipped_annotations = sum(len(tasks) for tasks in tally.skipped.values())
    drafts = sum(tally.drafts().values())
    annotated = tally.annotated
    if ledger_file is None:
        return Progress(
            ledger=None,
            tasks_total=None,
            annotated=len(annotated),
            not_annotated=None,
            only_skipped=None,
            skipped_annotations=skipped_annotations,
            drafts=drafts,
        )
    kinds = tally.ledger_tasks
    not_annotated = kinds["task_not_annotated"] - annotated
    only_skipped = kinds["task_only_skipped"] - annotated
    return Progress(
        ledger=str(ledger_file),
        tasks_total=len(annotated | not_annotated | only_skipped | kinds["task_no_text"]),
        annotated=len(annotated),
        not_annotated=len(not_annotated),
        only_skipped=len(only_skipped),
        skipped_annotations=skipped_annotations,
        drafts=drafts,
        spans_dropped=dict(tally.spans_dropped.most_common()),
        spans_repaired=tally.spans_repaired,
    )


def model_section(tally: ModelTally, config: Config, *, articles: int) -> ModelSection:
    if not tally.compared:
        return ModelSection(
            status=NOT_ENOUGH_DATA,
            reason="no annotated task carries a prediction: nothing to measure the model against"
            if articles
            else "no annotated task in the input",
            tasks_without_predictions=tally.without_predictions,
        )
    labels = _labels(config, tally.labels)
    return ModelSection(
        status="ok",
        tasks=tally.compared,
        tasks_without_predictions=tally.without_predictions,
        model_versions=sorted(tally.versions),
        strict_iob2=_score_rows(tally.strict, labels),
        exact_span=_score_rows(tally.exact, labels),
        tokens_lost=tally.tokens_lost,
        edits=dict(tally.edits),
        examples={kind: rows for kind, rows in tally.shown.items() if rows},
    )


def agreement_section(tally: AgreementTally, config: Config) -> AgreementSection:
    if not tally.tasks:
        return AgreementSection(
            status=NOT_ENOUGH_DATA,
            reason="no task was submitted by two or more annotators: agreement needs overlapping tasks "
            "(give tasks to several annotators in Label Studio, e.g. its overlap setting)",
        )
    labels = _labels(config, tally.labels)
    tokens = TokenAgreement(labels, tally.tagged)
    rows = []
    for label in [*labels, OVERALL]:
        if label != OVERALL and not tally.label_tasks[label]:
            continue
        span_f1 = tally.spans.f1(label)
        kappa, alpha = tokens.cohen_kappa(label), tokens.krippendorff_alpha(label)
        reasons = []
        if span_f1 is None:
            reasons.append("span F1: no span on either side")
        if kappa is None or alpha is None:
            reasons.append("kappa/alpha: every token carries the same tag")
        rows.append(
            Agreement(
                label=label,
                tasks=tally.tasks if label == OVERALL else tally.label_tasks[label],
                pairs=tally.pairs if label == OVERALL else tally.label_pairs[label],
                span_f1=span_f1,
                cohen_kappa=kappa,
                krippendorff_alpha=alpha,
                reason="; ".join(reasons) or None,
            )
        )
    return AgreementSection(
        status="ok",
        tasks=tally.tasks,
        annotators=len(tally.annotators),
        pairs=tally.pairs,
        tokens=tokens.tokens,
        per_label=rows,
    )


def adjudication_section(tally: AdjudicationTally, config: Config) -> AdjudicationSection:
    statuses = tally.statuses
    order = {label: index for index, label in enumerate(config.labels)}
    sided = [
        SidedWith(label=label, annotator=annotator, disputed_spans=disputed, kept=kept)
        for (label, annotator), (disputed, kept) in sorted(
            tally.sided.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0])
        )
    ]
    return AdjudicationSection(
        articles=sum(statuses.values()),
        agreed=statuses["agreed"],
        found=statuses["adjudicated"] + statuses["pending"] + statuses["disputed"],
        resolved=statuses["adjudicated"],
        pending=statuses["pending"],
        not_sent=statuses["disputed"],
        stale=tally.stale,
        stale_articles=tally.stale_articles,
        agreement_before=tally.before.f1(),
        agreement_after=tally.after.f1(),
        sided_with=sided,
    )


def annotator_rows(tally: ReportTally, thresholds: Thresholds) -> list[AnnotatorRow]:
    work, skipped, drafts = tally.annotators, tally.progress.skipped, tally.progress.drafts()
    rows = []
    for name in sorted(set(work.tasks) | set(skipped) | {n for n in drafts if drafts[n]}):
        tasks = len(work.tasks.get(name, ()))
        times = work.lead_times.get(name)
        median = statistics.median(times) if times else None
        predicted = work.predicted_spans[name]
        share = work.accepted[name] / predicted if predicted else None
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
                skipped=len(skipped.get(name, ())),
                drafts=drafts[name],
                median_lead_time=median,
                predicted_spans=predicted,
                accepted_unchanged=work.accepted[name],
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


def label_counts(tally: ReportTally, config: Config) -> dict[str, dict[str, int]]:
    human, predicted = tally.labels.human, tally.labels.predicted
    labels = _labels(config, human + predicted)
    return {label: {"human": human[label], "predicted": predicted[label]} for label in labels}


# ---------------------------------------------------------------- entry points


class ReportBuilder:
    """Build a report while the articles go by: ``add`` each one, then ``finish``.

    For a caller that reads the articles anyway (export validates every record before it
    writes): the report then costs no second read of the file. ``make_doc`` defaults to
    the configured model's tokenizer, loaded when the first article needs tokens.
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
        self.config = config
        self.thresholds = Thresholds(
            accept_share=settings.accept_share, fast_lead_time=settings.fast_lead_time, min_tasks=settings.min_tasks
        )
        self.alignment = AlignmentModes(mode=config.export.alignment, fallback=config.export.alignment_fallback)
        self.lazy = LazyTokenizer(config) if make_doc is None else None
        self.make_doc: Callable[[str], Doc] = make_doc or self.lazy  # type: ignore[assignment]
        self.tokenizer, self.source, self.ledger_file = tokenizer, source, ledger_file
        self.tally = ReportTally(examples=settings.examples)
        for entry in ledger:
            self.tally.progress.add_ledger(entry)

    def add(self, article: AnnotatedArticle) -> None:
        self.tally.add(article, ArticleTokens(article.text, self.make_doc, self.alignment))

    def finish(self) -> Report:
        tally = self.tally
        name = None
        if tally.tokenized:
            name = self.lazy.name if self.lazy is not None else self.tokenizer or "the given tokenizer"
        return Report(
            source=self.source,
            tokenizer=name,
            alignment=self.alignment,
            thresholds=self.thresholds,
            progress=progress_section(tally.progress, self.ledger_file),
            model=model_section(tally.model, self.config, articles=tally.articles),
            agreement=agreement_section(tally.agreement, self.config),
            annotators=annotator_rows(tally, self.thresholds),
            label_counts=label_counts(tally, self.config),
            adjudication=adjudication_section(tally.adjudication, self.config),
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
    """The report of pulled articles, read once (an iterator is not kept in memory)."""
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
    """Read a pull's output (and its ledger, when there is one) and build the report.

    InputError, naming the command that writes it, when ``annotations`` is not there.
    """
    if not annotations.is_file():
        raise InputError(f"{annotations}: file not found", hint="write it with `toolkit pull --out FILE.jsonl`")
    builder = report_builder(annotations, config=config, make_doc=make_doc, tokenizer=tokenizer)
    for article in read_records(annotations, AnnotatedArticle):  # streamed: the articles are not held in memory
        builder.add(article)
    return builder.finish()
