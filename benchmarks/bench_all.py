"""Every stage's benchmark in one sitting, on today's code: the figures of BENCHMARKS.md's top table.

Runs, one after another (never two at once: each compares two things side by side in
one run, and a neighbour would disturb both), each stage's own script with settings that
keep the sitting short (17 minutes on the project's 2-core machine, twice on 2026-12-07):

    pre-annotate   raw ``nlp.pipe`` of the shipped model against the toolkit (scores off / on)
    push           one ``import_tasks`` call against ``toolkit push``, 1,500 and 10,000 tasks
    pull           the raw export download against ``toolkit pull``, 2,000 tasks
    export         label-studio-sdk's CoNLL converter against ``toolkit export``
    train          ``spacy train`` against ``toolkit train``, same config and data
    ray            the local backend against Ray, 2,000 articles

Each script's whole output is kept in build/bench-all/<stage>.log; its lines with a ratio
or a target are printed again at the end, with the command that reproduces the stage.
Run it alone on a quiet machine: ``make bench-all`` (``BENCH_ARGS=--only=push,pull`` for some).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOGS = ROOT / "build" / "bench-all"
PYTHON = sys.executable

STAGES: dict[str, list[str]] = {
    "pre-annotate": ["benchmarks/bench_preannotate.py", "--articles", "500", "--rounds", "2", "--rss-articles", "0",
                     "--skip-processes"],
    "push": ["benchmarks/bench_push.py", "--sizes", "1500,10000", "--rounds", "5"],
    "pull": ["benchmarks/bench_pull.py", "--tasks", "2000", "--rounds", "3", "--port", "8082"],  # push's server
    "export": ["benchmarks/bench_export.py", "--small", "10000", "--large", "50000", "--ls-articles", "10000"],
    "train": ["benchmarks/bench_train.py", "--skip-curve", "--speed-rounds", "1", "--speed-epochs", "2"],
    "ray": ["benchmarks/bench_ray.py", "--articles", "2000", "--rounds", "3", "--rss-articles", "0"],
}  # fmt: skip
# The lines worth repeating at the end: a ratio (1.02x), a target, a rate.
SUMMARY = re.compile(r"\d\.\d+x|target|words/s|articles/s|tasks/s", re.IGNORECASE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="", help="comma-separated stages (default: all)")
    args = parser.parse_args()
    chosen = [name for name in STAGES if not args.only or name in args.only.split(",")]
    LOGS.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in chosen:
        command = [PYTHON, *STAGES[name]]
        print(f"== {name}: {' '.join(['python', *STAGES[name]])}", flush=True)
        start = time.perf_counter()
        with (LOGS / f"{name}.log").open("w", encoding="utf-8") as log:
            done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            log.write(done.stdout)
        print(done.stdout, flush=True)
        results[name] = (done.returncode, time.perf_counter() - start, done.stdout)
    print("\n== Summary (one sitting; whole outputs in build/bench-all/)")
    for name, (code, seconds, output) in results.items():
        state = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"-- {name}: {state}, {seconds / 60:.1f} min; reproduce: python {' '.join(STAGES[name])}")
        for line in output.splitlines():
            if SUMMARY.search(line) and not line.lstrip().startswith(("round", "Pre-annotating")):
                print(f"   {line.strip()}")
    sys.exit(max((code for code, _, _ in results.values()), default=0))


if __name__ == "__main__":
    main()
