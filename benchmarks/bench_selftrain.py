"""Self-training on the articles nobody annotated yet (issue 16): does it lift the 200-article model?

A teacher is trained on N human-annotated articles (gmb-ner, the 4-label scheme and the
split of ``bench_train.py``: the same 100 held-out test articles, the same 25 validation
articles, the first N of the same shuffled pool). It labels the next S pool articles
(silver: the model's spans, no human). A student is then trained from the same start as
the teacher on the N gold articles plus the S silver ones, with the same settings, and
both are scored on the held-out articles with ``toolkit evaluate``'s code. The teacher's
figure is the plain fine-tune's: the question is whether the silver articles add to it.

    python benchmarks/bench_selftrain.py [--gold 200] [--silver 400] [--seeds 0] [--results FILE]

Training is deterministic per seed, so the F1 figures do not depend on the load; the
seconds do.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_train import LABELS, VALIDATION, gold_rows, make_export, news_config, read_corpus, score  # noqa: E402


def silver(model_dir: Path, docs: list[dict]) -> list[dict]:
    """The docs with the model's spans in place of the human ones."""
    import spacy

    nlp = spacy.load(model_dir)
    labelled = []
    for doc, predicted in zip(docs, nlp.pipe(d["text"] for d in docs), strict=True):
        spans = [(e.start_char, e.end_char, e.label_) for e in predicted.ents if e.label_ in LABELS]
        labelled.append({"id": f"silver-{doc['id']}", "text": doc["text"], "spans": spans})
    return labelled


def main() -> None:
    from toolkit.nlp.pipeline import load_tokenizer
    from toolkit.train import train

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gold", type=int, default=200)
    parser.add_argument("--silver", type=int, default=400)
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--epochs", type=int, default=25)
    parser.add_argument("--test", type=int, default=100)
    parser.add_argument("--results", type=Path, help="append one JSON line per seed here")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}", flush=True)
    docs = read_corpus("gmb-ner")
    config = news_config(max_epochs=args.epochs)
    order = list(range(len(docs)))
    random.Random(0).shuffle(order)
    test = [docs[i] for i in order[: args.test]]
    validation = [docs[i] for i in order[args.test : args.test + VALIDATION]]
    pool = [docs[i] for i in order[args.test + VALIDATION :]]
    gold, unlabelled = pool[: args.gold], pool[args.gold : args.gold + args.silver]
    tokenizer = load_tokenizer(config)
    rows = gold_rows(test)
    token_docs = [tokenizer.make_doc(row.text) for row in rows]
    with tempfile.TemporaryDirectory(prefix="bench-selftrain-") as tmp:
        work = Path(tmp)
        gold_export = make_export(work / "gold", gold, validation, config)
        for seed in (int(s) for s in args.seeds.split(",")):
            began = time.perf_counter()
            teacher = train(gold_export, config=config, out=work / f"teacher-{seed}", base="model", seed=seed)
            teacher_s = time.perf_counter() - began
            teacher_score = score(str(work / f"teacher-{seed}"), config, rows, token_docs)
            print(f"seed {seed}: teacher ({args.gold} gold) test F1 {teacher_score.exact.prf().f1:.3f}", flush=True)
            silver_docs = silver(work / f"teacher-{seed}", unlabelled)
            student_export = make_export(work / f"student-{seed}", gold + silver_docs, validation, config)
            began = time.perf_counter()
            student = train(student_export, config=config, out=work / f"student-{seed}-model", base="model", seed=seed)
            student_s = time.perf_counter() - began
            student_score = score(str(work / f"student-{seed}-model"), config, rows, token_docs)
            run = {
                "gold": args.gold,
                "silver": args.silver,
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
                f"seed {seed}: student ({args.gold} gold + {args.silver} silver) test F1 {run['student_f1']:.3f} "
                f"against the teacher's {run['teacher_f1']:.3f}; edits/article {run['student_edits']:.1f} "
                f"against {run['teacher_edits']:.1f}",
                flush=True,
            )
            if args.results:
                with args.results.open("a", encoding="utf-8") as handle:
                    handle.write(json.dumps(run) + "\n")
            for name in (f"teacher-{seed}", f"student-{seed}-model"):
                shutil.rmtree(work / name, ignore_errors=True)


if __name__ == "__main__":
    main()
