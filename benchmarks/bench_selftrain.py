"""Self-training on the articles nobody annotated yet (issues 16, 28): does it lift the 200-article model?

A teacher is trained on N human-annotated articles (gmb-ner, the 4-label scheme and the
split of ``bench_train.py``: the same 100 held-out test articles, the same 25 validation
articles, the first N of the same shuffled pool, the same ``train.*`` settings as its
learning-curve runs: at most 30 epochs, patience 3). It labels the next S pool articles
(silver: the model's spans, no human) with the shipped scoring: the teacher is loaded
through ``toolkit.nlp.pipeline.load_pipeline(scores=True)``, so the beam's span scores go
through the calibration ``toolkit train`` fitted on the validation split, and each silver
article gets the task score pre-annotation gives it (the expected share of its entities
that are right). A student is then trained from the same start as the teacher, with the
same settings, on the N gold articles plus the silver ones ``--keep`` keeps:

- ``all``: every silver article (the unfiltered variant);
- ``top-half``: the half with the highest task scores;
- ``val``: those at or above a threshold chosen on the VALIDATION articles alone: the
  lowest task score at which the teacher's validation articles above it are, on average,
  as right as its validation F1 plus ``--margin`` (never the test articles).

Both models are scored on the held-out articles with ``toolkit evaluate``'s code; each
line of ``--results`` also says how right the kept and the dropped silver were against the
pool's human spans (only measured, never used to choose). A rerun with the same
``--results`` skips the (seed, keep) pairs already there.

    python benchmarks/bench_selftrain.py [--base md] [--gold 200] [--silver 400] [--seeds 0] \
        [--keep top-half,all] [--results FILE]

Training is deterministic per seed, so the F1 figures do not depend on the load; the
seconds do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_train import (  # noqa: E402
    VALIDATION,
    gold_rows,
    make_export,
    model_path,
    news_config,
    read_corpus,
    score,
    with_model,
)

KEEPS = ("all", "top-half", "val")


def silver(model_dir: Path, docs: list[dict], config) -> tuple[list[dict], str | None]:
    """The docs with the model's spans in place of the human ones, each with its task score
    (as pre-annotation scores it: beam + the model's calibration); and the calibration's id."""
    from toolkit.nlp.calibration import calibration_id
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.nlp.pipeline import with_model as model_config_of
    from toolkit.preannotate.spans import scored_doc_spans

    model_config = model_config_of(config, str(model_dir))
    pipeline = load_pipeline(model_config, scores=True)
    labelled = []
    texts = (d["text"] for d in docs)
    for doc, parsed in zip(docs, pipeline.nlp.pipe(texts, batch_size=config.spacy.batch_size), strict=True):
        spans, task, _ = scored_doc_spans(parsed, model_config, doc["text"])
        labelled.append(
            {
                "id": f"silver-{doc['id']}",
                "text": doc["text"],
                "spans": [(s.start, s.end, s.label) for s in spans],
                "gold": doc["spans"],
                "score": task,
            }
        )
    return labelled, calibration_id(model_config)


def prf(docs: list[dict]) -> dict:
    """Micro precision, recall, F1 of the docs' spans against their human ``gold`` spans (exact)."""
    tp = sum(len(set(d["spans"]) & {tuple(s) for s in d["gold"]}) for d in docs)
    predicted, gold = sum(len(d["spans"]) for d in docs), sum(len(d["gold"]) for d in docs)
    p, r = tp / predicted if predicted else 0.0, tp / gold if gold else 0.0
    return {"articles": len(docs), "precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def article_f1(doc: dict) -> float:
    return prf([doc])["f1"] if doc["spans"] or doc["gold"] else 1.0


def validation_threshold(scored: list[dict], target: float) -> float:
    """The lowest task score at which the articles scoring at least that are, on average, as right as ``target``."""
    ranked = sorted(scored, key=lambda d: d["score"], reverse=True)
    threshold = ranked[0]["score"]
    for k in range(1, len(ranked) + 1):
        if statistics.mean(article_f1(d) for d in ranked[:k]) >= target:
            threshold = ranked[k - 1]["score"]
    return threshold


def kept(silver_docs: list[dict], keep: str, threshold: float | None) -> list[dict]:
    if keep == "all":
        return silver_docs
    if keep == "top-half":
        return sorted(silver_docs, key=lambda d: d["score"], reverse=True)[: len(silver_docs) // 2]
    return [d for d in silver_docs if d["score"] >= threshold]


def done_runs(path: Path | None) -> set[tuple]:
    if not path or not path.is_file():
        return set()
    runs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {(r["seed"], r.get("keep", "all"), r["gold"], r["silver"], r.get("base")) for r in runs}


def main() -> None:
    from toolkit.nlp.pipeline import load_tokenizer
    from toolkit.train import train

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", help="the config's model: sm, md, a package name or a folder (as bench_train's)")
    parser.add_argument("--gold", type=int, default=200)
    parser.add_argument("--silver", type=int, default=400, help="pool articles the teacher labels")
    parser.add_argument("--keep", default="top-half,all", help=f"students, comma-separated: {', '.join(KEEPS)}")
    parser.add_argument("--keep-seeds", default="", help="KEEP:SEEDS;... a keep's own seeds (e.g. all:0)")
    parser.add_argument("--margin", type=float, default=0.0, help="with --keep val: over the validation F1")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--patience", type=int, default=3)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--results", type=Path, help="append one JSON line per student here")
    args = parser.parse_args()
    keeps = [k for k in args.keep.split(",") if k]
    if unknown := set(keeps) - set(KEEPS):
        sys.exit(f"--keep: {', '.join(sorted(unknown))} unknown (one of {', '.join(KEEPS)})")
    keep_seeds = {k: {int(s) for s in v.split(",")} for k, v in (p.split(":") for p in args.keep_seeds.split(";") if p)}
    print(f"load average before: {os.getloadavg()}", flush=True)
    docs = read_corpus("gmb-ner")
    config = with_model(news_config(max_epochs=args.epochs, patience=args.patience), model_path(args.base))
    order = list(range(len(docs)))
    random.Random(0).shuffle(order)
    test = [docs[i] for i in order[: args.test]]
    validation = [docs[i] for i in order[args.test : args.test + VALIDATION]]
    pool = [docs[i] for i in order[args.test + VALIDATION :]]
    gold, unlabelled = pool[: args.gold], pool[args.gold : args.gold + args.silver]
    tokenizer = load_tokenizer(config)
    rows = gold_rows(test)
    token_docs = [tokenizer.make_doc(row.text) for row in rows]
    done = done_runs(args.results)
    with tempfile.TemporaryDirectory(prefix="bench-selftrain-") as tmp:
        work = Path(tmp)
        gold_export = make_export(work / "gold", gold, validation, config)
        for seed in (int(s) for s in args.seeds.split(",")):
            todo = [
                k
                for k in keeps
                if seed in keep_seeds.get(k, {seed}) and (seed, k, args.gold, args.silver, args.base) not in done
            ]
            if not todo:
                print(f"seed {seed}: in {args.results}, skipped", flush=True)
                continue
            began = time.perf_counter()
            teacher_dir = work / f"teacher-{seed}"
            teacher = train(gold_export, config=config, out=teacher_dir, base="model", seed=seed)
            teacher_s = time.perf_counter() - began
            teacher_score = score(str(teacher_dir), config, rows, token_docs)
            print(f"seed {seed}: teacher ({args.gold} gold) test F1 {teacher_score.exact.prf().f1:.3f}", flush=True)
            silver_docs, calibration = silver(teacher_dir, unlabelled, config)
            threshold = None
            if "val" in todo:
                scored_validation, _ = silver(teacher_dir, validation, config)
                threshold = validation_threshold(scored_validation, (teacher.scores.get("f1") or 0) + args.margin)
            for keep in todo:
                chosen = kept(silver_docs, keep, threshold)
                ids = {d["id"] for d in chosen}
                dropped = [d for d in silver_docs if d["id"] not in ids]
                student_export = make_export(work / f"student-{seed}-{keep}", gold + chosen, validation, config)
                began = time.perf_counter()
                student_dir = work / f"student-{seed}-{keep}-model"
                student = train(student_export, config=config, out=student_dir, base="model", seed=seed)
                student_s = time.perf_counter() - began
                student_score = score(str(student_dir), config, rows, token_docs)
                run = {
                    "base": args.base,
                    "gold": args.gold,
                    "silver": args.silver,
                    "keep": keep,
                    "kept": len(chosen),
                    "threshold": threshold if keep == "val" else None,
                    "calibration_id": calibration,
                    "kept_silver_vs_human": prf(chosen),
                    "dropped_silver_vs_human": prf(dropped),
                    "kept_mean_score": statistics.mean(d["score"] for d in chosen) if chosen else None,
                    "seed": seed,
                    "teacher_f1": teacher_score.exact.prf().f1,
                    "student_f1": student_score.exact.prf().f1,
                    "teacher_validation_f1": teacher.scores.get("f1"),
                    "student_validation_f1": student.scores.get("f1"),
                    "teacher_epochs": teacher.epochs_run,
                    "student_epochs": student.epochs_run,
                    "teacher_edits": teacher_score.edits_per_article()["edits"],
                    "student_edits": student_score.edits_per_article()["edits"],
                    "seconds": [teacher_s, student_s],
                    "load_average": os.getloadavg(),
                }
                print(
                    f"seed {seed}: student ({args.gold} gold + {len(chosen)} silver, {keep}) test F1 "
                    f"{run['student_f1']:.3f} against the teacher's {run['teacher_f1']:.3f}; kept silver F1 "
                    f"{run['kept_silver_vs_human']['f1']:.3f}, dropped {run['dropped_silver_vs_human']['f1']:.3f}; "
                    f"edits/article {run['student_edits']:.1f} against {run['teacher_edits']:.1f}",
                    flush=True,
                )
                if args.results:
                    with args.results.open("a", encoding="utf-8") as handle:
                        handle.write(json.dumps(run) + "\n")
                shutil.rmtree(student_dir, ignore_errors=True)
            shutil.rmtree(teacher_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
