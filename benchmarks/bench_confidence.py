"""Span confidence after one round: does a span's score say whether the annotator keeps it?

One simulated round on gmb-ner (mapped to PER/ORG/LOC/MISC as ``bench_train.py`` does,
whose corpus, export and training helpers this script reuses): the corpus shuffled with
seed 0, the first ``--test`` (231) articles held out; per seed, ``--corrected`` (120)
articles drawn from the rest stand in for the corrected articles of a round (their gold
spans are the annotator's answer), exported with 85% train / 15% validation, and a model
trained from the base model through ``toolkit.train.training.train`` (the config's
``train.*`` defaults, ``--epochs`` at most). Then, with the trained model's scored beam
pipeline (the configured beam width):

- the validation articles (human decisions the model did not train on, available in
  practice after every pull) are the calibration set;
- the held-out articles are the test set: a predicted span is right when the gold has
  exactly that span and label.

Methods (each fitted on the validation articles only, applied to the test articles):
``raw beam``; ``beam + isotonic`` (sklearn IsotonicRegression on the beam probability);
``logistic`` (``toolkit.nlp.calibration``: beam probability, span length, label, shape,
and the corrected articles' lexicon: seen as this label / another label / not at all);
``logistic + base agrees`` (adds whether the base model, greedy, predicts the same span
and label: a second model run at prediction time); ``isotonic on base decisions``
(isotonic on the beam probability fitted on the base model's predictions on the 120
corrected articles against their corrections). ``--base`` names the base model (``sm``,
``md`` = the en_core_web_md re-upload, as ``bench_train.py``; default the config's).

Optional, measured on the same decisions: ``--committee K`` trains K more models on bootstrap
resamples of the round's train articles (same base, settings and validation split; seeds
``seed * 1000 + k + 1``; ``--committee-seeds`` limits it to some seeds) and ``--dropout-passes
N`` runs the trained model's greedy pipeline N times with the NER model's dropout kept on
(``--dropout-rate``, one or more). Each adds, from the share of members (or passes) that predict exactly the
span: the share alone, isotonic on it, and the shipped logistic with the share as one more
feature; their cost is the members' (passes') greedy words/s on the test texts.

Figures per method and seed: AUROC (sklearn roc_auc_score) of the span's score for "right",
ECE over 15 equal-mass bins, share of spans scored >= 0.99; and the task score's Spearman
rho with the article's error rate (wrong and missed spans per gold span) and with its
length. Cost: words/s of greedy decoding, of the beam, and of the beam plus calibration on
the test texts. Results JSON and a reliability diagram (PNG) under benchmarks/results/.

    python benchmarks/bench_confidence.py [--seeds 0,1,2] [--epochs 15] [--test 231] [--base md]
        [--committee 4 --committee-seeds 0] [--dropout-passes 8 --dropout-rate 0.1,0.3] [--dump D]
"""

from __future__ import annotations

import argparse
import json
import pickle
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import LABELS, make_export, model_path, news_config, read_corpus  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
BINS = 15


def ece(probs: list[float], right: list[bool], bins: int = BINS) -> float:
    """Expected calibration error over ``bins`` equal-mass bins (sorted by score)."""
    order = sorted(range(len(probs)), key=lambda i: probs[i])
    total = 0.0
    for b in range(bins):
        chunk = order[b * len(order) // bins : (b + 1) * len(order) // bins]
        if chunk:
            confidence = sum(probs[i] for i in chunk) / len(chunk)
            accuracy = sum(right[i] for i in chunk) / len(chunk)
            total += len(chunk) * abs(confidence - accuracy)
    return total / max(len(order), 1)


def decisions(pipeline, config, docs: list[dict]) -> list[dict]:
    """Per article: predicted spans (with char offsets) and left-out candidates, raw beam probabilities, gold."""
    from toolkit.nlp.calibration import doc_decisions

    out = []
    for doc, source in zip(pipeline.nlp.pipe([d["text"] for d in docs], batch_size=32), docs):
        gold = {tuple(s) for s in source["spans"]}
        spans, candidates = doc_decisions(doc, config, gold)
        predicted = [(d.chars[0], d.chars[1], d) for d in spans]
        out.append(
            {"text": source["text"], "gold": gold, "predicted": predicted, "candidates": candidates, "words": len(doc)}
        )
    return out


def greedy_spans(pipeline, config, docs: list[dict]) -> list[set]:
    from toolkit.nlp.spans import entity_spans

    return [
        {(s.start, s.end, s.label) for s in entity_spans(doc, config, d["text"])}
        for doc, d in zip(pipeline.nlp.pipe([d["text"] for d in docs], batch_size=32), docs)
    ]


def dropout_spans(pipeline, config, docs: list[dict], passes: int, rate: float, seed: int) -> list[list[set]]:
    """Per article, the greedy spans of ``passes`` passes with the NER model's dropout kept on.

    spaCy predicts with ``is_train=False``, which turns every thinc dropout off; the NER model's
    layers that drop (``dropout``, ``hashembed``, ``static_vectors``: those with a
    ``dropout_rate``) are called here with ``is_train=True`` and the rate set, then restored."""
    from thinc.api import fix_random_seed

    nlp = pipeline.nlp
    name = next(n for n in nlp.pipe_names if nlp.get_pipe_meta(n).factory in {"ner", "beam_ner"})
    # thinc's set_dropout_rate leaves these at 0 here (it matches node names): set each one.
    patched = [n for n in nlp.get_pipe(name).model.walk() if "dropout_rate" in n.attrs]
    patched = [n for n in patched if n.name != "precomputable_affine"]
    originals = [(n._func, n.attrs["dropout_rate"]) for n in patched]
    for node, (func, _) in zip(patched, originals):
        node._func = lambda m, X, is_train, func=func: func(m, X, True)
        node.attrs["dropout_rate"] = rate
    fix_random_seed(seed)
    try:
        runs = [greedy_spans(pipeline, config, docs) for _ in range(passes)]
    finally:
        for node, (func, old) in zip(patched, originals):
            node._func = func
            node.attrs["dropout_rate"] = old
    return [list(sets) for sets in zip(*runs)]


def words_per_second(pipeline, texts: list[str]) -> float:
    list(pipeline.nlp.pipe(texts[:8]))  # warm up: first calls allocate
    began = time.perf_counter()
    words = sum(len(doc) for doc in pipeline.nlp.pipe(texts, batch_size=64))
    return words / (time.perf_counter() - began)


def evaluate(name: str, articles: list[dict], span_p, cand_p, seed: int) -> dict:
    from scipy.stats import spearmanr
    from sklearn.metrics import roc_auc_score

    from toolkit.nlp.calibration import task_score

    probs, right, scores, rates, lengths = [], [], [], [], []
    for article in articles:
        ps = [span_p(d, a, b, article) for a, b, d in article["predicted"]]
        qs = [cand_p(d, article) for d in article["candidates"]]
        probs += ps
        right += [d.right for _, _, d in article["predicted"]]
        wrong = sum(not d.right for _, _, d in article["predicted"])
        found = {(a, b, d.label) for a, b, d in article["predicted"] if d.right}
        missed = len(article["gold"] - found)
        rates.append((wrong + missed) / max(len(article["gold"]), 1))
        scores.append(task_score(ps, qs))
        lengths.append(article["words"])
    result = {
        "method": name,
        "seed": seed,
        "spans": len(probs),
        "right": sum(right) / len(right),
        "auroc": roc_auc_score(right, probs),
        "ece": ece(probs, right),
        "share_ge_099": sum(p >= 0.99 for p in probs) / len(probs),
        "rho_error_rate": spearmanr(scores, rates).statistic,
        "rho_length": spearmanr(scores, lengths).statistic,
        "curve": reliability(probs, right),
    }
    print(
        f"seed {seed} {name:28s} AUROC {result['auroc']:.3f} ECE {result['ece']:.3f} "
        f">=0.99 {result['share_ge_099']:.0%} task rho(error) {result['rho_error_rate']:+.3f} "
        f"rho(length) {result['rho_length']:+.3f}",
        flush=True,
    )
    return result


def reliability(probs: list[float], right: list[bool]) -> list[tuple[float, float, int]]:
    order = sorted(range(len(probs)), key=lambda i: probs[i])
    points = []
    for b in range(BINS):
        chunk = order[b * len(order) // BINS : (b + 1) * len(order) // BINS]
        if chunk:
            points.append(
                (sum(probs[i] for i in chunk) / len(chunk), sum(right[i] for i in chunk) / len(chunk), len(chunk))
            )
    return points


def one_seed(seed: int, args, docs: list[dict], test: list[dict], pool: list[dict], work: Path) -> list[dict]:
    from toolkit.nlp.pipeline import load_pipeline, with_model
    from toolkit.train import train

    config = news_config(max_epochs=args.epochs)
    if args.base:
        config = with_model(config, model_path(args.base))
    corrected = random.Random(seed).sample(pool, args.corrected)
    n_val = round(0.15 * len(corrected))
    train_docs, validation = corrected[n_val:], corrected[:n_val]
    export = make_export(work / f"s{seed}", train_docs, validation, config)
    out = work / f"s{seed}" / "model"
    began = time.perf_counter()
    result = train(export, config=config, out=out, base="model", seed=seed)
    print(f"seed {seed}: trained in {time.perf_counter() - began:.0f} s, {len(result.curve)} validations", flush=True)
    trained = with_model(config, out)
    scored = load_pipeline(trained, scores=True)
    val = decisions(scored, trained, validation)
    tst = decisions(scored, trained, test)
    base_greedy = load_pipeline(config, scores=False)
    base_sets = greedy_spans(base_greedy, config, validation + test)
    for article, base in zip(val + tst, base_sets):
        article["base"] = base
    base_scored = load_pipeline(config, scores=True)
    base_on_corrected = decisions(base_scored, config, corrected)

    greedy = load_pipeline(trained, scores=False)
    texts = [d["text"] for d in test]
    cost = {"greedy_wps": words_per_second(greedy, texts)}
    cost["beam_wps"] = words_per_second(scored, texts)
    rates = [float(r) for r in args.dropout_rate.split(",") if r] if args.dropout_passes else []
    for rate in rates:
        sets = dropout_spans(greedy, trained, validation + test, args.dropout_passes, rate, seed)
        for article, passes in zip(val + tst, sets):
            article[f"dropout {rate:g}"] = passes
    if rates:  # the cost does not depend on the rate
        began = time.perf_counter()
        dropout_spans(greedy, trained, test, args.dropout_passes, rates[0], seed)
        cost["dropout_passes_wps"] = sum(a["words"] for a in tst) / (time.perf_counter() - began)
    if args.committee and seed in committee_seeds(args):
        committee(seed, args, config, train_docs, validation, test, val, tst, work, cost)
    if args.dump:
        with open(f"{args.dump}-s{seed}.pkl", "wb") as handle:
            pickle.dump(
                {"val": val, "tst": tst, "train_docs": train_docs, "base": base_on_corrected, "cost": cost}, handle
            )
    shutil.rmtree(work / f"s{seed}", ignore_errors=True)
    return methods(seed, val, tst, train_docs, base_on_corrected, cost)


def committee_seeds(args) -> set[int]:
    return {int(x) for x in (args.committee_seeds or args.seeds).split(",") if x}


def committee(seed: int, args, config, train_docs, validation, test, val, tst, work: Path, cost: dict) -> None:
    """K models trained on bootstrap resamples of the round's train articles (same base and
    settings, the same validation split for early stopping); each article gets every member's
    greedy spans (``article["committee"]``) and ``cost`` the members' passes' words/s."""
    from toolkit.nlp.pipeline import load_pipeline, with_model
    from toolkit.train import train

    members = []
    for k in range(args.committee):
        rng = random.Random(seed * 1000 + k + 1)
        # Drawn with replacement; a repeated article gets its own id (the export keys on ids).
        boot = [{**d, "id": f"{d['id']}-b{j}"} for j, d in enumerate(rng.choice(train_docs) for _ in train_docs)]
        folder = work / f"s{seed}" / f"member{k}"
        export = make_export(folder, boot, validation, config)
        began = time.perf_counter()
        train(export, config=config, out=folder / "model", base="model", seed=seed * 1000 + k + 1)
        print(f"seed {seed}: member {k} trained in {time.perf_counter() - began:.0f} s", flush=True)
        member = with_model(config, folder / "model")
        members.append((member, load_pipeline(member, scores=False)))
    for article in val + tst:
        article["committee"] = []
    seconds = 0.0
    for member, pipeline in members:
        for article, spans in zip(val + tst, greedy_spans(pipeline, member, validation + test)):
            article["committee"].append(spans)
        seconds += sum(a["words"] for a in tst) / words_per_second(pipeline, [d["text"] for d in test])
    cost["committee_wps"] = sum(a["words"] for a in tst) / seconds


def share(article: dict, key: str, a: int, b: int, label: str) -> float:
    """The share of the committee's members (or dropout passes) that predict exactly this span."""
    runs = article[key]
    return sum((a, b, label) in run for run in runs) / len(runs)


def add_context(article: dict) -> None:
    """Each decision's context (as pre-annotation computes it), for decisions saved without one."""
    from toolkit.nlp.calibration import Rivals, context_of

    decisions = [d for _, _, d in article["predicted"]] + article["candidates"]
    others = Rivals((*d.chars, d.label, d.prob) for d in decisions)
    for d in decisions:
        d.context = context_of(article["text"], *d.chars, d.label, others)


def methods(seed: int, val, tst, train_docs, base_on_corrected, cost) -> list[dict]:
    from sklearn.isotonic import IsotonicRegression

    from toolkit.nlp import calibration

    for article in val + tst:
        add_context(article)
    lexicon = calibration.Lexicon.from_articles((d["text"], d["spans"]) for d in train_docs)
    labels = list(LABELS)

    def feats(d, a, b, article, with_base: bool) -> list[float]:
        f = calibration.span_features(d.prob, d.text, d.label, d.tokens, lexicon, labels, d.context)
        return [*f, float((a, b, d.label) in article["base"])] if with_base else f

    val_spans = [(d, a, b, art) for art in val for a, b, d in art["predicted"]]
    val_cands = [(d, art) for art in val for d in art["candidates"]]
    y_spans = [d.right for d, *_ in val_spans]
    y_cands = [d.right for d, _ in val_cands]
    results = []
    raw_span = lambda d, a, b, art: d.prob  # noqa: E731
    raw_cand = lambda d, art: d.prob  # noqa: E731
    results.append(evaluate("raw beam", tst, raw_span, raw_cand, seed))

    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit([d.prob for d, *_ in val_spans], y_spans)
    iso_c = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit([d.prob for d, _ in val_cands], y_cands)
    results.append(
        evaluate(
            "beam + isotonic",
            tst,
            lambda d, a, b, art: float(iso.predict([d.prob])[0]),
            lambda d, art: float(iso_c.predict([d.prob])[0]),
            seed,
        )
    )
    base_spans = [d for art in base_on_corrected for _, _, d in art["predicted"]]
    base_cands = [d for art in base_on_corrected for d in art["candidates"]]
    iso_b = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
        [d.prob for d in base_spans], [d.right for d in base_spans]
    )
    iso_bc = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
        [d.prob for d in base_cands], [d.right for d in base_cands]
    )
    results.append(
        evaluate(
            "isotonic on base decisions",
            tst,
            lambda d, a, b, art: float(iso_b.predict([d.prob])[0]),
            lambda d, art: float(iso_bc.predict([d.prob])[0]),
            seed,
        )
    )
    # The shipped method: toolkit.nlp.calibration fitted on the validation decisions.
    shipped = calibration.fit(labels, lexicon, [d for d, *_ in val_spans], [d for d, _ in val_cands])
    results.append(
        evaluate(
            "logistic (shipped)",
            tst,
            lambda d, a, b, art: shipped.span_probability(d.prob, d.text, d.label, d.tokens, d.context),
            lambda d, art: shipped.candidate_probability(d.prob, d.text, d.label, d.tokens, d.context),
            seed,
        )
    )
    from sklearn.ensemble import HistGradientBoostingClassifier

    def features(d):
        return calibration.span_features(d.prob, d.text, d.label, d.tokens, lexicon, labels, d.context)

    boosted = HistGradientBoostingClassifier(max_depth=2, max_iter=60, random_state=0)
    boosted.fit([features(d) for d, *_ in val_spans], y_spans)
    results.append(
        evaluate(
            "gradient boosting (same features)",
            tst,
            lambda d, a, b, art: float(boosted.predict_proba([features(d)])[0, 1]),
            lambda d, art: shipped.candidate_probability(d.prob, d.text, d.label, d.tokens, d.context),
            seed,
        )
    )
    with_base = calibration.fit_logistic([feats(d, a, b, art, True) for d, a, b, art in val_spans], y_spans)
    model = calibration.Calibrator(labels, lexicon, with_base, shipped.candidates, {})
    results.append(
        evaluate(
            "logistic + base agrees",
            tst,
            lambda d, a, b, art: model._apply(with_base, feats(d, a, b, art, True)),
            lambda d, art: shipped.candidate_probability(d.prob, d.text, d.label, d.tokens),
            seed,
        )
    )
    for article in val + tst:  # the first runs saved one rate (0.1) as "dropout"
        if "dropout" in article:
            article["dropout 0.1"] = article.pop("dropout")
    keys = [k for k in val[0] if k == "committee" or k.startswith("dropout ")]
    for key in keys:
        what = "committee" if key == "committee" else f"dropout passes (rate {key.split()[1]})"
        if all(key in art for art in val + tst):
            results += agreement_methods(key, what, seed, val, tst, feats, val_spans, y_spans, shipped, labels, lexicon)
    began = time.perf_counter()
    for art in tst:  # what pre-annotation adds per article: the contexts and both models
        add_context(art)
        [shipped.span_probability(d.prob, d.text, d.label, d.tokens, d.context) for _, _, d in art["predicted"]]
        [shipped.candidate_probability(d.prob, d.text, d.label, d.tokens, d.context) for d in art["candidates"]]
    calibration_seconds = time.perf_counter() - began
    words = sum(a["words"] for a in tst)
    cost["beam_plus_calibration_wps"] = words / (words / cost["beam_wps"] + calibration_seconds)
    print(f"seed {seed} cost: {json.dumps({k: round(v) for k, v in cost.items()})}", flush=True)
    for r in results:
        r["cost"] = cost
        r["fitted_on"] = shipped.fitted_on
        r["validation_articles"] = len(val)
    return results


def agreement_methods(key, what, seed, val, tst, feats, val_spans, y_spans, shipped, labels, lexicon) -> list[dict]:
    """The share of the committee (or dropout passes) predicting the span: alone, isotonic on
    it, and as one more feature of the shipped logistic (all fitted on the validation split)."""
    from sklearn.isotonic import IsotonicRegression

    from toolkit.nlp import calibration

    def agree(d, art) -> float:
        return share(art, key, *d.chars, d.label)

    results = [evaluate(f"{what} share", tst, lambda d, a, b, art: agree(d, art), agree, seed)]
    iso = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    iso.fit([agree(d, art) for d, _, _, art in val_spans], y_spans)
    iso_c = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1)
    val_cands = [(d, art) for art in val for d in art["candidates"]]
    iso_c.fit([agree(d, art) for d, art in val_cands], [d.right for d, _ in val_cands])
    results.append(
        evaluate(
            f"{what} share + isotonic",
            tst,
            lambda d, a, b, art: float(iso.predict([agree(d, art)])[0]),
            lambda d, art: float(iso_c.predict([agree(d, art)])[0]),
            seed,
        )
    )
    rows = [[*feats(d, a, b, art, False), agree(d, art)] for d, a, b, art in val_spans]
    fitted = calibration.fit_logistic(rows, y_spans)
    model = calibration.Calibrator(labels, lexicon, fitted, shipped.candidates, {})
    results.append(
        evaluate(
            f"logistic + {what} share",
            tst,
            lambda d, a, b, art: model._apply(fitted, [*feats(d, a, b, art, False), agree(d, art)]),
            lambda d, art: shipped.candidate_probability(d.prob, d.text, d.label, d.tokens, d.context),
            seed,
        )
    )
    return results


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", label="perfect")
    methods = list(dict.fromkeys(r["method"] for r in results))
    for method in methods:
        points = [p for r in results if r["method"] == method for p in r["curve"]]
        points.sort()
        mean_auroc = statistics.mean(r["auroc"] for r in results if r["method"] == method)
        mean_ece = statistics.mean(r["ece"] for r in results if r["method"] == method)
        ax.plot(
            [p[0] for p in points],
            [p[1] for p in points],
            marker="o",
            markersize=3,
            label=f"{method} (AUROC {mean_auroc:.2f}, ECE {mean_ece:.2f})",
        )
    ax.set_xlabel("span score (mean in bin; 15 equal-mass bins per seed)")
    ax.set_ylabel("share of spans kept exactly")
    ax.set_title("Span confidence after one round (gmb-ner, 120 corrected)")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--test", type=int, default=231)
    parser.add_argument("--corrected", type=int, default=120)
    parser.add_argument("--base", help="the config's model: sm, md (the en_core_web_md re-upload), a name or a folder")
    parser.add_argument("--committee", type=int, default=0, help="K models on bootstrap resamples (0: none)")
    parser.add_argument("--committee-seeds", help="the seeds that train a committee (default: every seed)")
    parser.add_argument("--dropout-passes", type=int, default=0, help="N greedy passes with dropout on (0: none)")
    parser.add_argument("--dropout-rate", default="0.1", help="the rate(s), comma-separated")
    parser.add_argument("--out", default=str(RESULTS / "confidence.json"))
    parser.add_argument("--dump", help="save each seed's decisions to DUMP-s<seed>.pkl (no model, no text of ours)")
    parser.add_argument("--from-dumps", help="re-run the methods on saved decisions DUMP-s<seed>.pkl, no training")
    args = parser.parse_args()
    if args.from_dumps:
        results = []
        for seed in [int(s) for s in args.seeds.split(",")]:
            with open(f"{args.from_dumps}-s{seed}.pkl", "rb") as handle:
                saved = pickle.load(handle)
            results += methods(seed, saved["val"], saved["tst"], saved["train_docs"], saved["base"], saved["cost"])
        finish(results, Path(args.out), args)
        return
    docs = read_corpus("gmb-ner")
    order = list(range(len(docs)))
    random.Random(0).shuffle(order)
    test = [docs[i] for i in order[: args.test]]
    pool = [docs[i] for i in order[args.test :]]
    work = Path(tempfile.mkdtemp(prefix="bench-confidence-"))
    results: list[dict] = []
    out = Path(args.out)
    try:
        for seed in [int(s) for s in args.seeds.split(",")]:
            results += one_seed(seed, args, docs, test, pool, work)
            finish(results, out, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish(results, out, args)


def finish(results: list[dict], out: Path, args) -> None:
    """Write the results so far (after every seed: a crash loses nothing) and the plot.

    The output path is recorded relative to the repository: the file names no machine's folders."""
    where = Path(args.out).resolve()
    shown = str(where.relative_to(ROOT)) if where.is_relative_to(ROOT) else where.name
    out.write_text(json.dumps({"args": {**vars(args), "out": shown}, "results": results}, indent=1) + "\n")
    plot(results, out.with_suffix(".png"))
    for method in dict.fromkeys(r["method"] for r in results):
        rows = [r for r in results if r["method"] == method]
        print(
            f"{method:28s} "
            + "  ".join(
                f"{key} {statistics.mean(r[key] for r in rows):+.3f}"
                for key in ("auroc", "ece", "share_ge_099", "rho_error_rate", "rho_length")
            )
        )


if __name__ == "__main__":
    main()
