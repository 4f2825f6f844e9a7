"""Pre-annotation on Ray against the local backend, side by side in one run, and the driver's memory.

1. Throughput: the same Reuters-21578 bodies (JSONL), same model and config (scores off,
   batch size 64), the Ray backend with 2 workers on a local cluster against the local
   backend with ``n_process=2``, alternating in child processes, each backend on the first
   N and the first 2 N bodies. The rate "once the cluster is up" is the **marginal** rate,
   (words of 2 N - words of N) / (time of 2 N - time of N): what a run costs beyond its
   fixed start (for Ray: actors started, pipelines loaded, the first block; for the local
   backend: worker processes forked, their pipelines loaded) cancels out. The cluster's
   start-up (``ray.init``) is timed on its own, outside both, and each run's fixed start
   is printed (its time minus its words at the marginal rate). Outputs are compared byte
   for byte. The driver's CPU time per article (reading results, deciding duplicates,
   writing the output) is measured for the projection.
2. Driver peak memory (``ru_maxrss`` of the driver process, which writes the output; the
   cluster's processes are not in it) of a Ray run over N and 10 N generated short articles.
3. A projection for 10 million articles of 400 words on 8, 32 and 128 workers, from the
   measured per-worker rate and the driver's measured CPU per article: a projection, not a
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


def run_child(backend: str, source: Path, out: Path, workers: int) -> dict:
    """One run in this (child) process: the timings as a dict."""
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate import PreannotateStats, preannotate_to_file

    config = load_config(scores=False, n_process=workers if backend == "local" else 1)
    pipeline = load_pipeline(config)
    cluster = startup = None
    if backend == "ray":
        from toolkit.preannotate.backends.ray import RayBackend

        cluster = RayBackend(config, pipeline.model, scores=False, num_workers=workers)
        began = time.perf_counter()
        cluster.start()
        startup = time.perf_counter() - began
    stats = PreannotateStats()
    cpu_before = _cpu_s()
    began = time.perf_counter()
    try:
        preannotate_to_file(
            [source], out=out, config=config, pipeline=pipeline, fresh=True, stats=stats, backend=cluster
        )  # fmt: skip
    finally:
        ended = time.perf_counter()
        driver_cpu = _cpu_s() - cpu_before
        if cluster is not None:
            cluster.close()
    return {
        "backend": backend,
        "articles": stats.articles,
        "words": stats.words,
        "total_s": ended - began,
        "cluster_startup_s": startup,
        "driver_cpu_s": driver_cpu,
        "input_mb": source.stat().st_size / 1e6,
        "peak_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }


def _cpu_s() -> float:
    """This process's CPU time (its own threads; the local backend's worker processes are not in it)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child(backend: str, source: Path, out: Path, workers: int) -> dict:
    command = [sys.executable, __file__, "--child", backend, str(source), str(out), "--workers", str(workers)]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env)
    if done.returncode != 0:
        sys.exit(f"child {backend} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def throughput(count: int, rounds: int, workers: int) -> dict:
    rows = reuters_bodies(2 * count)
    runs: dict[tuple[str, int], list[dict]] = {}
    same = True
    with tempfile.TemporaryDirectory() as tmp:
        sources = {}
        for size in (count, 2 * count):
            sources[size] = Path(tmp) / f"in-{size}.jsonl"
            sources[size].write_text("".join(json.dumps(row) + "\n" for row in rows[:size]), encoding="utf-8")
        order = []
        for number in range(rounds):
            pairs = [("local", count), ("ray", count), ("ray", 2 * count), ("local", 2 * count)]
            order += pairs if number % 2 == 0 else pairs[::-1]
        for backend, size in order:
            out = Path(tmp) / f"{backend}-{size}.jsonl"
            result = child(backend, sources[size], out, workers)
            runs.setdefault((backend, size), []).append(result)
            print(
                f"  {backend:5} {size:>6,} articles {result['total_s']:6.1f} s"
                + (
                    f" (cluster up before, in {result['cluster_startup_s']:.1f} s)"
                    if result["cluster_startup_s"]
                    else ""
                ),
                flush=True,
            )
        for size in (count, 2 * count):
            same = (
                same
                and (Path(tmp) / f"local-{size}.jsonl").read_bytes() == (Path(tmp) / f"ray-{size}.jsonl").read_bytes()
            )
    marginal, fixed, per_round = {}, {}, {}
    for backend in ("local", "ray"):
        rates, starts = [], []
        for small, large in zip(runs[(backend, count)], runs[(backend, 2 * count)], strict=True):
            rate = (large["words"] - small["words"]) / (large["total_s"] - small["total_s"])
            rates.append(rate)
            starts.append(small["total_s"] - small["words"] / rate)
        marginal[backend], fixed[backend] = statistics.median(rates), statistics.median(starts)
        per_round[backend] = rates
        print(
            f"  {backend:5} marginal rate {marginal[backend]:8,.0f} words/s (rounds: "
            + ", ".join(f"{rate:,.0f}" for rate in rates)
            + f"); fixed start of a run {fixed[backend]:.1f} s (rounds: "
            + ", ".join(f"{start:.1f}" for start in starts)
            + ")"
        )
    words = runs[("ray", count)][0]["words"], runs[("ray", 2 * count)][0]["words"]
    startup = statistics.median(r["cluster_startup_s"] for r in runs[("ray", count)] + runs[("ray", 2 * count)])
    whole = {
        backend: statistics.median(r["total_s"] for r in runs[(backend, 2 * count)]) for backend in ("local", "ray")
    }
    # The driver's CPU per article, marginal too: its fixed share (joining, Ray Data's planning) cancels.
    cpu_per_article = statistics.median(
        (large["driver_cpu_s"] - small["driver_cpu_s"]) / (large["articles"] - small["articles"])
        for small, large in zip(runs[("ray", count)], runs[("ray", 2 * count)], strict=True)
    )
    ratios = [ray / local for ray, local in zip(per_round["ray"], per_round["local"], strict=True)]
    print(f"  outputs byte-identical (both sizes): {same}")
    print(
        "  Ray / local marginal rate, round by round (each round's four runs side by side): "
        + ", ".join(f"{ratio:.2f}x" for ratio in ratios)
        + f"; median {statistics.median(ratios):.2f}x"
    )
    print(
        f"  Ray {workers} workers / local n_process={workers}, marginal words/s (medians): "
        f"{marginal['ray'] / marginal['local']:.2f}x  (target >= 0.9; {marginal['ray']:,.0f} vs "
        f"{marginal['local']:,.0f} words/s; {words[0]:,} and {words[1]:,} words)"
    )
    print(
        f"  start-up, apart: the cluster {startup:.1f} s (ray.init), then a run's fixed start {fixed['ray']:.1f} s "
        f"(local backend: {fixed['local']:.1f} s); whole runs of {2 * count:,} articles, cluster start-up not "
        f"included (medians): Ray {whole['ray']:.1f} s, local {whole['local']:.1f} s"
    )
    print(
        "  the driver's CPU per article on Ray (results read, duplicates decided, output written): "
        f"{cpu_per_article * 1e3:.2f} ms"
    )
    return {
        "per_worker_words_s": marginal["ray"] / workers,
        "startup_s": startup,
        "first_s": fixed["ray"],
        "driver_cpu_per_article_s": cpu_per_article,
        "mb_per_word": runs[("ray", count)][0]["input_mb"] / words[0],
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
            result = child("ray", source, Path(tmp) / "out.jsonl", workers)
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
    driver_s = PROJECTED_ARTICLES * measured["driver_cpu_per_article_s"]
    print(
        f"  Projection, not a measurement: {PROJECTED_ARTICLES:,} articles of {ARTICLE_WORDS} words "
        f"({words / 1e9:.0f} billion words, about {read_mb / 1e3:,.0f} GB of JSONL, read on the workers) at the "
        f"measured {measured['per_worker_words_s']:,.0f} words/s per worker; the driver's share is "
        f"{measured['driver_cpu_per_article_s'] * 1e3:.2f} ms of CPU per article ({driver_s / 3600:.1f} h in all, "
        "on one core, beside the workers)"
    )
    for workers in (8, 32, 128):
        model = words / (measured["per_worker_words_s"] * workers)
        wall = max(model, driver_s)  # the driver keeps pace, or the run waits for it
        limit = "the workers' model" if model >= driver_s else "the driver (results in, output out)"
        print(
            f"    {workers:>3} workers: model {model / 3600:6.1f} h, driver {driver_s / 3600:.1f} h, "
            f"start-up {measured['startup_s'] + measured['first_s']:.0f} s: about {wall / 3600:6.1f} h, "
            f"limited by {limit}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=2, help="local and Ray alternate, this many pairs")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-articles", type=int, default=20000, help="and ten times as many; 0 skips")
    parser.add_argument("--only-memory", action="store_true", help="the driver-memory part alone")
    parser.add_argument("--child", nargs=3, metavar=("BACKEND", "SOURCE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        backend, source, out = args.child
        print(json.dumps(run_child(backend, Path(source), Path(out), args.workers)))
        return
    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}; load average before: {os.getloadavg()[0]:.2f}"
    )
    if not args.only_memory:
        print(
            f"Throughput: {args.articles:,} and {2 * args.articles:,} Reuters-21578 bodies, scores off, "
            f"{args.rounds} rounds alternating"
        )
        measured = throughput(args.articles, args.rounds, args.workers)
    if args.rss_articles:
        print(f"Driver memory: generated articles (JSONL, read by Ray Data on the workers), Ray {args.workers} workers")
        memory(args.rss_articles, args.workers)
    if not args.only_memory:
        projection(measured)
    print(f"Load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
