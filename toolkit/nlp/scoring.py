"""Confidence scores for predicted entities, from beam search over the trained NER weights.

What a score means
------------------
The NER component is run as a beam search (spaCy's ``beam_ner`` decoding, over the
same trained ``ner`` weights; no other model). The beam keeps the ``beam_width`` most
probable parses of the document; ``scored_ents`` gives, for every candidate entity
``(start, end, label)``, the summed probability of the parses that contain it. So a
span's score is the model's probability, among the parses it considered, that this
exact span with this label is an entity: 1.0 when every parse agrees, 0.5 when half
the probability mass puts the boundary or label elsewhere. Candidates that trim to the
same project span (e.g. with and without a trailing comma) add up.

The task score (the prediction ``score`` in Label Studio) says how much an article is
worth annotating, fairly across lengths. Every decision the beam weighed is a chance of
a wrong decision: a predicted span with probability ``p`` is wrong with ``1 - p``, a
candidate the best parse left out would have been right with ``p``. Their sum is the
expected number of wrong decisions in the article, the corrections a human can expect
to make in it, and the score is ``1 / (1 + expected wrong decisions)``: 1.0 when the
model is sure of everything, 0.5 at one expected wrong decision, 0.25 at three. In
[0, 1], lower = more useful, and a pure function of the doc's beam (same model, same
text, same score, whichever backend ran it). Sorting tasks by prediction score ascending
puts the articles most worth a human look first.

Why per article and not per token: measured (BENCHMARKS.md, "Uncertainty first"), the
expected wrong decisions of a news article hardly grow with its length (short items are
denser in doubtful entities), so the per-article score is nearly independent of length
(Spearman's rho within +-0.21 on BBC News, Reuters and gmb-ner), while a rate per 100
tokens leaned towards short articles (rho +0.16 to +0.54) and the former least-confident
decision fell with every added decision. At equal annotated tokens on gmb-ner (3 seeds),
the per-article order trained models level with random order (-0.2 F1 points at 200
articles' tokens, +0.8 at 50: within the seeds' spread) and ahead of the per-token order
from 50 articles' tokens on; the per-token order was 0.5 points below random at 200.

Calibration: these are the raw beam scores, overconfident (on held-out news nine in ten
spans >= 0.99, a fifth or more of them wrong). A model ``toolkit train`` wrote carries a
calibration fitted on human decisions (``toolkit.nlp.calibration``); with it, pre-annotation
turns each span's probability into the calibrated probability that a human keeps it, and
the task score into the expected share of the article's entities that are right
(``toolkit.nlp.calibration.task_score``). The score below is the one of uncalibrated models.

What it costs: beam search is slower than greedy decoding (see BENCHMARKS.md), and
the entities are those of the beam's best parse, which can differ from greedy
decoding's on a few spans.
"""

from __future__ import annotations

from typing import Any

import numpy
from spacy.language import Language
from spacy.pipeline._parser_internals import _beam_utils
from spacy.pipeline.ner import EntityRecognizer
from spacy.tokens import Doc

from toolkit.config import Config

# Where the scored component leaves its candidates on each doc: a list of
# [start_token, end_token, spacy_label, probability, in_best_parse]. Plain lists, so
# they cross process boundaries with the doc (Doc.to_bytes keeps user_data).
SCORES_KEY = "toolkit.entity_scores"
FACTORY = "toolkit_scored_ner"
# States less probable than this share of the best one are pruned from the beam: the
# probability mass they carry is below what a score of 4 decimals shows.
BEAM_DENSITY = 0.0001


class ScoredEntityRecognizer(EntityRecognizer):
    """spaCy's EntityRecognizer decoding with a beam, leaving entity probabilities on each doc."""

    def beam_parse(self, docs: list[Doc], beam_width: int, drop: float = 0.0, beam_density: float = 0.0) -> list:
        """spaCy's beam_parse, with each state's action scores turned into log-probabilities.

        The beam adds up the raw action scores along each parse. A greedily trained
        model's raw scores are not on one scale from state to state, so the sums favour
        parses through states with large scores: on our samples the beam then predicts
        whole sentences as one ORG. Normalising each state's scores (log-softmax) makes
        a parse's score its log-probability, and the beam's best parse agrees with greedy
        decoding again (apart from genuinely close calls).
        """
        self._ensure_labels_are_added(docs)
        batch = _beam_utils.BeamBatch(self.moves, self.moves.init_batch(docs), None, beam_width, density=beam_density)
        model = self.model.predict(docs)
        while not batch.is_done:
            states = batch.get_unfinished_states()
            if not states:
                break
            scores = model.predict(states)
            scores = scores - scores.max(axis=1, keepdims=True)
            scores -= numpy.log(numpy.exp(scores).sum(axis=1, keepdims=True))
            batch.advance(numpy.ascontiguousarray(scores, dtype="float32"))
        model.clear_memory()
        del model
        return list(batch)

    def set_annotations(self, docs: list[Doc], beams: Any) -> None:
        super().set_annotations(docs, beams)
        if not beams or not hasattr(beams[0], "probs"):
            # spaCy hands over plain states for a batch of empty docs: nothing to score.
            for doc in docs:
                doc.user_data[SCORES_KEY] = []
            return
        for doc, scores in zip(docs, self.scored_ents(beams)):
            best = {(ent.start, ent.end, ent.label_) for ent in doc.ents}
            doc.user_data[SCORES_KEY] = [
                [start, end, label, min(max(float(prob), 0.0), 1.0), (start, end, label) in best]
                for (start, end, label), prob in scores.items()
            ]


@Language.factory(FACTORY, default_config={"source": "ner", "beam_width": 16, "beam_density": BEAM_DENSITY})
def make_scored_ner(
    nlp: Language, name: str, source: str, beam_width: int, beam_density: float
) -> ScoredEntityRecognizer:
    """A beam-decoding twin of the pipeline's ``source`` NER component, sharing its weights."""
    ner = nlp.get_pipe(source)
    return ScoredEntityRecognizer(
        nlp.vocab, ner.model, name=name, moves=ner.moves, beam_width=beam_width, beam_density=beam_density
    )


def use_scored_ner(nlp: Language, *, beam_width: int, name: str = "ner") -> None:
    """Swap the NER component ``name`` for its scored, beam-decoding twin (same name, same weights)."""
    nlp.add_pipe(FACTORY, name=f"{name}_scored", after=name, config={"source": name, "beam_width": beam_width})
    nlp.remove_pipe(name)
    nlp.rename_pipe(f"{name}_scored", name)


Key = tuple[int, int, str]  # token start, token end, project label


def candidate_scores(doc: Doc, config: Config, scored: list) -> tuple[dict[Key, float], set[Key]]:
    """Beam candidates by trimmed token span and project label: summed probability, and the best parse's keys."""
    from toolkit.nlp.spans import trim_tokens

    summed: dict[Key, float] = {}
    best: set[Key] = set()
    for start, end, label, prob, in_best in scored:
        project = config.project_label(label)
        if project is None:
            continue
        start, end = trim_tokens(doc, start, end)
        if start == end:
            continue
        key = (start, end, project)
        summed[key] = summed.get(key, 0.0) + prob
        if in_best:
            best.add(key)
    return summed, best


def expected_errors(span_scores: list[float], rejected: list[float]) -> float:
    """Expected wrong decisions: 1 - p for each predicted span, p for each candidate left out."""
    return sum(1.0 - p for p in span_scores) + sum(rejected)


def task_score(span_scores: list[float], rejected: list[float]) -> float:
    """How sure the model is of the article: ``1 / (1 + expected wrong decisions)``.

    ``span_scores`` are the predicted spans' probabilities, ``rejected`` those of the
    candidates the best parse left out. Rounded to 4 decimals, so that it is stable
    across platforms.
    """
    return round(1.0 / (1.0 + expected_errors(span_scores, rejected)), 4)


# The rate's unit of the per-token score: expected wrong decisions per this many tokens.
PER_TOKENS = 100


def per_token_score(span_scores: list[float], rejected: list[float], n_tokens: int) -> float:
    """The former task score: ``1 / (1 + expected wrong decisions per 100 tokens)`` (leans to short
    articles; kept for comparisons)."""
    rate = PER_TOKENS * expected_errors(span_scores, rejected) / max(n_tokens, 1)
    return round(1.0 / (1.0 + rate), 4)


def least_confident(span_scores: list[float], rejected: list[float]) -> float:
    """The first task score: the least confident decision (falls with length; kept for comparisons)."""
    decisions = [*span_scores, *(1.0 - p for p in rejected)]
    return round(min(decisions), 4) if decisions else 1.0
