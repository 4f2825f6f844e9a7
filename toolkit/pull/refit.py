"""After a pull: the human decisions on the current model's predictions refit that model's calibration.

A calibration (``toolkit.nlp.calibration``) fitted on the validation split alone learns from
a few hundred spans; the pulled corrections are many more, and a bigger fit set is what
raised the ranking most (BENCHMARKS.md, "Span confidence"). Each pull gathers the articles
whose predictions are the project's current model's (any scoring of it) and that the model
did not train or validate on (``toolkit.nlp.seen``), and refits on the validation decisions
and theirs. The next ``toolkit preannotate`` scores with the new calibration: a new id, a new
prediction set, which push moves the project to.

The features are found by running the model's beam again on the pulled texts (not stored at
preannotate time): they are a function of the model and the text alone, so the result is
the same, nothing is kept per pre-annotated article that is never corrected, and an article
pre-annotated before this existed counts too. Each article's decisions are kept with the
calibration (``calibration_decisions.json``, by text and final spans), so a later pull runs
the beam only on the articles it has not seen decided that way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from toolkit.config import Config
from toolkit.errors import InputError, ModelError
from toolkit.io.jsonl import read_records
from toolkit.io.models_registry import current_model
from toolkit.nlp import calibration
from toolkit.nlp.seen import TrainingArticles, seen_articles
from toolkit.progress import OnProgress, emit
from toolkit.records import AnnotatedArticle, model_of

Gold = set[tuple[int, int, str]]


@dataclass
class CalibrationRefit:
    """What the pull did to the current model's calibration: ``calibration_id`` the new one, or ``reason`` why not."""

    model: str | None = None  # the current model's version; None: none
    calibration_id: str | None = None
    previous_id: str | None = None
    decisions: int = 0  # the pulled predicted spans fitted on
    articles: int = 0  # the pulled articles they are in
    new: int = 0  # of them, not in the last fit
    spans: int = 0  # predicted spans fitted on, validation ones included
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def eligible(
    articles: Iterable[AnnotatedArticle], model_version: str, seen: TrainingArticles
) -> dict[str, tuple[str, Gold]]:
    """Per ``calibration.article_key``, the text and final spans of each article predicted by
    ``model_version`` (any scoring) that the model did not see in training."""
    found: dict[str, tuple[str, Gold]] = {}
    for article in articles:
        if not any(model_of(p.model_version) == model_version for p in article.predictions):
            continue
        if seen.saw(article.id, article.text):
            continue
        gold = {(span.start, span.end, span.label) for span in article.spans}
        found[calibration.article_key(article.text, gold)] = (article.text, gold)
    return found


def refit_calibration(config: Config, annotations: Path, *, on_progress: OnProgress | None = None) -> CalibrationRefit:
    """Refit the calibration of the project's current model on the pulled ``annotations``
    (``calibration.refit``); never raises for a refit that cannot be done, it says why."""
    if not config.spacy.scores:
        return CalibrationRefit(reason="span scores are off (spacy.scores: false)")
    try:
        entry = current_model(config)
        if entry is None:
            return CalibrationRefit(reason="no current trained model (`toolkit train` registers one)")
        folder = Path(entry.path)
        seen = seen_articles(folder)
        if seen is None:
            return CalibrationRefit(entry.version, reason="the model does not record the articles it trained on")
        wanted = eligible(read_records(annotations, AnnotatedArticle), entry.version, seen)
        pulled = _decisions(config, folder, wanted, on_progress)
    except (InputError, ModelError) as error:
        return CalibrationRefit(reason=error.message)
    done = calibration.refit(folder, list(config.labels), pulled)
    return CalibrationRefit(
        entry.version,
        done.calibration_id,
        done.previous_id,
        decisions=done.pulled_spans,
        articles=done.pulled_articles,
        new=done.new_spans,
        spans=done.spans,
        reason=done.reason,
    )


def _decisions(
    config: Config, folder: Path, wanted: dict[str, tuple[str, Gold]], on_progress: OnProgress | None
) -> dict[str, tuple[list[calibration.Decision], list[calibration.Decision]]]:
    """The decisions of each wanted article: kept ones reused, the others from the model's beam."""
    stored = calibration.load_decisions(folder)
    known = stored.pulled if stored is not None else {}
    pulled = {key: known[key] for key in wanted if key in known}
    todo = [key for key in wanted if key not in known]
    if not todo:
        return pulled
    from toolkit.nlp.pipeline import load_pipeline, with_model

    emit(on_progress, "calibration", note=f"Scoring {len(todo):,} pulled articles for the calibration")
    model_config = with_model(config, folder)
    pipeline = load_pipeline(model_config, scores=True)
    texts = [wanted[key][0] for key in todo]
    for key, doc in zip(todo, pipeline.nlp.pipe(texts, batch_size=config.spacy.batch_size)):
        pulled[key] = calibration.doc_decisions(doc, model_config, wanted[key][1])
    return pulled
