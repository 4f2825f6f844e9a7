"""Calibrated span confidence: the beam's probability corrected by what human decisions showed.

A greedily trained transition parser's beam is overconfident: on held-out news about nine
in ten predicted spans score >= 0.99 and a fifth to a third of those are wrong
(BENCHMARKS.md, "Span confidence"). A :class:`Calibrator` maps a span's beam probability
and a few features that cost nothing at prediction time (span length, label, shape,
whether the corrected articles had this text as an entity of this label, of another
label, or as no entity) to the probability that an annotator keeps the span exactly. It
is scikit-learn's logistic regression fitted on human decisions the model has not
trained on (the validation split of the export it was trained on), and it is saved next
to the model as ``calibration.json`` (coefficients, the lexicon of corrected entities);
its :attr:`Calibrator.calibration_id` (a digest of that file) names the scores it gives.

Candidates the best parse left out are calibrated the same way by a second model (the
probability that the candidate is a human span), so that the task score can count
expected misses as well as expected wrong spans.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from toolkit.config import Config

if TYPE_CHECKING:  # spaCy takes a second to import: only where a pipeline is loaded
    from spacy.tokens import Doc

FILE_NAME = "calibration.json"
FORMAT = 2  # 2: context features
# Beside calibration.json: the decisions it was fitted on, so that a refit adds the pulled
# corrections to them (features are a function of the model and the text: kept, not recomputed).
DECISIONS_FILE = "calibration_decisions.json"
DECISIONS_FORMAT = 1
# Earlier calibrations of the model folder, by id: what scored the predictions pushed before a refit.
HISTORY_DIR = "calibrations"
# A refit needs this many predicted spans decided since the last fit: a handful more moves
# the coefficients by noise and renames every prediction set (a new push of every task).
MIN_NEW_DECISIONS = 20
# Beam probabilities are clipped away from 0 and 1 before the logit: the beam reports 1.0
# for most spans, and an infinite feature would break the fit.
EPS = 1e-4


def normal_text(text: str) -> str:
    """The key of an entity text in the lexicon: case and inner whitespace folded."""
    return " ".join(text.split()).casefold()


@dataclass
class Lexicon:
    """What the corrected articles said about entity texts: per text, its labels' counts and its occurrences."""

    labels: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    occurrences: Counter[str] = field(default_factory=Counter)
    _words: dict[str, Counter[str]] | None = field(default=None, repr=False, compare=False)

    def word_labels(self) -> dict[str, Counter[str]]:
        """Per word of the entity texts, the labels of the entities it was in (derived once)."""
        if self._words is None:
            words: dict[str, Counter[str]] = defaultdict(Counter)
            for key, counts in self.labels.items():
                for word in key.split():
                    words[word].update(counts)
            self._words = dict(words)
        return self._words

    @classmethod
    def from_articles(cls, articles: Iterable[tuple[str, Sequence[tuple[int, int, str]]]]) -> Lexicon:
        """From (text, [(start, end, label)]) pairs: every human span's text by label, and how often
        each such text occurs in the articles at all (as an entity or not)."""
        lexicon = cls()
        texts = []
        for text, spans in articles:
            texts.append(text.casefold())
            for start, end, label in spans:
                lexicon.labels[normal_text(text[start:end])][label] += 1
        for key in lexicon.labels:
            lexicon.occurrences[key] = sum(text.count(key) for text in texts)
        return lexicon

    def to_json(self) -> dict:
        return {key: [dict(counts), self.occurrences[key]] for key, counts in sorted(self.labels.items())}

    @classmethod
    def from_json(cls, data: dict) -> Lexicon:
        lexicon = cls()
        for key, (counts, occurrences) in data.items():
            lexicon.labels[key] = Counter(counts)
            lexicon.occurrences[key] = occurrences
        return lexicon


def _logit(p: float) -> float:
    p = min(max(p, EPS), 1 - EPS)
    return math.log(p / (1 - p))


class Context(NamedTuple):
    """Around a span: the text just before and after it, and the beam's most probable rival
    (another candidate overlapping it, or the same tokens with another label)."""

    before: str = ""
    after: str = ""
    rival: float = 0.0


NO_CONTEXT = Context()
# Characters of text kept either side of a span for its context features.
WINDOW = 30


class Rivals:
    """Every beam candidate of an article (character start, end, label, probability), sorted by
    start, so that a span's overlapping candidates are found without a pass over all of them
    (a long article has thousands)."""

    def __init__(self, candidates: Iterable[tuple[int, int, str, float]]):
        self.items = sorted(candidates)
        self.starts = [item[0] for item in self.items]
        self.longest = max((b - a for a, b, _, _ in self.items), default=0)

    def best(self, start: int, end: int, label: str) -> float:
        """The likeliest candidate over any of these characters other than (start, end, label) itself."""
        low = bisect.bisect_left(self.starts, start - self.longest)
        high = bisect.bisect_left(self.starts, end)
        return max(
            (p for a, b, other, p in self.items[low:high] if start < b and (a, b, other) != (start, end, label)),
            default=0.0,
        )


def context_of(text: str, start: int, end: int, label: str, others: Rivals | Iterable) -> Context:
    """A span's context in ``text``; ``others``: every beam candidate (character start, end, label, probability)."""
    rivals = others if isinstance(others, Rivals) else Rivals(others)
    return Context(
        text[max(0, start - WINDOW) : start], text[end : end + WINDOW], min(rivals.best(start, end, label), 1.0)
    )


def span_features(
    prob: float,
    text: str,
    label: str,
    tokens: int,
    lexicon: Lexicon,
    labels: Sequence[str],
    context: Context = NO_CONTEXT,
) -> list[float]:
    """The features of one span (or candidate): all known at prediction time, no second model."""
    key = normal_text(text)
    counts = lexicon.labels.get(key)
    as_label = counts[label] if counts else 0
    as_other = sum(counts.values()) - as_label if counts else 0
    occurrences = max(lexicon.occurrences.get(key, 0), as_label + as_other)
    words = text.split()
    return [
        _logit(prob),
        float(prob >= 1 - EPS),
        min(tokens, 5) / 5,
        float(as_label > 0),
        float(as_other > 0),
        as_label / occurrences if occurrences else 0.0,
        as_other / occurrences if occurrences else 0.0,
        float(counts is None),
        float(text.isupper()),
        float(all(w[:1].isupper() for w in words)),
        float(any(c.isdigit() for c in text)),
        float(any(w[:1].islower() for w in words)),
        *(float(label == name) for name in labels),
        *_context_features(key, label, lexicon, context),
    ]


def _context_features(key: str, label: str, lexicon: Lexicon, context: Context) -> list[float]:
    before, after = context.before.split(), context.after.split()
    previous, following = (before[-1] if before else ""), (after[0] if after else "")
    # A capital at the start of a sentence says nothing about a name.
    sentence_start = not context.before.strip() or context.before.rstrip()[-1] in ".!?\n"
    words = key.split() or [""]
    seen = lexicon.word_labels()
    return [
        float(sentence_start),
        float(previous[:1].isupper()),
        float(following[:1].isupper()),
        float(previous.casefold() == "the"),
        float(following.startswith("'")),
        sum(1 for w in words if seen.get(w, {}).get(label)) / len(words),
        sum(1 for w in words if w in seen) / len(words),
        _logit(context.rival),
        float(context.rival > 0.01),
    ]


@dataclass
class Calibrator:
    """Two fitted logistic models (predicted spans; left-out candidates) and the lexicon they read."""

    labels: list[str]
    lexicon: Lexicon
    spans: dict  # {"coef": [...], "intercept": float, "mean": [...], "scale": [...]}
    candidates: dict | None
    fitted_on: dict  # what it was fitted on: counts, for the record

    @property
    def calibration_id(self) -> str:
        """A short digest of the calibration: scores calibrated by equal ids are comparable."""
        return "cal-" + hashlib.sha256(json.dumps(self.to_json(), sort_keys=True).encode()).hexdigest()[:12]

    def _apply(self, model: dict, features: list[float]) -> float:
        z = model["intercept"]
        for x, w, m, s in zip(features, model["coef"], model["mean"], model["scale"]):
            z += w * (x - m) / s
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def span_probability(self, prob: float, text: str, label: str, tokens: int, context: Context = NO_CONTEXT) -> float:
        """P(a human keeps this predicted span exactly)."""
        return self._apply(self.spans, span_features(prob, text, label, tokens, self.lexicon, self.labels, context))

    def candidate_probability(
        self, prob: float, text: str, label: str, tokens: int, context: Context = NO_CONTEXT
    ) -> float:
        """P(this left-out candidate is a human span); the beam's probability without a candidate model."""
        if self.candidates is None:
            return prob
        features = span_features(prob, text, label, tokens, self.lexicon, self.labels, context)
        return self._apply(self.candidates, features)

    def task_score(self, span_probs: Sequence[float], candidate_probs: Sequence[float]) -> float:
        return task_score(span_probs, candidate_probs)

    def to_json(self) -> dict:
        return {
            "format": FORMAT,
            "labels": self.labels,
            "spans": self.spans,
            "candidates": self.candidates,
            "fitted_on": self.fitted_on,
            "lexicon": self.lexicon.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict) -> Calibrator:
        return cls(
            labels=list(data["labels"]),
            lexicon=Lexicon.from_json(data["lexicon"]),
            spans=data["spans"],
            candidates=data.get("candidates"),
            fitted_on=data.get("fitted_on", {}),
        )


def fit_logistic(features: list[list[float]], outcomes: list[bool]) -> dict | None:
    """scikit-learn's LogisticRegression on standardised features, as plain numbers; None when the
    outcomes are all alike (nothing to learn a ranking from)."""
    import numpy
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    if len(set(outcomes)) < 2:
        return None
    x = numpy.asarray(features, dtype=float)
    scaler = StandardScaler().fit(x)
    # A constant feature has scale 0: StandardScaler reports 1 for it, so it adds nothing.
    model = LogisticRegression(C=1.0, max_iter=1000).fit(scaler.transform(x), numpy.asarray(outcomes))
    return {
        "coef": [float(w) for w in model.coef_[0]],
        "intercept": float(model.intercept_[0]),
        "mean": [float(m) for m in scaler.mean_],
        "scale": [float(s) for s in scaler.scale_],
    }


@dataclass
class Decision:
    """One span or candidate the model weighed, and what the human did with it."""

    prob: float
    text: str
    label: str
    tokens: int
    right: bool  # a predicted span kept exactly; a candidate that is a human span
    chars: tuple[int, int] = (0, 0)  # character start and end in the article
    context: Context = NO_CONTEXT

    def to_json(self) -> list:
        return [self.prob, self.text, self.label, self.tokens, self.right, *self.chars, *self.context]

    @classmethod
    def from_json(cls, row: list) -> Decision:
        prob, text, label, tokens, right, a, b, before, after, rival = row
        return cls(prob, text, label, tokens, bool(right), (a, b), Context(before, after, rival))


def fit(
    labels: Sequence[str], lexicon: Lexicon, spans: list[Decision], candidates: list[Decision]
) -> Calibrator | None:
    """A calibrator fitted on decisions; None when the predicted spans' outcomes are all alike."""
    span_model = fit_logistic(
        [span_features(d.prob, d.text, d.label, d.tokens, lexicon, labels, d.context) for d in spans],
        [d.right for d in spans],
    )
    if span_model is None:
        return None
    candidate_model = fit_logistic(
        [span_features(d.prob, d.text, d.label, d.tokens, lexicon, labels, d.context) for d in candidates],
        [d.right for d in candidates],
    )
    fitted_on = {
        "spans": len(spans),
        "kept": sum(d.right for d in spans),
        "candidates": len(candidates),
        "candidates_right": sum(d.right for d in candidates),
    }
    return Calibrator(list(labels), lexicon, span_model, candidate_model, fitted_on)


def save(calibrator: Calibrator, folder: Path) -> Path:
    from toolkit.io.atomic import atomic_output

    path = folder / FILE_NAME
    with atomic_output(path) as handle:
        handle.write(json.dumps(calibrator.to_json(), ensure_ascii=False, sort_keys=True))
    return path


def load(folder: Path) -> Calibrator | None:
    """The calibration saved with a model folder, or None (an installed pipeline, an older model)."""
    path = Path(folder) / FILE_NAME
    if not path.is_file():
        return None
    return Calibrator.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Decisions:
    """The decisions a model folder's calibration is fitted on: the validation split's (at train
    time) and, per pulled article (``article_key``), the pulled ones; and the lexicon read."""

    lexicon: Lexicon
    validation: tuple[list[Decision], list[Decision]] = field(default_factory=lambda: ([], []))
    pulled: dict[str, tuple[list[Decision], list[Decision]]] = field(default_factory=dict)

    def all(self) -> tuple[list[Decision], list[Decision]]:
        spans, candidates = list(self.validation[0]), list(self.validation[1])
        for found, left_out in self.pulled.values():
            spans += found
            candidates += left_out
        return spans, candidates

    def to_json(self) -> dict:
        def pair(p: tuple[list[Decision], list[Decision]]) -> dict:
            return {"spans": [d.to_json() for d in p[0]], "candidates": [d.to_json() for d in p[1]]}

        return {
            "format": DECISIONS_FORMAT,
            "lexicon": self.lexicon.to_json(),
            "validation": pair(self.validation),
            "pulled": {key: pair(value) for key, value in sorted(self.pulled.items())},
        }

    @classmethod
    def from_json(cls, data: dict) -> Decisions:
        def pair(p: dict) -> tuple[list[Decision], list[Decision]]:
            return [Decision.from_json(r) for r in p["spans"]], [Decision.from_json(r) for r in p["candidates"]]

        return cls(
            Lexicon.from_json(data["lexicon"]),
            pair(data["validation"]),
            {key: pair(value) for key, value in data.get("pulled", {}).items()},
        )


def article_key(text: str, gold: Iterable[tuple[int, int, str]]) -> str:
    """Which pulled decisions an article gives: its text and the human's final spans (the model is the folder's)."""
    return hashlib.sha256(json.dumps([text, sorted(gold)], ensure_ascii=False).encode()).hexdigest()[:24]


def save_decisions(decisions: Decisions, folder: Path) -> Path:
    from toolkit.io.atomic import atomic_output

    path = folder / DECISIONS_FILE
    with atomic_output(path) as handle:
        handle.write(json.dumps(decisions.to_json(), ensure_ascii=False, separators=(",", ":")))
    return path


def load_decisions(folder: Path) -> Decisions | None:
    """The decisions saved with a model folder's calibration; None for a model trained before they were kept."""
    path = Path(folder) / DECISIONS_FILE
    if not path.is_file():
        return None
    return Decisions.from_json(json.loads(path.read_text(encoding="utf-8")))


@dataclass
class Refit:
    """What a refit did: ``calibration_id`` the new one (None: not refitted, ``reason`` says why)."""

    calibration_id: str | None
    previous_id: str | None
    spans: int = 0  # predicted spans fitted on (validation and pulled)
    pulled_spans: int = 0
    pulled_articles: int = 0
    new_spans: int = 0  # pulled predicted spans not in the last fit
    reason: str | None = None


def refit(folder: Path, labels: Sequence[str], pulled: dict[str, tuple[list[Decision], list[Decision]]]) -> Refit:
    """Refit the calibration of the model ``folder`` on its validation decisions and ``pulled``
    (per ``article_key``: every pulled article the model did not train on, as of this pull: an
    article gone or re-decided since the last fit is replaced), under the folder's calibration lock.

    The lexicon stays the training split's: a pulled article's own spans in it would tell the
    fit the answer. The new calibration.json replaces the old one atomically; the old one stays
    as ``calibrations/<id>.json`` (what scored the predictions pushed before). Not refitted
    (``reason``) when fewer than ``MIN_NEW_DECISIONS`` predicted spans are new since the last fit,
    or when the decisions are all alike.
    """
    from toolkit.io.atomic import atomic_output
    from toolkit.io.locks import output_lock

    folder = Path(folder)
    with output_lock(folder / FILE_NAME, what="model calibration"):
        previous = load(folder)
        previous_id = previous.calibration_id if previous is not None else None
        stored = load_decisions(folder)
        if stored is None:  # a model trained before decisions were kept: its lexicon, no validation
            stored = Decisions(previous.lexicon if previous is not None else Lexicon())
        new = sum(len(found) for key, (found, _) in pulled.items() if key not in stored.pulled)
        outcome = Refit(
            None,
            previous_id,
            pulled_spans=sum(len(found) for found, _ in pulled.values()),
            pulled_articles=len(pulled),
            new_spans=new,
        )
        if new < MIN_NEW_DECISIONS:
            outcome.reason = f"{plural_decisions(new)} new since the last fit, fewer than {MIN_NEW_DECISIONS}"
            return outcome
        candidate = Decisions(stored.lexicon, stored.validation, dict(pulled))
        spans, candidates = candidate.all()
        fitted = fit(list(labels), stored.lexicon, spans, candidates)
        outcome.spans = len(spans)
        if fitted is None:
            outcome.reason = "every predicted span was decided alike (all kept, or none): nothing to rank them by"
            return outcome
        fitted.fitted_on.update(
            validation_spans=len(stored.validation[0]),
            pulled_spans=outcome.pulled_spans,
            pulled_articles=outcome.pulled_articles,
        )
        if previous is not None:
            history = folder / HISTORY_DIR / f"{previous_id}.json"
            history.parent.mkdir(exist_ok=True)
            with atomic_output(history) as handle:
                handle.write(json.dumps(previous.to_json(), ensure_ascii=False, sort_keys=True))
        # Replaced (a new file renamed over), never written in place: the registry's copy of a
        # model shares its files with the trained folder by hard links. The decisions first.
        save_decisions(candidate, folder)
        save(fitted, folder)
        outcome.calibration_id = fitted.calibration_id
        return outcome


def plural_decisions(n: int) -> str:
    return f"{n:,} decision" if n == 1 else f"{n:,} decisions"


@functools.lru_cache(maxsize=8)
def _load_cached(path: str, version: tuple[int, int, int]) -> Calibrator | None:
    return load(Path(path))


def for_config(config: Config) -> Calibrator | None:
    """The calibration of the configured model (a folder ``toolkit train`` wrote), or None.

    Read once per process and file version: every article of a run is scored alike.
    """
    path = Path(config.spacy.model) / FILE_NAME
    try:
        stat = path.stat()
    except OSError:
        return None
    # A refit replaces the file (a new inode) maybe within the clock's resolution: all three tell it.
    return _load_cached(str(path.parent), (stat.st_mtime_ns, stat.st_ino, stat.st_size))


def calibration_id(config: Config) -> str | None:
    """The identity of the calibration the configured model's scores go through (None: raw beam scores)."""
    calibrator = for_config(config)
    return calibrator.calibration_id if calibrator is not None else None


def doc_decisions(doc: Doc, config: Config, gold: set[tuple[int, int, str]]) -> tuple[list[Decision], list[Decision]]:
    """A scored doc's predicted spans and left-out candidates, each judged against ``gold``
    (character start, end, project label): kept exactly, or a human span."""
    from toolkit.nlp.scoring import SCORES_KEY, candidate_scores
    from toolkit.nlp.spans import trim_tokens

    summed, best = candidate_scores(doc, config, doc.user_data.get(SCORES_KEY) or [])
    others = char_candidates(doc, summed)
    spans, kept = [], set()
    for ent in doc.ents:
        label = config.project_label(ent.label_)
        start, end = trim_tokens(doc, ent.start, ent.end)
        key = (start, end, label)
        if label is None or start == end or key not in summed:
            continue
        kept.add(key)
        a, b = char_bounds(doc, start, end)
        spans.append(decision(doc.text, a, b, label, end - start, min(summed[key], 1.0), gold, others))
    candidates = [
        decision(doc.text, *char_bounds(doc, key[0], key[1]), key[2], key[1] - key[0], min(prob, 1.0), gold, others)
        for key, prob in summed.items()
        if key not in kept and key not in best
    ]
    return spans, candidates


def char_bounds(doc: Doc, start: int, end: int) -> tuple[int, int]:
    return doc[start].idx, doc[end - 1].idx + len(doc[end - 1])


def char_candidates(doc: Doc, summed: dict[tuple[int, int, str], float]) -> Rivals:
    """The beam's candidates (token start, end, label -> probability) in characters: the rivals of a span."""
    return Rivals((*char_bounds(doc, start, end), label, prob) for (start, end, label), prob in summed.items())


def decision(text: str, a: int, b: int, label: str, tokens: int, prob: float, gold: set, others: Rivals) -> Decision:
    context = context_of(text, a, b, label, others)
    return Decision(prob, text[a:b], label, tokens, (a, b, label) in gold, (a, b), context)


def task_score(span_probs: Sequence[float], candidate_probs: Sequence[float]) -> float:
    """The expected share of the article's entities the pre-annotation gets right.

    ``1 - (expected wrong spans + expected missed entities) / expected entities``, with
    calibrated probabilities: a predicted span is wrong with ``1 - p``, a left-out
    candidate is a missed entity with ``q``; the expected entities are ``sum p + sum q``.
    The expected complement of the article's error rate (wrong and missed spans per human
    span), so it is length-fair; 1.0 when nothing is in doubt (or nothing was found).
    """
    wrong = sum(1.0 - p for p in span_probs)
    missed = sum(candidate_probs)
    expected = sum(span_probs) + missed
    if expected <= 0:
        return 1.0
    return round(max(0.0, 1.0 - (wrong + missed) / expected), 4)
