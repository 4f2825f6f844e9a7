"""Score models on an export split's gold (the human spans), with the report's metrics and edits.

For each model, every human-annotated row of the split is run through it (greedy decoding,
its spans mapped and trimmed as pre-annotation does: ``toolkit.nlp.spans``) and compared
with the row's spans:

- per label and micro precision, recall and F1, by exact character span and by seqeval
  strict IOB2 entity on the export's tokens (the configured model's tokenizer, spans
  aligned in ``export.alignment`` / ``export.alignment_fallback`` mode as the export does);
  ``toolkit.metrics.spans``, the report's code;
- the edits an annotator would have needed had the model pre-annotated the article,
  in the report's vocabulary (``toolkit.metrics.edits.classify_edits``);
- never on an article a model saw: a model ``toolkit train`` wrote records the articles it
  trained and validated on (``toolkit.nlp.seen``: ids and text hashes); the split's rows any
  of the models saw are left out for all of them (a paired comparison needs the same
  articles) and counted (``LeftOut``); when nothing is left, evaluation is refused;
- with two or more models, each one's micro F1 (exact spans) minus the first model's,
  with a paired bootstrap 95% interval over articles (``scipy.stats.bootstrap``, paired,
  seeded, percentile method): the same resampled articles for both models.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.errors import InputError, Remedy
from toolkit.io.exports import GoldRow, open_export
from toolkit.metrics.edits import EDIT_KINDS, classify_edits
from toolkit.metrics.spans import (
    FEW_ARTICLES,
    FEW_SPANS,
    OVERALL,
    MatchCounts,
    exact_items,
    few_articles_note,
    strict_entities,
)
from toolkit.progress import OnProgress, emit
from toolkit.records import ModelInfo, Span
from toolkit.render.format import plural

if TYPE_CHECKING:
    from toolkit.nlp.pipeline import Pipeline

PHASE = "articles"
BASE = "base"  # the configured pre-annotation model, by this name or its own
RESAMPLES = 2000


@dataclass
class ModelScores:
    """One model on one split."""

    spec: str  # as given on the command line
    model: ModelInfo
    labels: list[str]
    exact: MatchCounts = field(default_factory=MatchCounts)
    strict: MatchCounts = field(default_factory=MatchCounts)
    edits: Counter[str] = field(default_factory=Counter)
    # Per article, in row order: exact-span true positives, predicted and gold spans.
    per_article: list[tuple[int, int, int]] = field(default_factory=list)
    words: int = 0
    seconds: float = 0.0

    @property
    def articles(self) -> int:
        return len(self.per_article)

    def edits_per_article(self) -> dict[str, float]:
        n = max(self.articles, 1)
        per = {kind: self.edits[kind] / n for kind in EDIT_KINDS}
        per["edits"] = sum(self.edits[kind] for kind in EDIT_KINDS if kind != "accepted unchanged") / n
        return per

    def to_json(self) -> dict[str, Any]:
        def scores(counts: MatchCounts) -> dict[str, Any]:
            rows = {}
            for label in [*self.labels, OVERALL]:
                prf = counts.prf(label)
                rows[label] = {
                    "precision": prf.precision,
                    "recall": prf.recall,
                    "f1": prf.f1,
                    "predicted": prf.predicted,
                    "gold": prf.gold,
                    "true_positives": prf.true_positives,
                }
            return rows

        return {
            "model": self.spec,
            "model_version": self.model.model_version,
            "articles": self.articles,
            "exact": scores(self.exact),
            "seqeval_strict": scores(self.strict),
            "edits": {kind: self.edits[kind] for kind in EDIT_KINDS},
            "edits_per_article": self.edits_per_article(),
            "words_per_second": self.words / self.seconds if self.seconds else None,
        }


@dataclass(frozen=True)
class Comparison:
    """``model``'s micro F1 (exact spans) minus ``reference``'s, with a paired bootstrap interval."""

    reference: str
    model: str
    difference: float | None
    low: float | None
    high: float | None
    resamples: int
    seed: int
    note: str | None = None  # why there is no interval

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "model": self.model,
            "f1_difference": self.difference,
            "ci95": [self.low, self.high] if self.low is not None else None,
            "method": f"paired bootstrap over articles, {self.resamples:,} resamples, percentile, seed {self.seed}",
            "note": self.note,
        }


@dataclass(frozen=True)
class LeftOut:
    """The split's human-annotated articles left out because a model saw them in training.

    ``by_model``: how many of the split's articles each model saw (0 for a model the toolkit
    did not train, such as an installed pipeline; None for ``unchecked``: the models of an
    older toolkit, trained by it but without a record, so whether they saw any cannot be told).
    """

    articles: int = 0  # left out for every model: the union of what they saw
    split_articles: int = 0  # the split's human-annotated articles before
    by_model: dict[str, int | None] = field(default_factory=dict)
    checked: tuple[str, ...] = ()  # the models with a record
    unchecked: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": self.articles,
            "of": self.split_articles,
            "by_model": dict(self.by_model),
            "checked": list(self.checked),
            "unchecked": list(self.unchecked),
        }


def leave_out_seen(
    models: list[tuple[str, Pipeline, Config]], rows: list[GoldRow], *, where: str, split: str
) -> tuple[list[GoldRow], LeftOut]:
    """``rows`` without those any of ``models`` saw in training, and what was left out.

    Raises InputError when every row was seen: there is nothing to score the models on.
    """
    from toolkit.nlp.seen import is_trained, training_articles

    seen: set[int] = set()
    by_model: dict[str, int | None] = {}
    checked, unchecked = [], []
    for spec, pipeline, _ in models:
        meta = pipeline.nlp.meta
        record = training_articles(pipeline.nlp.path, meta)
        if record is None:
            by_model[spec] = None if is_trained(meta) else 0
            if is_trained(meta):
                unchecked.append(spec)
            continue
        saw = {i for i, row in enumerate(rows) if record.saw(row.id, row.text)}
        by_model[spec], seen = len(saw), seen | saw
        checked.append(spec)
    if rows and len(seen) == len(rows):
        who = [spec for spec in checked if by_model[spec]]
        said = (
            f"{who[0]}: saw all {plural(len(rows), 'human-annotated article')}"
            if len(who) == 1
            else f"{', '.join(who)}: between them saw all {plural(len(rows), 'human-annotated article')}"
        )
        raise InputError(
            f"{said} of the {split} split of {where} in training (its train or validation split, by id or text); "
            "no article is left to score on",
            hint=(
                Remedy("choose another split", "split"),
                ", or evaluate on an export whose split holds articles the model was not trained on",
            ),
        )
    kept = [row for i, row in enumerate(rows) if i not in seen]
    left_out = LeftOut(len(seen), len(rows), by_model, tuple(checked), tuple(unchecked))
    return kept, left_out


@dataclass
class EvaluateResult:
    export: str
    split: str
    articles: int
    gold_spans: int
    labels: list[str]
    tokenizer: str
    models: list[ModelScores]
    comparisons: list[Comparison]
    # Which of two meanings a model argument was taken in (the keyword `base` or a folder base).
    notes: list[str] = field(default_factory=list)
    # The split's articles a model saw in training, left out of every score.
    left_out: LeftOut = field(default_factory=LeftOut)

    @property
    def small_note(self) -> str | None:
        """A warning when the scores rest on few articles or spans."""
        return few_articles_note(self.articles, self.gold_spans, f"every score of the {self.split} split")

    def f1_not_plotted(self) -> tuple[list[str], list[tuple[str, str]]]:
        """Where F1 is n/a (no gold and no predicted span of the label): the labels n/a for
        every model, and the (model, label) pairs n/a for some models only."""
        labels = [*self.labels, OVERALL]
        none = {(m.spec, label) for m in self.models for label in labels if m.exact.prf(label).f1 is None}
        everywhere = [label for label in labels if all((m.spec, label) in none for m in self.models)]
        some = [(m.spec, label) for m in self.models for label in labels if (m.spec, label) in none]
        return everywhere, [(spec, label) for spec, label in some if label not in everywhere]

    def to_json(self) -> dict[str, Any]:
        return {
            "notes": self.notes,
            "export": self.export,
            "split": self.split,
            "articles": self.articles,
            "gold_spans": self.gold_spans,
            "left_out": self.left_out.to_json(),
            "small_sample": {
                "note": self.small_note,
                "below": {"articles": FEW_ARTICLES, "spans": FEW_SPANS},
            },
            "labels": self.labels,
            "tokens": self.tokenizer,
            "models": [model.to_json() for model in self.models],
            "comparisons": [comparison.to_json() for comparison in self.comparisons],
        }


def micro_f1(true_positives: Any, predicted: Any, gold: Any) -> Any:
    """2 tp / (predicted + gold); works on numbers and on numpy arrays (0 where both are 0)."""
    import numpy

    total = numpy.asarray(predicted + gold, dtype=float)
    return numpy.divide(2.0 * true_positives, total, out=numpy.zeros_like(total), where=total > 0)


def paired_bootstrap(
    reference: list[tuple[int, int, int]], other: list[tuple[int, int, int]], *, seed: int, resamples: int = RESAMPLES
) -> tuple[float, float | None, float | None, str | None]:
    """``other``'s micro F1 minus ``reference``'s over the same articles, and its 95% interval."""
    import numpy
    from scipy.stats import bootstrap

    a, b = numpy.asarray(reference, dtype=float), numpy.asarray(other, dtype=float)
    difference = float(micro_f1(*b.sum(axis=0)) - micro_f1(*a.sum(axis=0)))
    if len(a) < 2:
        return difference, None, None, "fewer than 2 articles: no interval"
    if numpy.array_equal(a, b):
        return difference, 0.0, 0.0, "the two models' spans are the same on every article"

    def statistic(tp_a, p_a, g_a, tp_b, p_b, g_b, axis=-1):  # noqa: ANN001 (scipy's calling convention)
        f1_a = micro_f1(tp_a.sum(axis=axis), p_a.sum(axis=axis), g_a.sum(axis=axis))
        f1_b = micro_f1(tp_b.sum(axis=axis), p_b.sum(axis=axis), g_b.sum(axis=axis))
        return f1_b - f1_a

    samples = (*a.T, *b.T)
    result = bootstrap(
        samples,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=resamples,
        confidence_level=0.95,
        method="percentile",
        random_state=numpy.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return difference, float(interval.low), float(interval.high), None


def load_models(specs: list[str], config: Config, notes: list[str] | None = None) -> list[tuple[str, Pipeline, Config]]:
    """Each spec's pipeline (scores off: evaluation needs the spans only) and the config it runs under.

    ``base`` is the keyword even where a folder ``base`` exists (``./base`` is the folder);
    such a clash is told in ``notes``.
    """
    from toolkit.nlp.pipeline import keyword_over_path, load_pipeline, with_model

    names = {BASE, config.spacy.model, *config.spacy.fallback_models.get(config.spacy.model, [])}
    keywords = {BASE: f"the configured spacy.model ({config.spacy.model})"}
    loaded = []
    for spec in specs:
        model_config = config if spec in names else with_model(config, spec, near={BASE: BASE})
        note = keyword_over_path(spec, keywords)
        if note and notes is not None and note not in notes:
            notes.append(note)
        loaded.append((spec, load_pipeline(model_config, scores=False), model_config))
    return loaded


def score_model(
    spec: str,
    pipeline: Pipeline,
    model_config: Config,
    rows: list[GoldRow],
    token_docs: list[Any],
    *,
    config: Config,
    on_progress: OnProgress | None = None,
) -> ModelScores:
    import time

    from toolkit.nlp.alignment import align, word_indices
    from toolkit.nlp.spans import entity_spans

    model = pipeline.model.model_copy(update={"scoring": None})  # the model evaluated; it scores nothing here
    scores = ModelScores(spec=spec, model=model, labels=list(config.labels))
    mode, fallback = config.export.alignment, config.export.alignment_fallback
    began = time.perf_counter()
    texts = (row.text for row in rows)
    for row, doc, token_doc in zip(rows, pipeline.nlp.pipe(texts, batch_size=config.spacy.batch_size), token_docs):
        predicted = entity_spans(doc, model_config, row.text)
        gold = [Span(start=start, end=end, label=label) for start, end, label in row.spans]
        predicted_keys, gold_keys = [span.key for span in predicted], list(row.spans)
        exact = MatchCounts.of(exact_items(predicted_keys), exact_items(gold_keys))
        scores.exact.merge(exact)
        words = word_indices(token_doc)
        tags = [
            align(token_doc, keys, mode=mode, fallback=fallback, text=row.text, check=False, words=words).tags
            for keys in (predicted_keys, gold_keys)
        ]
        scores.strict.merge(MatchCounts.of(strict_entities(tags[0]), strict_entities(tags[1])))
        for kind, _, _ in classify_edits(predicted, gold):
            scores.edits[kind] += 1
        overall = exact.prf()
        scores.per_article.append((overall.true_positives, overall.predicted, overall.gold))
        scores.words += len(words)
        emit(on_progress, PHASE, 1, amounts={"words": len(words)})
    scores.seconds = time.perf_counter() - began
    return scores


def evaluate(
    specs: list[str],
    *,
    data: Path,
    config: Config,
    split: str = "test",
    seed: int = 0,
    resamples: int = RESAMPLES,
    on_progress: OnProgress | None = None,
) -> EvaluateResult:
    """Score each model of ``specs`` (``base``, the configured model's name, or a pipeline folder)."""
    from toolkit.nlp.pipeline import load_tokenizer

    if not specs:
        raise InputError("no model to evaluate", hint="name one or more: a model folder, or `base`")
    version = open_export(data)
    if version.labels != list(config.labels):
        raise InputError(
            f"{version.path}: exported with the labels {', '.join(version.labels) or 'none'}, "
            f"the config's labels are {', '.join(config.labels)}",
            hint="evaluate with the config the export was made with",
        )
    if split not in version.splits:
        raise InputError(f"{version.path}: has no {split!r} split (splits: {', '.join(version.splits)})")
    rows = version.gold_rows(split)
    if not rows:
        raise InputError(
            f"{version.path}: the {split} split has no human-annotated rows; nothing to evaluate on",
            hint=(Remedy("choose another split", "split"), ", or annotate more articles and export again"),
        )
    notes: list[str] = []
    models = load_models(specs, config, notes)
    rows, left_out = leave_out_seen(models, rows, where=str(version.path), split=split)
    tokenizer = load_tokenizer(config)
    token_docs = [tokenizer.make_doc(row.text) for row in rows]
    emit(on_progress, PHASE, 0, total=len(rows) * len(models))
    scored = [
        score_model(spec, pipeline, model_config, rows, token_docs, config=config, on_progress=on_progress)
        for spec, pipeline, model_config in models
    ]
    comparisons = []
    for other in scored[1:]:
        difference, low, high, note = paired_bootstrap(
            scored[0].per_article, other.per_article, seed=seed, resamples=resamples
        )
        comparisons.append(Comparison(scored[0].spec, other.spec, difference, low, high, resamples, seed, note))
    return EvaluateResult(
        export=str(version.path),
        split=split,
        articles=len(rows),
        gold_spans=sum(len(row.spans) for row in rows),
        labels=list(config.labels),
        tokenizer=tokenizer.description,
        models=scored,
        comparisons=comparisons,
        notes=notes,
        left_out=left_out,
    )
