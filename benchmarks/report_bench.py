"""How long `toolkit report` takes on a pull of real news articles, against tokenizing them once.

The articles come from the BBC News corpus (``TOOLKIT_CORPUS``, default ``../shared/corpus``),
pre-annotated with the configured model. Human annotations are simulated from the
predictions with a fixed seed: spans kept, relabelled, shortened, deleted and added, and a
second annotator on a share of the tasks. Prints the report time, the time to tokenize
every text once (the floor of any token-level measure) and their ratio.

    .venv/bin/python benchmarks/report_bench.py [ARTICLES]
"""

from __future__ import annotations

import os
import random
import sys
import time
from pathlib import Path

from toolkit.config import load_config
from toolkit.nlp.pipeline import load_pipeline
from toolkit.records import AnnotatedArticle, Span
from toolkit.report import build_report

ROOT = Path(__file__).resolve().parents[1]


def corpus_texts(limit: int) -> list[str]:
    folder = Path(os.environ.get("TOOLKIT_CORPUS", ROOT.parent / "shared" / "corpus")) / "bbc-news"
    if not folder.is_dir():
        sys.exit(f"no corpus at {folder}: set TOOLKIT_CORPUS")
    texts = []
    for path in sorted(folder.rglob("*.txt"))[:limit]:
        texts.append(path.read_text(encoding="utf-8", errors="replace").strip())
    return texts


def simulate(spans: list[Span], labels: list[str], text: str, rng: random.Random) -> list[Span]:
    human = []
    for span in spans:
        roll = rng.random()
        if roll < 0.08:
            continue  # deleted
        if roll < 0.13:
            span = Span(
                start=span.start, end=span.end, label=rng.choice([other for other in labels if other != span.label])
            )
        elif roll < 0.18 and " " in text[span.start : span.end]:
            span = Span(start=span.start, end=span.start + text[span.start : span.end].index(" "), label=span.label)
        human.append(span)
    return human


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    config = load_config(ROOT / "configs" / "news-ner.yaml")
    pipeline = load_pipeline(config)
    texts = corpus_texts(count)
    from toolkit.preannotate.spans import scored_doc_spans

    rng = random.Random(7)
    articles = []
    for number, doc in enumerate(pipeline.nlp.pipe(texts, batch_size=64)):
        predicted, _score, _counts = scored_doc_spans(doc, config)
        annotators = ["annotator-1", "annotator-2"] if rng.random() < 0.3 else [f"annotator-{rng.randint(1, 5)}"]
        annotations = [
            {
                "id": number * 10 + i,
                "annotator": name,
                "spans": [s.model_dump() for s in simulate(predicted, config.labels, doc.text, rng)],
                "lead_time": rng.uniform(5, 120),
            }
            for i, name in enumerate(annotators)
        ]
        articles.append(
            AnnotatedArticle.model_validate(
                {
                    "id": str(number),
                    "text": doc.text,
                    "task_id": number,
                    "spans": annotations[-1]["spans"],
                    "chosen": [annotations[-1]["id"]],
                    "annotations": annotations,
                    "predictions": [
                        {"model_version": pipeline.model.model_version, "spans": [s.model_dump() for s in predicted]}
                    ],
                }
            )
        )
    tokenizer = pipeline.nlp.tokenizer
    # Both measured after the pre-annotation warmed the tokenizer's cache, the report first.
    start = time.perf_counter()
    report = build_report(articles, config=config, make_doc=tokenizer, tokenizer="bench")
    elapsed = time.perf_counter() - start
    start = time.perf_counter()
    tokens = sum(len(tokenizer(text)) for text in texts)
    tokenize = time.perf_counter() - start
    print(f"{len(articles)} articles, {tokens:,} tokens, {report.agreement.tasks} tasks with two annotators")
    print(f"tokenize once: {tokenize:.2f} s; report: {elapsed:.2f} s; ratio report/tokenize: {elapsed / tokenize:.1f}x")
    print(f"edits: {report.model.edits}")
    print(
        f"overall exact F1 {report.model.exact_span[-1].f1:.3f}, "
        f"agreement alpha {report.agreement.per_label[-1].krippendorff_alpha:.3f}"
    )


if __name__ == "__main__":
    main()
