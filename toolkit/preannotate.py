"""Pre-annotate articles with a spaCy pipeline: articles -> predicted articles.

Only the components that named-entity recognition needs are run (the NER component
and the embedding layer it listens to, if any), which gives the same entities as the
full pipeline in less time.
"""

from __future__ import annotations

import importlib.util
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.errors import ModelError
from toolkit.records import Article, ModelInfo, PredictedArticle, Span

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from spacy.language import Language
    from spacy.tokens import Doc

# Components that produce entities; everything else is left out unless one of these
# listens to it.
ENTITY_FACTORIES = {"ner", "beam_ner", "entity_ruler", "span_ruler"}


@dataclass(frozen=True)
class Pipeline:
    nlp: Language
    model: ModelInfo
    entity_labels: tuple[str, ...]


@dataclass
class PreannotateStats:
    articles: int = 0
    words: int = 0
    spans: int = 0
    trimmed: int = 0
    dropped_by_label: Counter[str] = field(default_factory=Counter)
    dropped_empty: int = 0


def _is_installed_or_path(name: str) -> bool:
    return Path(name).exists() or importlib.util.find_spec(name) is not None


def _components_for_entities(nlp: Language) -> list[str]:
    keep = {name for name in nlp.pipe_names if nlp.get_pipe_meta(name).factory in ENTITY_FACTORIES}
    for name in nlp.pipe_names:
        listeners = getattr(nlp.get_pipe(name), "listening_components", None) or []
        if keep.intersection(listeners):
            keep.add(name)
    return [name for name in nlp.pipe_names if name in keep]


def load_pipeline(config: Config) -> Pipeline:
    """Load the configured pipeline (or the first installed fallback) and check it."""
    import spacy

    candidates = [config.spacy.model, *config.spacy.fallback_models]
    chosen = next((name for name in candidates if _is_installed_or_path(name)), None)
    if chosen is None:
        raise ModelError(
            f"[spacy.model] none of {', '.join(candidates)} is installed",
            hint=f"install one, e.g. `pip install {candidates[-1].replace('_', '-')}`",
        )
    try:
        nlp = spacy.load(chosen)
    except Exception as error:  # spaCy raises OSError, ValueError, ...: all mean "not loadable"
        raise ModelError(f"[spacy.model] cannot load {chosen!r}: {error}") from None
    version = str(nlp.meta.get("version", "0.0.0"))
    if config.spacy.version is not None and version != config.spacy.version:
        raise ModelError(f"[spacy.version] {chosen} is version {version}, the config expects {config.spacy.version}")
    components = _components_for_entities(nlp)
    if not components:
        raise ModelError(f"[spacy.model] {chosen} has no entity recognizer (pipeline: {', '.join(nlp.pipe_names)})")
    nlp.select_pipes(enable=components)
    labels: set[str] = set()
    for name in components:
        labels.update(getattr(nlp.get_pipe(name), "labels", ()) or ())
    unknown = sorted(set(config.label_map) - labels)
    if unknown:
        raise ModelError(
            f"[label_map] {chosen} never predicts {', '.join(unknown)}; it predicts {', '.join(sorted(labels))}"
        )
    if not any(config.project_label(label) for label in labels):
        raise ModelError(f"[labels] none of the labels {chosen} predicts is in labels or label_map")
    return Pipeline(nlp=nlp, model=ModelInfo(name=chosen, version=version), entity_labels=tuple(sorted(labels)))


def doc_spans(doc: Doc, config: Config, stats: PreannotateStats) -> list[Span]:
    """The project spans of a parsed doc: labels mapped, whitespace and stray punctuation trimmed.

    Trimming works on whole tokens (a leading or trailing space or punctuation token),
    so an abbreviation such as ``U.S.`` keeps its final period.
    """
    spans = []
    for ent in doc.ents:
        label = config.project_label(ent.label_)
        if label is None:
            stats.dropped_by_label[ent.label_] += 1
            continue
        start, end = ent.start, ent.end
        while start < end and (doc[start].is_space or doc[start].is_punct):
            start += 1
        while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct):
            end -= 1
        if start == end:
            stats.dropped_empty += 1
            continue
        start_char = doc[start].idx
        end_char = doc[end - 1].idx + len(doc[end - 1].text)
        if (start_char, end_char) != (ent.start_char, ent.end_char):
            stats.trimmed += 1
        spans.append(Span(start=start_char, end=end_char, label=label, text=doc.text[start_char:end_char]))
    return spans


def preannotate(
    articles: Iterable[Article],
    *,
    config: Config,
    pipeline: Pipeline,
    stats: PreannotateStats | None = None,
    on_article: Callable[[PredictedArticle], None] | None = None,
) -> Iterator[PredictedArticle]:
    """Run the pipeline over the articles, yielding one predicted article per article."""
    stats = stats if stats is not None else PreannotateStats()
    pairs = ((article.text, article) for article in articles)
    for doc, article in pipeline.nlp.pipe(pairs, as_tuples=True, batch_size=config.spacy.batch_size):
        spans = doc_spans(doc, config, stats)
        predicted = PredictedArticle(**article.model_dump(), model=pipeline.model, spans=spans)
        stats.articles += 1
        stats.words += sum(1 for token in doc if not token.is_space)
        stats.spans += len(spans)
        if on_article is not None:
            on_article(predicted)
        yield predicted
