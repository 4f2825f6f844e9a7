"""Pre-annotation on Ray against the local backend, side by side in one run, and the driver's memory.

1. Throughput: the same Reuters-21578 bodies (JSONL), same model and config (scores off,
   batch size 64), the Ray backend with 2 workers on a local cluster against the local
   backend with ``n_process=2``, alternating (local, ray, ray, local, ...) in child
   processes. Each run reports its whole time and its rate "after start-up": from the
   first article out to the last (for Ray: cluster up, actors' pipelines loaded; for the
   local backend: worker processes forked, first batch done), plus the cluster's
   start-up (``ray.init``) on its own. Outputs are compared byte for byte.
2. Driver peak memory (``ru_maxrss`` of the driver process, which runs the read and
   writes the output; the cluster's processes are not in it) of a Ray run over N and
   10 N generated short articles.
3. A projection for 10 million articles of 400 words on 8, 32 and 128 workers, from the
   measured per-worker rate and the driver's measured read rate: a projection, not a
   measurement.

    python benchmarks/bench_ray.py [--articles 2000] [--rounds 2] [--rss-articles 20000]

The corpus is found at ``$TOOLKIT_CORPUS`` (default ``../shared/corpus`` next to the
repository). It is read, never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_preannotate import ROOT, load_config, reuters_bodies  # noqa: E402

ARTICLE_WORDS = 400
PROJECTED_ARTICLES = 10_000_000


def run_child(backend: str, source: Path, out: Path, workers: int, scan: bool = True) -> dict:
    """One run in this (child) process: the timings as a dict. ``scan``: time the driver's read of
    the input apart first (the memory runs do not: it would hold the read's index in the driver)."""
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate.run import PreannotateStats, preannotate_to_file, scan_inputs

    config = load_config(scores=False, n_process=workers if backend == "local" else 1)
    pipeline = load_pipeline(config)
    began = time.perf_counter()
    if scan:
        scan_inputs([source], config=config, on_error="fail", done={})
    scan_s = time.perf_counter() - began
    first: list[float] = []
    words_at_first: list[int] = []
    counted = {"words": 0}

    def on_progress(event) -> None:
        if event.advance:
            counted["words"] += event.amounts.get("words", 0)
            if not first:
                first.append(time.perf_counter())
                words_at_first.append(counted["words"])

    cluster = startup = None
    if backend == "ray":
        from toolkit.preannotate.backends.ray import RayBackend

        cluster = RayBackend(config, pipeline.model, scores=False, num_workers=workers)
        began = time.perf_counter()
        cluster.start()
        startup = time.perf_counter() - began
    stats = PreannotateStats()
    began = time.perf_counter()
    try:
        preannotate_to_file(
            [source], out=out, config=config, pipeline=pipeline, fresh=True, stats=stats,
            backend=cluster, on_progress=on_progress,
        )  # fmt: skip
    finally:
        ended = time.perf_counter()
        if cluster is not None:
            cluster.close()
    after = (stats.words - words_at_first[0]) / (ended - first[0])
    return {
        "backend": backend,
        "articles": stats.articles,
        "words": stats.words,
        "total_s": ended - began,
        "to_first_s": first[0] - began,
        "after_startup_words_s": after,
        "cluster_startup_s": startup,
        "scan_s": scan_s,
        "input_mb": source.stat().st_size / 1e6,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def child(backend: str, source: Path, out: Path, workers: int, scan: bool = True) -> dict:
    command = [sys.executable, __file__, "--child", backend, str(source), str(out), "--workers", str(workers)]
    command += [] if scan else ["--no-scan"]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        sys.exit(f"child {backend} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def throughput(count: int, rounds: int, workers: int) -> dict:
    rows = reuters_bodies(count)
    results: dict[str, list[dict]] = {"local": [], "ray": []}
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
        order = []
        for number in range(rounds):
            order += ["local", "ray"] if number % 2 == 0 else ["ray", "local"]
        for backend in order:
            out = Path(tmp) / f"{backend}.jsonl"
            result = child(backend, source, out, workers)
            results[backend].append(result)
            print(
                f"  {backend:5}  {result['total_s']:6.1f} s in all, first article out after "
                f"{result['to_first_s']:4.1f} s, {result['after_startup_words_s']:8,.0f} words/s after start-up"
                + (f", cluster up in {result['cluster_startup_s']:.1f} s" if result["cluster_startup_s"] else ""),
                flush=True,
            )
        same = (Path(tmp) / "local.jsonl").read_bytes() == (Path(tmp) / "ray.jsonl").read_bytes()
    local = statistics.median(r["after_startup_words_s"] for r in results["local"])
    ray = statistics.median(r["after_startup_words_s"] for r in results["ray"])
    local_total = statistics.median(r["total_s"] for r in results["local"])
    ray_total = statistics.median(r["total_s"] for r in results["ray"])
    startup = statistics.median(r["cluster_startup_s"] for r in results["ray"])
    first = statistics.median(r["to_first_s"] for r in results["ray"])
    words = results["ray"][0]["words"]
    print(f"  outputs byte-identical: {same}")
    print(
        f"  Ray {workers} workers / local n_process={workers}, words/s after start-up (medians): "
        f"{ray / local:.2f}x  (target >= 0.9; {ray:,.0f} vs {local:,.0f} words/s, {words:,} words)"
    )
    print(
        f"  whole runs (medians): Ray {ray_total:.1f} s, local {local_total:.1f} s; Ray's start-up: cluster "
        f"{startup:.1f} s, then {first:.1f} s to the first article out (actors load the pipeline)"
    )
    scan = results["ray"][0]
    return {
        "per_worker_words_s": ray / workers,
        "startup_s": startup,
        "first_s": first,
        "scan_mb_s": scan["input_mb"] / scan["scan_s"],
        "mb_per_word": scan["input_mb"] / words,
    }


def generated(count: int, path: Path) -> None:
    """Short distinct articles (about 12 words): the driver's memory, not the model, is measured."""
    names = ["Anna Smith", "Ben Okafor", "Chen Wei", "Dora Lopez", "Emil Novak", "Farah Khan"]
    places = ["Paris", "Lagos", "Osaka", "Lima", "Oslo", "Quito", "Hanoi"]
    with path.open("w", encoding="utf-8") as handle:
        for i in range(count):
            text = f"{names[i % 6]} met the mayor of {places[i % 7]} on day {i} of the talks."
            handle.write(json.dumps({"id": f"g{i}", "text": text}) + "\n")


def memory(count: int, workers: int) -> None:
    peaks = {}
    for size in (count, count * 10):
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / "in.jsonl"
            generated(size, source)
            began = time.perf_counter()
            result = child("ray", source, Path(tmp) / "out.jsonl", workers, scan=False)
            peaks[size] = result["peak_rss_kib"]
            print(
                f"  {size:>8,} articles: driver peak RSS {result['peak_rss_kib'] / 1024:,.0f} MiB "
                f"({time.perf_counter() - began:.0f} s)",
                flush=True,
            )
    print(
        f"  driver peak RSS {count * 10:,} / {count:,} articles: {peaks[count * 10] / peaks[count]:.2f}x "
        "(target <= 1.2)"
    )


def projection(measured: dict) -> None:
    words = PROJECTED_ARTICLES * ARTICLE_WORDS
    read_mb = words * measured["mb_per_word"]
    scan_s = read_mb / measured["scan_mb_s"]
    print(
        f"  Projection, not a measurement: {PROJECTED_ARTICLES:,} articles of {ARTICLE_WORDS} words "
        f"({words / 1e9:.0f} billion words, about {read_mb / 1e3:,.0f} GB of JSONL) at the measured "
        f"{measured['per_worker_words_s']:,.0f} words/s per worker; the driver reads every input once "
        f"first at the measured {measured['scan_mb_s']:,.0f} MB/s ({scan_s / 3600:.1f} h)"
    )
    for workers in (8, 32, 128):
        model = words / (measured["per_worker_words_s"] * workers)
        total = scan_s + measured["startup_s"] + measured["first_s"] + model
        print(
            f"    {workers:>3} workers: model {model / 3600:6.1f} h + driver read {scan_s / 3600:.1f} h "
            f"+ start-up {measured['startup_s'] + measured['first_s']:.0f} s = {total / 3600:6.1f} h"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="local and Ray alternate, this many pairs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-articles", type=int, default=20000, help="and ten times as many; 0 skips")
    parser.add_argument("--only-memory", action="store_true", help="the driver-memory part alone")
    parser.add_argument("--no-scan", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, source, out = args.child
        print(json.dumps(run_child(backend, Path(source), Path(out), args.workers, scan=not args.no_scan)))
        return
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}; load average before: {os.getloadavg()[0]:.2f}"
    )
    if not args.only_memory:
        print(f"Throughput: {args.articles:,} Reuters-21578 bodies, scores off, {args.rounds} rounds alternating")
        measured = throughput(args.articles, args.rounds, args.workers)
    if args.rss_articles:
        print(f"Driver memory: generated articles (JSONL, read by Ray Data on the workers), Ray {args.workers} workers")
        memory(args.rss_articles, args.workers)
    if not args.only_memory:
        projection(measured)
    print(f"Load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
