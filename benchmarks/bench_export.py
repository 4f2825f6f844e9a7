"""Export memory and throughput, and Label Studio SDK's own CoNLL-2003 converter on the same input.

In one run:

- peak RSS of a whole ``toolkit export`` (dataset, parquet, DocBin, CoNLL, card) over
  100,000 synthetic annotated articles against 10,000 (target: <= 1.5x), each size in its
  own child process so the peaks are not mixed;
- throughput of that export from the pulled file (target: >= 2,000 articles/s);
- the time of ``label_studio_sdk.converter.Converter.convert_to_conll2003`` on the same
  articles as a Label Studio JSON export (what a user without the toolkit would run).

    python benchmarks/bench_export.py [--small 10000] [--large 100000] [--ls-articles 10000]

Articles are generated (seeded), not read from a corpus: about 90 words of news-like
text with 3-6 entities each, on token boundaries, with a prediction to compare against.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "news-ner.yaml"

WORDS = [
    "the",
    "government",
    "said",
    "on",
    "monday",
    "that",
    "talks",
    "with",
    "officials",
    "would",
    "continue",
    "after",
    "a",
    "week",
    "of",
    "protests",
    "over",
    "prices",
    "and",
    "wages",
    "while",
    "markets",
    "rose",
    "in",
    "early",
    "trading",
    "and",
    "analysts",
    "expected",
    "more",
    "cuts",
    "to",
    "interest",
    "rates",
    "later",
    "this",
    "year",
    "according",
    "to",
    "a",
    "statement",
    "released",
    "by",
    "the",
    "ministry",
]
ENTITIES = {
    "PERSON": ["Angela Merkel", "John Smith", "Maria Garcia", "Li Wei", "Ahmed Hassan"],
    "ORG": ["the Red Cross", "Reuters", "General Motors", "the World Bank", "Siemens"],
    "GPE": ["Paris", "New York", "Brazil", "Bratislava", "Japan"],
    "LOC": ["the Danube", "the Alps", "the Pacific"],
    "NORP": ["French", "Brazilian", "Japanese"],
    "EVENT": ["the Olympics", "World War II"],
}


def synthetic_article(index: int, rng: random.Random) -> dict:
    parts: list[str] = []
    spans: list[dict] = []
    length = -1  # length of " ".join(parts): the next part starts at length + 1
    for sentence in range(rng.randint(3, 5)):
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 24))]
        position = rng.randrange(len(words))
        for i, word in enumerate(words):
            if i == position or (i == 0 and sentence % 2):
                label = rng.choice(list(ENTITIES))
                word = rng.choice(ENTITIES[label])
                spans.append({"start": length + 1, "end": length + 1 + len(word), "label": label, "text": word})
            if i == len(words) - 1:
                word += "."
            parts.append(word)
            length += 1 + len(word)
    text = " ".join(parts)
    predicted = [s for s in spans if rng.random() < 0.8]
    annotation = {
        "id": index,
        "annotator": f"annotator-{index % 3}",
        "spans": spans,
        "model_version": "en_core_web_sm-3.8.0",
    }
    return {
        "id": f"synthetic-{index:07d}",
        "text": text,
        "title": f"Article {index}",
        "date": "2026-01-01",
        "task_id": index + 1,
        "spans": spans,
        "chosen": [index],
        "annotations": [annotation],
        "predictions": [{"model_version": "en_core_web_sm-3.8.0", "spans": predicted}],
    }


def write_articles(path: Path, count: int) -> None:
    rng = random.Random(6)
    with path.open("w", encoding="utf-8") as handle:
        for index in range(count):
            handle.write(json.dumps(synthetic_article(index, rng)) + "\n")


def label_studio_export(annotated: Path, target: Path) -> None:
    """The same articles as Label Studio's JSON export (the input of its converter)."""
    from toolkit.labelstudio.labeling import FROM_NAME, TO_NAME

    with annotated.open(encoding="utf-8") as source, target.open("w", encoding="utf-8") as out:
        out.write("[")
        for number, line in enumerate(source):
            record = json.loads(line)
            result = [
                {
                    "id": f"r{i}",
                    "from_name": FROM_NAME,
                    "to_name": TO_NAME,
                    "type": "labels",
                    "value": {"start": s["start"], "end": s["end"], "text": s["text"], "labels": [s["label"]]},
                }
                for i, s in enumerate(record["spans"])
            ]
            task = {
                "id": record["task_id"],
                "data": {"text": record["text"], "title": record["title"], "date": record["date"]},
                "annotations": [{"id": record["task_id"], "completed_by": 1, "result": result, "was_cancelled": False}],
            }
            out.write(("," if number else "") + json.dumps(task))
        out.write("]")


def child(annotated: Path, out: Path, *, with_report: bool = True) -> None:
    """One export in this process; prints seconds and peak RSS as JSON."""
    from toolkit.compose import ReportAttachment
    from toolkit.config import load_config
    from toolkit.dataset import export
    from toolkit.nlp.pipeline import load_pipeline

    config = load_config(CONFIG)
    pipeline = load_pipeline(config)
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started, cpu_started = time.perf_counter(), time.process_time()
    result = export(
        annotated,
        config=config,
        out=out,
        make_doc=pipeline.nlp.make_doc,
        model={"name": pipeline.model.name, "version": pipeline.model.version},
        attachment=ReportAttachment(annotated, config=config, make_doc=pipeline.nlp.make_doc) if with_report else None,
    )
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "rows": result.stats.articles,
                "seconds": seconds,
                "cpu": cpu,
                "peak_kib": peak,
                "baseline_kib": baseline,
                "lost": len(result.stats.lost),
                "spans": result.stats.spans,
            }
        )
    )


def run_child(annotated: Path, out: Path, *, with_report: bool = True) -> dict:
    command = [sys.executable, __file__, "--child", str(annotated), str(out)] + ([] if with_report else ["--no-report"])
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"export child failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def label_studio_conll(ls_json: Path, out: Path) -> float:
    from label_studio_sdk.converter import Converter

    from toolkit.config import load_config
    from toolkit.labelstudio.labeling import labeling_config

    converter = Converter(config=labeling_config(load_config(CONFIG)), project_dir=None, download_resources=False)
    started, cpu_started = time.perf_counter(), time.process_time()
    converter.convert_to_conll2003(str(ls_json), str(out), is_dir=False)
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--ls-articles", type=int, default=10_000, help="articles for the Label Studio converter run")
    parser.add_argument(
        "--no-report",
        action="store_true",
        help="export without the annotation report (report.html and the card's report section)",
    )
    parser.add_argument("--child", nargs=2, type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child, with_report=not args.no_report)
        return
    print(f"export {'without' if args.no_report else 'with'} the annotation report", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-export-") as work:
        work_dir = Path(work)
        results = {}
        core = {}
        for size in (args.small, args.large):
            annotated = work_dir / f"annotations-{size}.jsonl"
            write_articles(annotated, size)
            if not args.no_report:  # the same export without the report, side by side: what the report costs
                core[size] = run_child(annotated, work_dir / f"core-{size}", with_report=False)
                print(
                    f"export {size:>7,} without the report: {core[size]['seconds']:6.1f} s, "
                    f"{size / core[size]['seconds']:7,.0f} articles/s, "
                    f"peak RSS {core[size]['peak_kib'] / 1024:6.0f} MiB",
                    flush=True,
                )
            results[size] = run_child(annotated, work_dir / f"out-{size}", with_report=not args.no_report)
            print(
                f"export {size:>7,}: {results[size]['seconds']:6.1f} s, "
                f"{size / results[size]['seconds']:7,.0f} articles/s "
                f"({size / results[size]['cpu']:,.0f} per CPU second), "
                f"peak RSS {results[size]['peak_kib'] / 1024:6.0f} MiB "
                f"(after model load {results[size]['baseline_kib'] / 1024:.0f} MiB)",
                flush=True,
            )
        ls_size = args.ls_articles
        annotated = work_dir / f"annotations-{ls_size}.jsonl"
        if not annotated.exists():
            write_articles(annotated, ls_size)
            results[ls_size] = run_child(annotated, work_dir / f"out-{ls_size}", with_report=not args.no_report)
        ls_json = work_dir / "label-studio-export.json"
        label_studio_export(annotated, ls_json)
        ls_seconds, ls_cpu = label_studio_conll(ls_json, work_dir / "ls-conll")
        ours, ours_cpu = results[ls_size]["seconds"], results[ls_size]["cpu"]
        small, large = results[args.small], results[args.large]
        ratio = large["peak_kib"] / small["peak_kib"]
        throughput = args.large / large["seconds"]
        cpu_throughput = args.large / large["cpu"]
        print()
        print(
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"load average at the end {os.getloadavg()[0]:.1f}"
        )
        print("| measure | value | target |")
        print("| --- | ---: | --- |")
        print(f"| peak RSS, {args.large:,} articles | {large['peak_kib'] / 1024:,.0f} MiB | |")
        print(f"| peak RSS, {args.small:,} articles | {small['peak_kib'] / 1024:,.0f} MiB | |")
        print(
            f"| peak RSS ratio {args.large:,} / {args.small:,} | {ratio:.2f}x "
            f"| <= 1.5x {'(met)' if ratio <= 1.5 else '(NOT met)'} |"
        )
        print(
            f"| export throughput, {args.large:,} articles, wall clock | {throughput:,.0f} articles/s "
            f"| >= 2,000 {'(met)' if throughput >= 2000 else '(NOT met)'} |"
        )
        print(
            f"| export throughput, {args.large:,} articles, per CPU second | {cpu_throughput:,.0f} articles/s "
            f"| >= 2,000 {'(met)' if cpu_throughput >= 2000 else '(NOT met)'} |"
        )
        print(f"| export throughput, {args.small:,} articles | {args.small / small['seconds']:,.0f} articles/s | |")
        print(f"| toolkit export (all formats), {ls_size:,} articles | {ours:.1f} s wall, {ours_cpu:.1f} s CPU | |")
        print(
            f"| label-studio-sdk convert_to_conll2003, same {ls_size:,} articles "
            f"| {ls_seconds:.1f} s wall, {ls_cpu:.1f} s CPU | comparison |"
        )
        print(f"| toolkit / SDK converter | {ours / ls_seconds:.2f}x wall, {ours_cpu / ls_cpu:.2f}x CPU | |")
        if core:
            large_core = core[args.large]
            print(
                f"| export without the report, {args.large:,} articles "
                f"| {args.large / large_core['seconds']:,.0f} articles/s, "
                f"peak RSS {large_core['peak_kib'] / 1024:,.0f} MiB | >= 2,000 "
                f"{'(met)' if args.large / large_core['seconds'] >= 2000 else '(NOT met)'} |"
            )
            print(
                f"| with / without the report, {args.large:,} articles "
                f"| {large['seconds'] / large_core['seconds']:.2f}x time | |"
            )


if __name__ == "__main__":
    main()
