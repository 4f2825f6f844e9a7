"""The task score against article length, and near-duplicate groups in Reuters-21578.

1. Task score and length. A seeded sample of BBC News and of Reuters-21578 articles is
   run through the scored pipeline once; for each article three scores are computed from
   the same beam decisions: the first one (the least confident decision), the former one
   (expected wrong decisions per 100 tokens, mapped into [0, 1]) and the current one
   (expected wrong decisions in the article, mapped into [0, 1]). Printed: Spearman's rho
   of each with the article's length in tokens, side by side, and how long the articles
   are that each score would serve first.
2. Near-duplicates. Every non-empty Reuters-21578 body, normalised as preannotate reads
   it and with exact repeats kept once (as preannotate does), grouped by
   ``toolkit.nlp.duplicates`` at several thresholds: groups, copies, the largest group,
   the time taken.

The corpus is found at ``$TOOLKIT_CORPUS`` (default ``../shared/corpus`` next to the
repository). Run under ``flock`` on a quiet machine:

    python benchmarks/bench_uncertainty.py --articles 300
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"
# Every article's beam decisions (tokens, span probabilities, left-out candidates' probabilities).
DECISIONS: list[tuple[int, list[float], list[float]]] = []


def corpus() -> Path:
    folder = Path(os.environ.get("TOOLKIT_CORPUS", DEFAULT_CORPUS))
    if not folder.is_dir():
        sys.exit(f"corpus not found at {folder}; set TOOLKIT_CORPUS to the folder holding bbc-news/ and reuters-21578/")
    return folder


def bbc_texts() -> list[str]:
    from toolkit.preannotate.readers import normalise_text

    texts = []
    for path in sorted((corpus() / "bbc-news").glob("*/*.txt")):
        # Line 1 is the headline, then a blank line, then the body.
        body = path.read_text(encoding="utf-8", errors="replace").split("\n", 2)[-1]
        texts.append(normalise_text(body).strip())
    return [text for text in texts if text]


def reuters_texts() -> list[str]:
    from toolkit.preannotate.readers import normalise_text

    texts = []
    for path in sorted((corpus() / "reuters-21578").glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            body = normalise_text(record.get("body") or "").strip()
            if body:
                texts.append(body)
    return texts


# The scores compared, each computed from the same beam decisions of an article: the
# first task score, the former one, and the current one (what push sends).
SCORES = {
    "least confident (first)": lambda scoring, spans, rejected, tokens: scoring.least_confident(spans, rejected),
    "per 100 tokens (former)": lambda scoring, spans, rejected, tokens: scoring.per_token_score(
        spans, rejected, tokens
    ),
    "per article (current)": lambda scoring, spans, rejected, tokens: scoring.task_score(spans, rejected),
}


def score_all(texts: list[str], config) -> list[tuple[int, dict[str, float]]]:
    """(tokens, {score name: score}) per text, from one beam run."""
    import toolkit.nlp.scoring as scoring
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate.spans import count_words, scored_doc_spans

    pipeline = load_pipeline(config, scores=True)
    seen: list[tuple[list[float], list[float]]] = []
    current = scoring.task_score

    def recording(span_scores, rejected):
        # Every score from the decisions scored_doc_spans hands to the task score.
        seen.append((list(span_scores), list(rejected)))
        return current(span_scores, rejected)

    scoring.task_score = recording
    rows = []
    try:
        for doc in pipeline.nlp.pipe(texts, batch_size=32):
            seen.clear()
            scored_doc_spans(doc, config)
            spans, rejected = seen[0]
            tokens = count_words(doc)
            DECISIONS.append((tokens, spans, rejected))
            rows.append((tokens, {name: f(scoring, spans, rejected, tokens) for name, f in SCORES.items()}))
    finally:
        scoring.task_score = current
    return rows


def length_correlation(name: str, texts: list[str], config) -> dict:
    from scipy.stats import spearmanr

    started = time.perf_counter()
    rows = score_all(texts, config)
    tokens = [row[0] for row in rows]
    first = max(1, len(rows) // 10)

    def served_first(scores: list[float]) -> float:
        # Median length of the tenth of the articles a score ascending would serve first.
        order = sorted(range(len(rows)), key=lambda i: (scores[i], i))[:first]
        return statistics.median(tokens[i] for i in order)

    result = {"corpus": name, "articles": len(rows), "tokens_median": statistics.median(tokens), "scores": {}}
    for score_name in SCORES:
        scores = [row[1][score_name] for row in rows]
        result["scores"][score_name] = {
            "rho_length": spearmanr(scores, tokens).statistic,
            "range": (min(scores), max(scores)),
            "first_tenth_tokens": served_first(scores),
        }
    result["seconds"] = time.perf_counter() - started
    print(f"{name}: {len(rows)} articles, median {result['tokens_median']:.0f} tokens ({result['seconds']:.0f} s)")
    for score_name, figures in result["scores"].items():
        print(
            f"  {score_name:24s} Spearman rho with length {figures['rho_length']:+.3f}; range {figures['range']}; "
            f"median length of the first tenth served {figures['first_tenth_tokens']:.0f} tokens"
        )
    return result


def duplicate_groups(texts: list[str], thresholds: list[float]) -> list[dict]:
    from toolkit.nlp.duplicates import near_duplicate_groups

    unique = list(dict.fromkeys(texts))
    print(f"reuters-21578: {len(texts):,} non-empty bodies, {len(texts) - len(unique):,} exact repeats (kept once)")
    results = []
    for threshold in thresholds:
        started = time.perf_counter()
        groups = near_duplicate_groups(((str(i), text) for i, text in enumerate(unique)), threshold=threshold)
        seconds = time.perf_counter() - started
        sizes: dict[str, int] = {}
        for group in groups.group_of.values():
            sizes[group] = sizes.get(group, 0) + 1
        largest = max(sizes.values(), default=0)
        results.append(
            {"threshold": threshold, "groups": groups.count, "copies": groups.copies, "largest": largest, "s": seconds}
        )
        print(
            f"  threshold {threshold}: {groups.count:,} groups holding {groups.copies:,} copies "
            f"(largest group {largest}), {seconds:.1f} s"
        )
        if largest:
            # What the largest group holds, to see whether it is one story or a template.
            big = max(sizes, key=sizes.get)
            members = [int(i) for i, group in groups.group_of.items() if group == big][:3]
            for index in members:
                print(f"      {unique[index][:100]!r}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300, help="articles per corpus for the length correlation")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--skip-scores", action="store_true", help="only the near-duplicate groups")
    parser.add_argument("--skip-duplicates", action="store_true", help="only the task scores")
    parser.add_argument("--dump", help="write every article's beam decisions to this JSON file")
    args = parser.parse_args()
    from toolkit.config import load_config

    config = load_config(ROOT / "configs" / "news-ner.yaml")
    reuters = reuters_texts()
    if not args.skip_scores:
        rng = random.Random(args.seed)
        bbc = bbc_texts()
        length_correlation("bbc-news", rng.sample(bbc, min(args.articles, len(bbc))), config)
        unique = list(dict.fromkeys(reuters))
        length_correlation("reuters-21578", rng.sample(unique, min(args.articles, len(unique))), config)
    if args.dump:
        Path(args.dump).write_text(json.dumps(DECISIONS))
    if not args.skip_duplicates:
        duplicate_groups(reuters, [0.9, 0.8, 0.7, 0.6])


if __name__ == "__main__":
    main()
