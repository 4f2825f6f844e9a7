"""Active learning, simulated: held-out F1 against tokens annotated, for several stream orders.

The annotator is simulated by a corpus's human spans (``TOOLKIT_CORPUS``, default
``../shared/corpus``; ``gmb-ner`` mapped to PER/ORG/LOC/MISC exactly as
``bench_train.py`` does, whose corpus, export and scoring helpers this script uses).

Design (one run, every strategy and seed side by side):

- The corpus is shuffled with seed 0 (as in ``bench_train.py``): the first 100 articles
  are the held-out test set, the next 25 the fixed validation set of every training, the
  next ``--pool`` (500) the pool the stream serves from. The pool is kept small so that
  re-scoring it after every round stays cheap; test and validation are outside it.
- Token budgets: the token counts of about 25, 50, 100 and 200 pool articles (budget k =
  k x the pool's mean tokens per article; tokens are spaCy tokens without whitespace, as
  the task score counts them). Each round serves articles in the strategy's order until
  the budget is met (the article that crosses it is kept whole), so every strategy has
  annotated about the same number of tokens, not of articles.
- After each round a model is trained from the base model (``base=model``, no warm
  start) on everything annotated so far, through ``toolkit.train.training.train`` on a real
  export, with ``--epochs`` (5) and patience ``--patience`` (2), the training seed being
  the run's seed; it is scored on the test set by ``toolkit evaluate``'s code (micro F1,
  exact spans).
- Strategies: ``uncertainty``: ascending task score of the current model, computed as
  push sends it (``scored_doc_spans`` on the scored beam pipeline with the configured
  beam width; a near-duplicate copy scored 1.0, so it comes after its group's first
  article, as in the stream); the first round is served by the base model (the configured
  spacy.model, label-mapped), the later ones by the model of the round before, re-scoring what is
  left of the pool. ``uncertainty-per-token``: the same, by the former task score,
  ``1 / (1 + expected wrong decisions per 100 tokens)``. ``random``: the pool shuffled with
  the run's seed. ``longest``: most tokens first. By paragraph (the unit served is a paragraph:
  split on blank lines where an article has them, else ``PARAGRAPH_SENTENCES`` lines each, as
  gmb-ner's one-sentence-a-line pseudo-articles; only served paragraphs are training data, an
  export row each, the article's other paragraphs are not): ``uncertainty-paragraph`` (the task
  score per paragraph, as above), ``random-paragraph``, and ``uncertainty-paragraph-diverse``
  (skips, for the round, a paragraph whose MinHash similarity to one served in the same round is
  >= ``DIVERSITY``). The first round's scores are the base model's raw beam scores (it has no
  calibration); later rounds' are the trained model's, with its ``calibration.json`` applied
  by ``load_pipeline(scores=True)`` as push does.
- Printed and written (``--json``, rewritten after every round, so that a crash loses
  nothing; ``--resume`` skips the runs the file already holds): F1 per strategy, seed and
  budget, a plot (``--plot``, PNG), and the issue's two ratios from the mean over seeds:
  uncertainty minus random in F1 points at the last budget, and the share of random's
  final tokens uncertainty needs to reach random's final F1 (linear interpolation between
  budgets, the base model's F1 at 0 tokens as the first point).

    python benchmarks/bench_active.py [--strategies uncertainty,random,longest,uncertainty-per-token,...]
        [--seeds 0,1] [--budgets 25,50,100,200] [--pool 500] [--jobs 2] [--json F] [--plot F.png]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_train import VALIDATION, gold_rows, make_export, news_config, read_corpus, score  # noqa: E402

STRATEGIES = (
    "uncertainty",
    "random",
    "longest",
    "uncertainty-per-token",
    "uncertainty-paragraph",
    "random-paragraph",
    "uncertainty-paragraph-diverse",
)
# Scored by the model: re-scored after every round.
MODEL_ORDERED = {"uncertainty", "uncertainty-per-token", "uncertainty-paragraph", "uncertainty-paragraph-diverse"}
# The unit served is a paragraph, not an article.
PARAGRAPH = {"uncertainty-paragraph", "random-paragraph", "uncertainty-paragraph-diverse"}
# gmb-ner's pseudo-articles have no blank lines (one sentence a line): a paragraph is this many sentences.
PARAGRAPH_SENTENCES = 3
# Within a round, a candidate this similar (MinHash Jaccard, as push's near-duplicate check) to one
# already served in the round is skipped for that round.
DIVERSITY = 0.7
BLANK_LINE = re.compile(r"\n[ \t]*\n")


def paragraphs(docs: list[dict]) -> list[dict]:
    """Each article cut into paragraphs: on blank lines if it has any, else groups of
    ``PARAGRAPH_SENTENCES`` lines (sentences); the spans inside a paragraph, in its offsets."""
    units = []
    for doc in docs:
        text = doc["text"]
        if BLANK_LINE.search(text):
            found = re.finditer(r"\S(?:[^\n]|\n(?![ \t]*\n))*", text)
            bounds = [(m.start(), m.start() + len(m.group().rstrip())) for m in found]
        else:
            lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]+", text)]
            bounds = [
                (lines[i][0], lines[min(i + PARAGRAPH_SENTENCES, len(lines)) - 1][1])
                for i in range(0, len(lines), PARAGRAPH_SENTENCES)
            ]
        for k, (a, b) in enumerate(bounds):
            spans = [(s - a, e - a, label) for s, e, label in doc["spans"] if a <= s and e <= b]
            units.append({"id": f"{doc['id']}-p{k}", "article": doc["id"], "text": text[a:b], "spans": spans})
    return units


def signatures(texts: list[str]) -> list:
    """The toolkit's near-duplicate signatures (push's), one per text."""
    from toolkit.nlp.duplicates import shingles, signature

    return [signature(shingles(text) or {b""}) for text in texts]


def split_corpus(docs: list[dict], test: int, pool: int) -> tuple[list[dict], list[dict], list[dict]]:
    order = list(range(len(docs)))
    random.Random(0).shuffle(order)
    chosen = [docs[i] for i in order]
    return chosen[:test], chosen[test : test + VALIDATION], chosen[test + VALIDATION : test + VALIDATION + pool]


def pool_decisions(model_config, texts: list[str]) -> list[dict]:
    """Per text: tokens, the task score as preannotate computes it for push, and the former per-token score."""
    import toolkit.nlp.calibration as calibration
    import toolkit.nlp.scoring as scoring
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate.spans import count_words, scored_doc_spans

    # load_pipeline(scores=True) is what push uses: a model folder `toolkit train` wrote has its
    # calibration.json applied (the calibrated expected share of right decisions); a base model
    # has none, so its score is the raw beam's 1 / (1 + expected wrong decisions).
    pipeline = load_pipeline(model_config, scores=True)
    calibrated = calibration.for_config(model_config) is not None
    captured: list[tuple[list[float], list[float]]] = []
    originals = {module: module.task_score for module in (scoring, calibration)}

    def recorder(module):
        def recording(span_scores, rejected):
            # scored_doc_spans hands its decisions (calibrated when the model has a calibration)
            # to a task score: keep them too, so that the per-token score uses the very same ones.
            captured.append((list(span_scores), list(rejected)))
            return originals[module](span_scores, rejected)

        return recording

    for module in originals:
        module.task_score = recorder(module)
    results = []
    try:
        for doc in pipeline.nlp.pipe(texts, batch_size=model_config.spacy.batch_size):
            captured.clear()
            _, task, _ = scored_doc_spans(doc, model_config)
            tokens = count_words(doc)
            per_token = scoring.per_token_score(*captured[0], tokens)
            results.append({"tokens": tokens, "score": task, "per_token_score": per_token, "calibrated": calibrated})
    finally:
        for module, original in originals.items():
            module.task_score = original
    return results


def order_keys(strategy: str, decisions: list[dict], copies: list[bool]) -> list[float]:
    keys = [d["per_token_score"] if strategy == "uncertainty-per-token" else d["score"] for d in decisions]
    # As push does: a near-duplicate copy is sent with score 1.0, after every first article.
    return [1.0 if copy else key for key, copy in zip(keys, copies)]


def run_strategy(job: dict) -> list[dict]:
    """Every round of one strategy and seed; each round is also written to job['part']."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from toolkit.nlp.pipeline import load_tokenizer, with_model
    from toolkit.train import train

    strategy, seed = job["strategy"], job["seed"]
    config = news_config(max_epochs=job["epochs"], patience=job["patience"])
    docs = read_corpus(job["corpus"])
    test, validation, pool = split_corpus(docs, job["test"], job["pool"])
    if strategy in PARAGRAPH:
        # Only the served paragraphs are gold: an export row per annotated paragraph.
        pool = paragraphs(pool)
    tokens = job["tokens"]
    sketches = signatures([d["text"] for d in pool]) if strategy.endswith("-diverse") else None
    copies = job["copies"]
    tokenizer = load_tokenizer(config)
    rows = gold_rows(test)
    token_docs = [tokenizer.make_doc(row.text) for row in rows]
    work = Path(tempfile.mkdtemp(prefix=f"bench-active-{strategy}-{seed}-"))
    remaining = list(range(len(pool)))
    if strategy in ("random", "random-paragraph"):
        random.Random(seed).shuffle(remaining)
    elif strategy == "longest":
        remaining.sort(key=lambda i: (-tokens[i], i))
    keys = order_keys(strategy, job["base_decisions"], copies) if strategy in MODEL_ORDERED else None
    # Whether the scores the next round is served by went through a calibration (the base model's: no).
    calibrated = bool(job["base_decisions"] and job["base_decisions"][0]["calibrated"]) if keys is not None else None
    annotated: list[int] = []
    done = 0
    rounds: list[dict] = []
    model_dir: Path | None = None
    try:
        for number, (budget_articles, budget) in enumerate(zip(job["budgets"], job["budget_tokens"])):
            if keys is not None:
                remaining.sort(key=lambda i: (keys[i], i))
            served_scores = []
            served_calibrated = calibrated
            served_now: list[int] = []
            skipped: list[int] = []
            while done < budget and remaining:
                index = remaining.pop(0)
                if sketches is not None and any(sketches[index].jaccard(sketches[j]) >= DIVERSITY for j in served_now):
                    skipped.append(index)
                    continue
                served_now.append(index)
                annotated.append(index)
                done += tokens[index]
                if keys is not None:
                    served_scores.append(keys[index])
            # A skipped candidate stays in the pool for the next rounds.
            remaining = sorted(remaining + skipped, key=lambda i: (keys[i], i)) if skipped else remaining
            began = time.perf_counter()
            export = make_export(work / f"round{number}", [pool[i] for i in annotated], validation, config)
            out = work / f"round{number}" / "model"
            result = train(
                export, config=config, out=out, base="model", epochs=job["epochs"], seed=seed, warm_start=False
            )
            train_seconds = time.perf_counter() - began
            scored = score(str(out), config, rows, token_docs)
            rescore_seconds = 0.0
            if keys is not None and number + 1 < len(job["budgets"]) and remaining:
                began = time.perf_counter()
                decisions = pool_decisions(with_model(config, out), [pool[i]["text"] for i in remaining])
                fresh = order_keys(strategy, decisions, [copies[i] for i in remaining])
                keys = list(keys)
                for i, key in zip(remaining, fresh):
                    keys[i] = key
                rescore_seconds = time.perf_counter() - began
                calibrated = bool(decisions and decisions[0]["calibrated"])
            if model_dir is not None:
                shutil.rmtree(model_dir.parent, ignore_errors=True)
            model_dir = out
            best = result.best
            served = [tokens[i] for i in annotated]
            record = {
                "strategy": strategy,
                "seed": seed,
                "budget_articles": budget_articles,
                "budget_tokens": budget,
                "tokens": done,
                "articles": len({pool[i].get("article", pool[i]["id"]) for i in annotated}),
                "units": len(annotated),
                "skipped_as_similar": len(skipped),
                "median_article_tokens": statistics.median(served),
                "served_score_range": [min(served_scores), max(served_scores)] if served_scores else None,
                "served_by_calibrated_scores": served_calibrated,
                "f1": scored.exact.prf().f1,
                "edits": scored.edits_per_article()["edits"],
                "validation_f1": result.scores.get("f1"),
                "epochs": len(result.curve),
                "best_epoch": best.epoch + 1 if best else None,
                "train_seconds": train_seconds,
                "rescore_seconds": rescore_seconds,
            }
            rounds.append(record)
            Path(job["part"]).write_text(json.dumps(rounds, indent=1) + "\n")
            print(
                f"{strategy:17s} seed {seed} budget {budget_articles:3d} ({budget:,} tokens): "
                f"{len(annotated)} units, {record['articles']} articles, {done:,} tokens, F1 {record['f1']:.3f} "
                f"(best epoch {record['best_epoch']}/{record['epochs']}), "
                f"train {train_seconds:.0f} s, re-score {rescore_seconds:.0f} s",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return rounds


def mean_curve(runs: list[dict], strategy: str, budgets: list[int], base_f1: float) -> list[tuple[float, float]]:
    """(mean tokens, mean F1) over seeds at each budget, with the base model at 0 tokens first."""
    points = [(0.0, base_f1)]
    for budget in budgets:
        chosen = [r for r in runs if r["strategy"] == strategy and r["budget_articles"] == budget]
        if chosen:
            points.append((statistics.mean(r["tokens"] for r in chosen), statistics.mean(r["f1"] for r in chosen)))
    return points


def tokens_to_reach(points: list[tuple[float, float]], target: float) -> float | None:
    """The first token count at which the piecewise-linear curve reaches ``target`` (None: never)."""
    for (t0, f0), (t1, f1) in zip(points, points[1:]):
        if f1 >= target:
            if f0 >= target:
                return t0
            return t0 + (t1 - t0) * (target - f0) / (f1 - f0)
    return None


def seeds_at(runs: list[dict], strategy: str, budgets: list[int]) -> set[int]:
    """The seeds whose run of ``strategy`` reached every one of ``budgets``."""
    return {
        seed
        for seed in {r["seed"] for r in runs}
        if all(
            any(r["strategy"] == strategy and r["seed"] == seed and r["budget_articles"] == b for r in runs)
            for b in budgets
        )
    }


def ratios(runs: list[dict], budgets: list[int], base_f1: float, challenger: str = "uncertainty") -> dict | None:
    """The issue's two ratios at the largest budget both strategies reached with the same seeds (in full: the last)."""
    for count in range(len(budgets), 0, -1):
        reached = budgets[:count]
        seeds = seeds_at(runs, "random", reached) & seeds_at(runs, challenger, reached)
        if seeds:
            break
    else:
        return None
    last = reached[-1]
    runs = [r for r in runs if r["seed"] in seeds]
    random_curve = mean_curve(runs, "random", reached, base_f1)
    mine = mean_curve(runs, challenger, reached, base_f1)
    random_tokens, random_f1 = random_curve[-1]
    reach = tokens_to_reach(mine, random_f1)
    per_seed = {}
    for seed in sorted(seeds):
        a = [r for r in runs if r["strategy"] == challenger and r["seed"] == seed and r["budget_articles"] == last]
        b = [r for r in runs if r["strategy"] == "random" and r["seed"] == seed and r["budget_articles"] == last]
        per_seed[seed] = 100 * (a[0]["f1"] - b[0]["f1"])
    return {
        "strategy": challenger,
        "budget_articles": last,
        "seeds": sorted(seeds),
        "gain_points": 100 * (mine[-1][1] - random_f1),
        "gain_points_per_seed": per_seed,
        "random_final_f1": random_f1,
        "random_final_tokens": random_tokens,
        "tokens_to_reach": reach,
        "share_of_random_tokens": None if reach is None else reach / random_tokens,
    }


def complete(runs: list[dict], budgets: list[int]) -> list[dict]:
    """The runs (strategy, seed) that reached every budget: a cut-off run would bias the means."""
    rounds: dict[tuple[str, int], list[dict]] = {}
    for run in runs:
        rounds.setdefault((run["strategy"], run["seed"]), []).append(run)
    return [r for mine in rounds.values() if {x["budget_articles"] for x in mine} == set(budgets) for r in mine]


def merged(main: Path, others: list[Path], *, partial: bool = False) -> dict:
    """``main``'s figures with the complete runs of ``others`` (the same design, started beside it) added."""
    figures = json.loads(main.read_text())
    for other in others:
        extra = json.loads(other.read_text())
        same = ("corpus", "pool", "budget_tokens", "epochs", "patience", "base_f1")
        if any(extra[key] != figures[key] for key in same):
            sys.exit(f"{other}: not the same design as {main} ({', '.join(same)})")
        added = complete(extra["runs"], extra["budgets"])
        pairs = {(r["strategy"], r["seed"]) for r in added}
        figures["runs"] = [r for r in figures["runs"] if (r["strategy"], r["seed"]) not in pairs] + added
        figures.setdefault("merged_from", []).append({"file": other.name, "runs": sorted(map(list, pairs))})
    if not partial:
        figures["runs"] = complete(figures["runs"], figures["budgets"])
    return figures


def report(figures: dict) -> None:
    runs, budgets, base_f1 = figures["runs"], figures["budgets"], figures["base_f1"]
    strategies = [s for s in STRATEGIES if any(r["strategy"] == s for r in runs)]
    print(f"\nheld-out micro F1 (exact spans) against tokens annotated; base model alone {base_f1:.3f}")
    print("| budget (articles / tokens) | " + " | ".join(strategies) + " |")
    print("| ---: | " + " | ".join("---:" for _ in strategies) + " |")
    for budget, tokens in zip(budgets, figures["budget_tokens"]):
        cells = []
        for strategy in strategies:
            chosen = sorted(
                (r for r in runs if r["strategy"] == strategy and r["budget_articles"] == budget),
                key=lambda r: r["seed"],
            )
            if not chosen:
                cells.append("")
                continue
            f1s = ", ".join(f"{r['f1']:.3f}" for r in chosen)
            articles = "/".join(str(r["articles"]) for r in chosen)
            cells.append(f"{statistics.mean(r['f1'] for r in chosen):.3f} ({f1s}; {articles} art.)")
        print(f"| {budget} / {tokens:,} | " + " | ".join(cells) + " |")
    for challenger in [s for s in strategies if s != "random"]:
        # The ratios at every budget (with the seeds that reached it): the are at the last one.
        for count in range(len(budgets), 0, -1):
            result = ratios(runs, budgets[:count], base_f1, challenger)
            if result is None or result["budget_articles"] != budgets[count - 1]:
                continue
            figures.setdefault("ratios", {}).setdefault(challenger, []).append(result)
            share = result["share_of_random_tokens"]
            reach = "not reached up to there"
            if share is not None:
                reach = f"reached with {100 * share:.0f}% of random's tokens ({result['tokens_to_reach']:,.0f})"
            seeds = ", ".join(f"seed {s}: {g:+.1f}" for s, g in result["gain_points_per_seed"].items())
            print(
                f"{challenger} vs random at {result['budget_articles']} articles' tokens: "
                f"{result['gain_points']:+.1f} F1 points ({seeds}; target >= +1.5); random's F1 there "
                f"{result['random_final_f1']:.3f} ({result['random_final_tokens']:,.0f} tokens) {reach} "
                "(target <= 70%, linear interpolation between budgets, the base model at 0 tokens)"
            )


def plot(figures: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, budgets, base_f1 = figures["runs"], figures["budgets"], figures["base_f1"]
    figure, axes = plt.subplots(figsize=(6.4, 4.0), dpi=90)
    for strategy in STRATEGIES:
        points = mean_curve(runs, strategy, budgets, base_f1)
        if len(points) < 2:
            continue
        line = axes.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"{strategy} (mean)")[0]
        for r in runs:
            if r["strategy"] == strategy:
                axes.plot(r["tokens"], r["f1"], marker=".", linestyle="none", color=line.get_color(), alpha=0.5)
    axes.set_xlabel("tokens annotated")
    axes.set_ylabel("held-out micro F1 (exact spans)")
    seeds = sorted({r["seed"] for r in runs})
    axes.set_title(f"{figures['corpus']}: pool {figures['pool']}, seeds {', '.join(map(str, seeds))}", fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8, loc="lower right")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    figure.savefig(partial, format="png")
    partial.replace(path)
    plt.close(figure)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", default="gmb-ner")
    parser.add_argument("--strategies", default="uncertainty,random,longest,uncertainty-per-token")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--budgets", default="25,50,100,200", help="token budgets, in pool articles' mean tokens")
    parser.add_argument("--pool", type=int, default=500)
    parser.add_argument("--test", type=int, default=100, help="held-out articles")
    parser.add_argument("--epochs", type=int, default=5, help="train.max_epochs of every training")
    parser.add_argument("--patience", type=int, default=2)
    parser.add_argument("--jobs", type=int, default=2, help="runs (strategy, seed) trained at once")
    parser.add_argument("--json", type=Path, default=Path("bench-active.json"))
    parser.add_argument("--plot", type=Path, help="write the curves here (PNG)")
    parser.add_argument("--resume", action="store_true", help="keep the runs --json already holds in full")
    parser.add_argument("--report", action="store_true", help="only print and plot what --json holds")
    parser.add_argument(
        "--also", type=Path, action="append", default=[], help="with --report: complete runs of another file of the run"
    )
    parser.add_argument(
        "--partial",
        action="store_true",
        help="with --report: also the rounds of runs cut short (ratios at common budgets)",
    )
    args = parser.parse_args()
    if args.report:
        figures = merged(args.json, args.also, partial=args.partial)
        report(figures)
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
        if args.plot:
            plot(figures, args.plot)
        return
    strategies = [s for s in args.strategies.split(",") if s]
    unknown = sorted(set(strategies) - set(STRATEGIES))
    if unknown:
        sys.exit(f"--strategies: unknown {', '.join(unknown)} (known: {', '.join(STRATEGIES)})")
    seeds = [int(x) for x in args.seeds.split(",") if x]
    budgets = [int(x) for x in args.budgets.split(",") if x]
    load_before = os.getloadavg()
    print(f"load average before: {load_before}", flush=True)

    from toolkit.nlp.duplicates import near_duplicate_groups
    from toolkit.nlp.pipeline import load_tokenizer
    from toolkit.preannotate.spans import count_words

    config = news_config(max_epochs=args.epochs, patience=args.patience)
    docs = read_corpus(args.corpus)
    test, validation, pool = split_corpus(docs, args.test, args.pool)
    tokenizer = load_tokenizer(config)
    tokens = [count_words(tokenizer.make_doc(d["text"])) for d in pool]
    mean_tokens = statistics.mean(tokens)
    budget_tokens = [round(b * mean_tokens) for b in budgets]
    threshold = config.push.near_duplicates
    groups = near_duplicate_groups(((d["id"], d["text"]) for d in pool), threshold=threshold) if threshold else None
    copies = [bool(groups and groups.copy_of(d["id"])) for d in pool]
    print(
        f"{args.corpus}: test {len(test)}, validation {len(validation)}, pool {len(pool)} articles "
        f"({sum(tokens):,} tokens, mean {mean_tokens:.0f}); budgets {budget_tokens}; near-duplicates at "
        f"{threshold}: {groups.count if groups else 0} groups, {sum(copies)} copies",
        flush=True,
    )
    base = score("base", config, gold_rows(test), [tokenizer.make_doc(d["text"]) for d in test])
    base_f1 = base.exact.prf().f1
    began = time.perf_counter()
    base_decisions = pool_decisions(config, [d["text"] for d in pool])
    units = paragraphs(pool) if PARAGRAPH & set(strategies) else []
    unit_tokens = [count_words(tokenizer.make_doc(d["text"])) for d in units]
    unit_groups = near_duplicate_groups(((d["id"], d["text"]) for d in units), threshold=threshold) if units else None
    unit_copies = [bool(threshold and unit_groups and unit_groups.copy_of(d["id"])) for d in units]
    unit_decisions = (
        pool_decisions(config, [d["text"] for d in units]) if MODEL_ORDERED & PARAGRAPH & set(strategies) else []
    )
    if units:
        blank = sum(bool(BLANK_LINE.search(d["text"])) for d in pool)
        print(
            f"paragraphs: {len(units)} (on blank lines where an article has them: {blank} of {len(pool)}; "
            f"else {PARAGRAPH_SENTENCES} sentences each), mean "
            f"{statistics.mean(unit_tokens):.0f} tokens; near-duplicate copies {sum(unit_copies)}",
            flush=True,
        )
    print(f"base model alone: test F1 {base_f1:.3f}; pool scored in {time.perf_counter() - began:.0f} s", flush=True)
    from scipy.stats import spearmanr

    length_rho = {
        strategy: spearmanr(order_keys(strategy, base_decisions, [False] * len(pool)), tokens).statistic
        for strategy in sorted(MODEL_ORDERED - PARAGRAPH)
    }
    print(
        "Spearman rho of the base model's pool scores with length: "
        + ", ".join(f"{k} {v:+.3f}" for k, v in length_rho.items()),
        flush=True,
    )
    figures = {
        "corpus": args.corpus,
        "labels": ["PER", "ORG", "LOC", "MISC"],
        "test": len(test),
        "validation": len(validation),
        "pool": len(pool),
        "pool_tokens": sum(tokens),
        "mean_article_tokens": mean_tokens,
        "budgets": budgets,
        "budget_tokens": budget_tokens,
        "epochs": args.epochs,
        "patience": args.patience,
        "beam_width": config.spacy.beam_width,
        "near_duplicates": {"threshold": threshold, "groups": groups.count if groups else 0, "copies": sum(copies)},
        "paragraphs": {
            "count": len(units),
            "sentences": PARAGRAPH_SENTENCES,
            "mean_tokens": statistics.mean(unit_tokens) if units else None,
            "copies": sum(unit_copies),
            "diversity_threshold": DIVERSITY,
        },
        "base_f1": base_f1,
        "base_length_rho": length_rho,
        "load_average_before": load_before,
        "runs": [],
    }
    parts = args.json.with_name(args.json.name + ".parts")
    parts.mkdir(parents=True, exist_ok=True)
    kept: set[tuple[str, int]] = set()
    if args.resume and args.json.is_file():
        previous = json.loads(args.json.read_text())
        for strategy in strategies:
            for seed in seeds:
                mine = [r for r in previous["runs"] if r["strategy"] == strategy and r["seed"] == seed]
                if len(mine) == len(budgets):
                    figures["runs"] += mine
                    kept.add((strategy, seed))
    # Seed by seed, in the order given: a run cut short still has every strategy of its first seeds.
    jobs = [
        {
            "strategy": strategy,
            "seed": seed,
            "corpus": args.corpus,
            "test": args.test,
            "pool": args.pool,
            "epochs": args.epochs,
            "patience": args.patience,
            "budgets": budgets,
            "budget_tokens": budget_tokens,
            "tokens": unit_tokens if strategy in PARAGRAPH else tokens,
            "copies": unit_copies if strategy in PARAGRAPH else copies,
            "base_decisions": unit_decisions if strategy in PARAGRAPH else base_decisions,
            "part": str(parts / f"{strategy}-{seed}.json"),
        }
        for seed in seeds
        for strategy in strategies
        if (strategy, seed) not in kept
    ]

    def write() -> None:
        # Finished runs plus the rounds of the unfinished ones so far.
        partial = []
        for job in jobs:
            path = Path(job["part"])
            if path.is_file():
                partial += json.loads(path.read_text())
        current = {**figures, "runs": figures["runs"] + partial, "load_average_now": os.getloadavg()}
        temporary = args.json.with_name(f".{args.json.name}.partial")
        temporary.write_text(json.dumps(current, indent=1) + "\n")
        temporary.replace(args.json)

    for job in jobs:
        Path(job["part"]).unlink(missing_ok=True)
    with ProcessPoolExecutor(max_workers=args.jobs) as executor:
        pending = {executor.submit(run_strategy, job) for job in jobs}
        while pending:
            done, pending = wait(pending, timeout=60, return_when=FIRST_COMPLETED)
            for future in done:
                future.result()
            write()
    write()
    final = json.loads(args.json.read_text())
    final["load_average_after"] = os.getloadavg()
    report(final)
    args.json.write_text(json.dumps(final, indent=1) + "\n")
    if args.plot:
        plot(final, args.plot)
    print(f"load average after: {final['load_average_after']}")


if __name__ == "__main__":
    main()
