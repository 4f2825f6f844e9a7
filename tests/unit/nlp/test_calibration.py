"""Calibrated span confidence: fitted on human decisions, saved beside a model, applied by pre-annotation."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import spacy
from spacy.tokens import Span as SpacySpan

from toolkit.nlp import calibration
from toolkit.nlp.calibration import Decision, Lexicon
from toolkit.nlp.scoring import SCORES_KEY

CONFIG = Path(__file__).resolve().parents[3] / "configs" / "news-ner.yaml"
LABELS = ["PERSON", "ORG", "GPE", "LOC", "NORP", "EVENT"]


def test_the_lexicon_counts_each_text_by_label_and_its_occurrences():
    text = "Paris is in France. Paris Hilton is not. paris"
    lexicon = Lexicon.from_articles([(text, [(0, 5, "GPE"), (12, 18, "GPE"), (20, 33, "PERSON")])])
    assert lexicon.labels["paris"] == {"GPE": 1}
    assert lexicon.labels["paris hilton"] == {"PERSON": 1}
    # "paris" occurs three times (case folded): once as an entity, twice not.
    assert lexicon.occurrences["paris"] == 3
    assert Lexicon.from_json(lexicon.to_json()).labels == lexicon.labels


def decisions(rng: random.Random, n: int) -> list[Decision]:
    # An overconfident beam: every span scores about 1, but those the corrections saw with
    # another label ("Acme" as PERSON) are wrong four times in five.
    out = []
    for _ in range(n):
        doubtful = rng.random() < 0.3
        right = rng.random() < (0.2 if doubtful else 0.95)
        out.append(Decision(rng.uniform(0.98, 1.0), "Acme" if doubtful else "Smith", "PERSON", 1, right))
    return out


@pytest.fixture(scope="module")
def fitted() -> calibration.Calibrator:
    lexicon = Lexicon.from_articles([("Acme hired Smith.", [(0, 4, "ORG"), (11, 16, "PERSON")])])
    rng = random.Random(0)
    candidates = [Decision(rng.uniform(0, 0.5), "Acme", "ORG", 1, rng.random() < 0.5) for _ in range(50)]
    return calibration.fit(LABELS, lexicon, decisions(rng, 300), candidates)


def test_a_fitted_calibrator_ranks_and_tempers_an_overconfident_beam(fitted):
    doubtful = fitted.span_probability(0.999, "Acme", "PERSON", 1)
    sure = fitted.span_probability(0.999, "Smith", "PERSON", 1)
    assert doubtful < 0.5 < 0.85 < sure < 1.0
    assert fitted.fitted_on["spans"] == 300


def test_saved_and_loaded_it_scores_alike_under_the_same_id(fitted, tmp_path):
    calibration.save(fitted, tmp_path)
    loaded = calibration.load(tmp_path)
    assert loaded.calibration_id == fitted.calibration_id
    assert loaded.calibration_id.startswith("cal-")
    assert loaded.span_probability(0.99, "Acme", "PERSON", 1) == fitted.span_probability(0.99, "Acme", "PERSON", 1)
    assert calibration.load(tmp_path / "elsewhere") is None


def test_nothing_to_learn_when_every_span_was_kept():
    kept = [Decision(0.99, "Smith", "PERSON", 1, True)] * 10
    assert calibration.fit(LABELS, Lexicon(), kept, []) is None


def test_the_task_score_is_the_expected_share_of_entities_right_and_length_fair():
    assert calibration.task_score([], []) == 1.0
    assert calibration.task_score([1.0, 1.0], [0.0]) == 1.0
    # Two spans at 0.75 (0.5 expected wrong) and a candidate at 0.5 (0.5 expected missed),
    # out of 2 expected entities: half of them right.
    assert calibration.task_score([0.75, 0.75], [0.5]) == 0.5
    # The same article twice over (twice as long, as doubtful per entity) scores the same.
    assert calibration.task_score([0.9, 0.6] * 2, [0.3] * 2) == calibration.task_score([0.9, 0.6], [0.3])
    # More doubt, lower score.
    assert calibration.task_score([0.9, 0.5], [0.3]) < calibration.task_score([0.9, 0.6], [0.3])


def test_preannotation_applies_the_model_folders_calibration(config, fitted, tmp_path):
    from toolkit.preannotate.spans import scored_doc_spans

    calibration.save(fitted, tmp_path)
    model_config = config.model_copy(update={"spacy": config.spacy.model_copy(update={"model": str(tmp_path)})})
    assert calibration.calibration_id(model_config) == fitted.calibration_id
    assert calibration.calibration_id(config) is None  # an installed pipeline: raw beam scores
    nlp = spacy.blank("en")
    doc = nlp.make_doc("Acme met Smith in Paris .")
    doc.ents = [SpacySpan(doc, 0, 1, label="PERSON"), SpacySpan(doc, 2, 3, label="PERSON")]
    doc.user_data[SCORES_KEY] = [[0, 1, "PERSON", 1.0, True], [2, 3, "PERSON", 1.0, True], [4, 5, "GPE", 0.2, False]]
    spans, score, _ = scored_doc_spans(doc, model_config)
    # Each span read with its context: the text around it and its rivals in the beam.
    text, others = doc.text, [(0, 4, "PERSON", 1.0), (9, 14, "PERSON", 1.0), (18, 23, "GPE", 0.2)]
    expected = [
        round(
            fitted.span_probability(1.0, text[a:b], "PERSON", 1, calibration.context_of(text, a, b, "PERSON", others)),
            4,
        )
        for a, b in ((0, 4), (9, 14))
    ]
    assert [s.score for s in spans] == expected
    paris = calibration.context_of(text, 18, 23, "GPE", others)
    assert paris == calibration.Context("Acme met Smith in ", " .", 0.0)
    missed = fitted.candidate_probability(0.2, "Paris", "GPE", 1, paris)
    assert score == calibration.task_score(expected, [missed])
    # Without the calibration the same doc keeps the beam's scores.
    raw_spans, raw_score, _ = scored_doc_spans(doc, config)
    assert [s.score for s in raw_spans] == [1.0, 1.0]
    assert raw_score == round(1 / 1.2, 4)


def test_a_spans_rival_is_the_likeliest_other_candidate_over_its_characters():
    others = [(0, 4, "ORG", 0.7), (0, 4, "PERSON", 0.2), (0, 9, "ORG", 0.1), (10, 15, "GPE", 0.9)]
    assert calibration.context_of("Acme Corp, Paris", 0, 4, "ORG", others).rival == 0.2
    assert calibration.context_of("Acme Corp, Paris", 10, 15, "GPE", others).rival == 0.0


def test_decisions_of_a_scored_doc_are_judged_against_the_gold(config):
    nlp = spacy.blank("en")
    doc = nlp.make_doc("Acme met Smith in Paris .")
    doc.ents = [SpacySpan(doc, 0, 1, label="PERSON"), SpacySpan(doc, 2, 3, label="PERSON")]
    doc.user_data[SCORES_KEY] = [[0, 1, "PERSON", 0.9, True], [2, 3, "PERSON", 1.0, True], [4, 5, "GPE", 0.2, False]]
    spans, candidates = calibration.doc_decisions(doc, config, {(0, 4, "ORG"), (9, 14, "PERSON"), (18, 23, "GPE")})
    assert [(d.text, d.prob, d.right) for d in spans] == [("Acme", 0.9, False), ("Smith", 1.0, True)]
    assert [(d.text, d.right, d.chars) for d in candidates] == [("Paris", True, (18, 23))]


def test_rivals_are_found_by_position_as_a_full_pass_finds_them():
    rng = random.Random(5)
    candidates = []
    for _ in range(300):
        a = rng.randrange(0, 2000)
        candidates.append((a, a + rng.randrange(1, 40), rng.choice(["ORG", "GPE"]), rng.random()))
    rivals = calibration.Rivals(candidates)
    for a, b, label, _ in candidates[:60]:
        full = max((p for x, y, o, p in candidates if x < b and a < y and (x, y, o) != (a, b, label)), default=0.0)
        assert rivals.best(a, b, label) == full


def test_the_scoring_fingerprint_names_the_calibration(config, fitted, tmp_path):
    """Scores through a calibration are another kind of number: the records and the prediction
    set's name say which (``beam8+cal-<id>``), so resume and push keep them apart."""
    from toolkit.nlp.pipeline import _calibration_id, scoring_fingerprint

    calibration.save(fitted, tmp_path)
    model_config = config.model_copy(update={"spacy": config.spacy.model_copy(update={"model": str(tmp_path)})})
    found = _calibration_id(model_config)
    assert f"cal-{found}" == fitted.calibration_id
    width = config.spacy.beam_width
    assert scoring_fingerprint(model_config, scores=True, calibration=found).describe() == f"beam{width}+cal-{found}"
    assert _calibration_id(config) is None  # an installed pipeline: raw beam scores, `beam8`


def pulled_decisions(rng: random.Random, articles: int, per_article: int) -> dict:
    """Pulled articles' decisions (per article key): the corrections say "Acme" as PERSON is wrong."""
    return {
        calibration.article_key(f"article {n}", {(0, 4, "ORG")}): (decisions(rng, per_article), [])
        for n in range(articles)
    }


def test_a_refit_adds_the_pulled_decisions_to_the_validation_ones_and_keeps_the_old_calibration(tmp_path):
    """Each pull's decisions refit the model folder's calibration: a new id, calibration.json
    replaced whole, the previous one kept by its id, the decisions kept for the next refit."""
    rng = random.Random(1)
    lexicon = Lexicon.from_articles([("Acme hired Smith.", [(0, 4, "ORG"), (11, 16, "PERSON")])])
    validation = decisions(rng, 40)
    calibration.save_decisions(calibration.Decisions(lexicon, (validation, [])), tmp_path)
    first = calibration.fit(LABELS, lexicon, validation, [])
    calibration.save(first, tmp_path)

    pulled = pulled_decisions(rng, 10, 30)
    done = calibration.refit(tmp_path, LABELS, pulled)
    assert done.reason is None and done.previous_id == first.calibration_id
    assert done.calibration_id is not None and done.calibration_id != first.calibration_id
    assert (done.spans, done.pulled_spans, done.pulled_articles, done.new_spans) == (340, 300, 10, 300)
    now = calibration.load(tmp_path)
    assert now.calibration_id == done.calibration_id
    assert now.fitted_on["validation_spans"] == 40 and now.fitted_on["pulled_spans"] == 300
    assert now.lexicon.labels == lexicon.labels  # the training split's: a pulled span never tells its own answer
    history = tmp_path / calibration.HISTORY_DIR / f"{first.calibration_id}.json"
    assert calibration.Calibrator.from_json(json.loads(history.read_text())).calibration_id == first.calibration_id
    kept = calibration.load_decisions(tmp_path)
    assert len(kept.validation[0]) == 40 and set(kept.pulled) == set(pulled)
    assert kept.pulled == pulled  # the decisions round-trip exactly (context included)
    # Atomic writes: nothing but the files themselves (and the lock's) is left in the folder.
    names = {p.name for p in tmp_path.iterdir()}
    assert names <= {
        calibration.FILE_NAME,
        calibration.DECISIONS_FILE,
        calibration.HISTORY_DIR,
        ".calibration.json.lock",
    }


def test_a_refit_waits_for_enough_new_decisions_and_says_why(tmp_path):
    rng = random.Random(2)
    lexicon = Lexicon.from_articles([("Acme hired Smith.", [(0, 4, "ORG"), (11, 16, "PERSON")])])
    calibration.save_decisions(calibration.Decisions(lexicon, (decisions(rng, 40), [])), tmp_path)
    pulled = pulled_decisions(rng, 4, 30)
    first = calibration.refit(tmp_path, LABELS, pulled)
    assert first.calibration_id is not None and first.previous_id is None  # none fitted at train time
    # The same articles decided the same way, and one more with few spans: too little is new.
    more = {**pulled, **{calibration.article_key("another", set()): (decisions(rng, 5), [])}}
    again = calibration.refit(tmp_path, LABELS, more)
    assert again.calibration_id is None and again.previous_id == first.calibration_id
    assert again.reason == f"5 decisions new since the last fit, fewer than {calibration.MIN_NEW_DECISIONS}"
    assert calibration.load(tmp_path).calibration_id == first.calibration_id
    # All alike: nothing to rank by, the calibration stays.
    alike = {f"k{n}": ([Decision(0.99, "Smith", "PERSON", 1, True) for _ in range(30)], []) for n in range(2)}
    calibration.save_decisions(calibration.Decisions(lexicon), tmp_path)
    still = calibration.refit(tmp_path, LABELS, alike)
    assert still.calibration_id is None and still.reason.startswith("every predicted span was decided alike")
    assert calibration.load(tmp_path).calibration_id == first.calibration_id


def test_a_refitted_calibration_renames_the_scoring_preannotate_writes(tmp_path):
    """A new calibration.json is a new id for the configured model folder: a new prediction set."""
    from toolkit.config import load_config
    from toolkit.nlp.pipeline import _calibration_id

    rng = random.Random(3)
    lexicon = Lexicon()
    calibration.save_decisions(calibration.Decisions(lexicon, (decisions(rng, 40), [])), tmp_path)
    calibration.save(calibration.fit(LABELS, lexicon, decisions(rng, 40), []), tmp_path)
    config = load_config(CONFIG)
    config = config.model_copy(update={"spacy": config.spacy.model_copy(update={"model": str(tmp_path)})})
    before = _calibration_id(config)
    done = calibration.refit(tmp_path, LABELS, pulled_decisions(rng, 3, 30))
    assert before and _calibration_id(config) == done.calibration_id.removeprefix("cal-") != before
