"""A parsed doc -> the project's spans and the task score, with counts of what was changed.

Labels are mapped with ``label_map`` (spaCy labels that are not project labels are
dropped, counted by label); leading and trailing whitespace and punctuation tokens are
trimmed. With ``spacy.scores`` each span carries the beam's probability and the article
a task score (see ``toolkit.nlp.scoring``); pattern entities carry none.

These functions run once per article in the hot loop: they read spaCy's token
attributes by index and build no Token lists, and they return their counts as values
(:class:`SpanCounts`) for the caller to sum, so that a worker process can hand them back.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.nlp.spans import trim_tokens
from toolkit.records import Span

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from spacy.tokens import Doc

Key = tuple[int, int, str]  # token start, token end, project label


@dataclass
class SpanCounts:
    """What turning docs into project spans kept, changed and dropped; the counts of two runs merge."""

    kept: int = 0
    trimmed: int = 0  # kept, without surrounding whitespace or punctuation
    pattern_spans: int = 0  # kept, from the patterns file: no score
    dropped_empty: int = 0  # nothing left after trimming
    dropped_by_label: Counter[str] = field(default_factory=Counter)  # spaCy label not in the config

    def merge(self, other: SpanCounts) -> SpanCounts:
        """Add ``other``'s counts to these (in place) and return them."""
        self.kept += other.kept
        self.trimmed += other.trimmed
        self.pattern_spans += other.pattern_spans
        self.dropped_empty += other.dropped_empty
        if other.dropped_by_label:
            self.dropped_by_label.update(other.dropped_by_label)
        return self


def count_words(doc: Doc) -> int:
    """Tokens that are not whitespace, counted in one pass over spaCy's arrays (no Token objects)."""
    from spacy.attrs import IS_SPACE

    return len(doc) - int(doc.to_array(IS_SPACE).sum()) if len(doc) else 0


def scored_doc_spans(doc: Doc, config: Config, text: str | None = None) -> tuple[list[Span], float | None, SpanCounts]:
    """The project spans of a parsed doc, the doc's task score (None without scores) and the counts.

    Trimming works on whole tokens (a leading or trailing space or punctuation token),
    so an abbreviation such as ``U.S.`` keeps its final period. ``text`` is the doc's
    text when the caller has it: ``Doc.text`` joins every token again on each call.
    """
    from toolkit.nlp.calibration import char_candidates, context_of, for_config
    from toolkit.nlp.scoring import SCORES_KEY, candidate_scores, task_score

    text = doc.text if text is None else text
    counts = SpanCounts()
    candidates = doc.user_data.get(SCORES_KEY)
    scored = candidates is not None
    summed, best = candidate_scores(doc, config, candidates) if scored else ({}, set())
    calibrator = for_config(config) if scored else None
    # Every candidate in characters: a span's rivals, read by the calibration's features.
    others = char_candidates(doc, summed) if calibrator is not None else []
    spans = []
    kept: set[Key] = set()
    span_scores: list[float] = []
    for ent in doc.ents:
        label = config.project_label(ent.label_)
        if label is None:
            counts.dropped_by_label[ent.label_] += 1
            continue
        start, end = trim_tokens(doc, ent.start, ent.end)
        if start == end:
            counts.dropped_empty += 1
            continue
        start_char = doc[start].idx
        end_char = doc[end - 1].idx + len(doc[end - 1].text)
        if (start_char, end_char) != (ent.start_char, ent.end_char):
            counts.trimmed += 1
        key = (start, end, label)
        score = None
        if scored and key in summed:
            score = min(summed[key], 1.0)
            if calibrator is not None:
                context = context_of(text, start_char, end_char, label, others)
                score = calibrator.span_probability(score, text[start_char:end_char], label, end - start, context)
            score = round(score, 4)
            span_scores.append(score)
            kept.add(key)
        elif scored:
            counts.pattern_spans += 1
        spans.append(Span(start=start_char, end=end_char, label=label, text=text[start_char:end_char], score=score))
    counts.kept = len(spans)
    if not scored:
        return spans, None, counts
    # Candidates the best parse left out (and that no kept span covers exactly): the
    # model's doubt about not predicting them.
    rejected = [(key, prob) for key, prob in summed.items() if key not in kept and key not in best]
    if calibrator is None:
        return spans, task_score(span_scores, [prob for _, prob in rejected]), counts
    missed = []
    for (s, e, label), prob in rejected:
        a, b = doc[s].idx, doc[e - 1].idx + len(doc[e - 1])
        context = context_of(text, a, b, label, others)
        missed.append(calibrator.candidate_probability(prob, text[a:b], label, e - s, context))
    return spans, calibrator.task_score(span_scores, missed), counts
