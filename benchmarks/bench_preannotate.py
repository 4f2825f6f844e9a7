"""Pre-annotation throughput and memory: the toolkit against raw spaCy, side by side.

Runs in one process run (memory in child processes, one per size) over the same
Reuters-21578 bodies, same model, same components (NER only), same batch size and
``n_process``, and prints the ratios the issue sets targets for:

- scores off: toolkit (read JSONL -> pre-annotate -> write JSONL) vs raw greedy ``nlp.pipe``;
- scores on: toolkit vs a raw ``nlp.pipe`` loop with the same scoring NER, and the cost
  of scores against greedy decoding;
- ``n_process=2`` vs ``n_process=1`` (toolkit, scores off);
- peak RSS of a toolkit run over 20,000 articles vs 2,000.

    python benchmarks/bench_preannotate.py [--articles 2000] [--rss-articles 20000] [--rounds 4]
    python benchmarks/bench_preannotate.py --rss-only      # just the memory runs

The corpus is found at ``$TOOLKIT_CORPUS`` (default ``../shared/corpus`` next to the
repository). It is read, never copied into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "configs" / "news-ner.yaml"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_dir() -> Path:
    return Path(os.environ.get("TOOLKIT_CORPUS", DEFAULT_CORPUS)) / "reuters-21578"


def reuters_bodies(count: int) -> list[dict]:
    """The first ``count`` distinct non-empty bodies; repeated with a marker when the corpus is smaller."""
    from toolkit.preannotate.readers import normalise_text

    folder = corpus_dir()
    if not folder.is_dir():
        sys.exit(f"Reuters-21578 not found at {folder}; set TOOLKIT_CORPUS to the folder holding reuters-21578/")
    rows: list[dict] = []
    seen: set[str] = set()
    for path in sorted(folder.glob("*.json")):
        for record in json.loads(path.read_text(encoding="utf-8")):
            body = normalise_text(record.get("body") or "").strip()
            if body and body not in seen:
                seen.add(body)
                rows.append({"id": record["attrs"]["newid"], "text": body})
                if len(rows) == count:
                    return rows
    # Synthetic repetition: the same texts again, made distinct (or they would be
    # dropped as duplicates) by a short suffix.
    base = list(rows)
    copy = 1
    while len(rows) < count:
        for row in base[: count - len(rows)]:
            rows.append({"id": f"{row['id']}-copy{copy}", "text": f"{row['text']}\n(copy {copy})"})
        copy += 1
    return rows


def load_config(scores: bool, n_process: int = 1, batch_size: int = 64):
    from toolkit.config import load_config as load

    config = load(CONFIG)
    spacy = config.spacy.model_copy(update={"scores": scores, "n_process": n_process, "batch_size": batch_size})
    return config.model_copy(update={"spacy": spacy})


class Timing:
    """Wall time, this process's CPU time (less disturbed by other load on a shared
    machine; only meaningful with n_process=1) and words, summed over rounds."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.words = self.articles = 0

    def add(self, wall: float, cpu: float, words: int, articles: int) -> None:
        self.wall += wall
        self.cpu += cpu
        self.words += words
        self.articles += articles

    @property
    def rate(self) -> float:
        return self.words / self.wall

    @property
    def cpu_rate(self) -> float:
        return self.words / self.cpu


def time_raw(nlp, texts: list[str], *, n_process: int, batch_size: int, scores: bool, ents: list | None = None):
    from toolkit.nlp.scoring import SCORES_KEY
    from toolkit.preannotate.spans import count_words

    wall, cpu = time.perf_counter(), time.process_time()
    words = 0
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        words += count_words(doc)
        found = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        if scores:
            _ = doc.user_data[SCORES_KEY]
        if ents is not None:
            ents.append(set(found))
    return time.perf_counter() - wall, time.process_time() - cpu, words, len(texts)


def time_toolkit(source: Path, out: Path, *, scores: bool, n_process: int, batch_size: int, pipeline=None):
    from toolkit.nlp.pipeline import load_pipeline
    from toolkit.preannotate import PreannotateStats, preannotate_to_file

    config = load_config(scores, n_process, batch_size)
    pipeline = pipeline or load_pipeline(config)
    stats = PreannotateStats()
    wall, cpu = time.perf_counter(), time.process_time()
    preannotate_to_file([source], out=out, config=config, pipeline=pipeline, fresh=True, stats=stats)
    return time.perf_counter() - wall, time.process_time() - cpu, stats.words, stats.articles


def rss_child(source: Path, scores: bool) -> None:
    """Run the toolkit over the JSONL ``source`` and print this process's peak RSS (KiB).

    The input file is written by the parent, so the peak is the toolkit's alone (model,
    pre-annotation, output), not the benchmark's copy of the corpus.
    """
    with tempfile.TemporaryDirectory() as tmp:
        _, _, words, articles = time_toolkit(source, Path(tmp) / "out.jsonl", scores=scores, n_process=1, batch_size=64)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"articles": articles, "peak_rss_kib": peak, "words": words}))


def measure_rss(count: int, scores: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.jsonl"
        source.write_text("".join(json.dumps(row) + "\n" for row in reuters_bodies(count)), encoding="utf-8")
        command = [sys.executable, __file__, "--rss-child", str(source)] + ([] if scores else ["--no-scores"])
        result = subprocess.run(command, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def report_rss(small_count: int, large_count: int) -> None:
    small = measure_rss(small_count, scores=False)
    large = measure_rss(large_count, scores=False)
    print(
        f"  peak RSS {large['articles']:,} / {small['articles']:,} articles: "
        f"{large['peak_rss_kib'] / small['peak_rss_kib']:.2f}x  (target <= 1.2; "
        f"{small['peak_rss_kib'] / 1024:,.0f} MiB vs {large['peak_rss_kib'] / 1024:,.0f} MiB, scores off, n_process=1)"
    )


def agreement(greedy: list[set], beam: list[set]) -> tuple[float, float]:
    """Share of docs with identical entities, and entity-level F1 of the beam against greedy."""
    same = sum(g == b for g, b in zip(greedy, beam)) / len(greedy)
    both = sum(len(g & b) for g, b in zip(greedy, beam))
    total = sum(len(g) + len(b) for g, b in zip(greedy, beam))
    return same, (2 * both / total if total else 1.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--rss-articles", type=int, default=20000, help="0 skips the memory runs")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=4, help="raw and toolkit alternate over this many parts")
    parser.add_argument("--skip-processes", action="store_true", help="skip the n_process=2 runs")
    parser.add_argument("--rss-only", action="store_true", help="only the memory runs")
    parser.add_argument("--rss-child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-scores", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child, scores=not args.no_scores)
        return
    if args.rss_only:
        report_rss(args.articles, args.rss_articles)
        return

    rows = reuters_bodies(args.articles)
    texts = [row["text"] for row in rows]
    config = load_config(True)
    from toolkit.nlp.pipeline import load_pipeline

    print(
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}"
    )
    print(
        f"Corpus: {len(texts):,} Reuters-21578 bodies in {args.rounds} rounds (raw and toolkit alternate, ABBA); "
        f"batch size {args.batch_size}; beam width {config.spacy.beam_width}"
    )
    results: dict[str, Timing] = {}
    greedy_ents: list = []
    beam_ents: list = []
    with tempfile.TemporaryDirectory() as tmp:
        rounds = []
        size = -(-len(rows) // args.rounds)
        for number in range(args.rounds):
            part = rows[number * size : (number + 1) * size]
            source = Path(tmp) / f"in-{number}.jsonl"
            source.write_text("".join(json.dumps(row) + "\n" for row in part), encoding="utf-8")
            rounds.append(([row["text"] for row in part], source))
        out = Path(tmp) / "out.jsonl"
        # The toolkit's pipelines, loaded once like the raw ones (loading is not timed).
        greedy = load_pipeline(load_config(False))
        scored = load_pipeline(load_config(True))
        list(greedy.nlp.pipe(texts[:50]))  # warm-up: first-call allocations out of the timings
        list(scored.nlp.pipe(texts[:50]))

        def compare(name: str, n_process: int, scores: bool, ents: list | None = None) -> None:
            raw, kit = Timing(), Timing()
            nlp = (scored if scores else greedy).nlp
            for number, (part, source) in enumerate(rounds):
                runs = [
                    lambda: raw.add(
                        *time_raw(nlp, part, n_process=n_process, batch_size=args.batch_size, scores=scores, ents=ents)
                    ),
                    lambda: kit.add(
                        *time_toolkit(
                            source,
                            out,
                            scores=scores,
                            n_process=n_process,
                            batch_size=args.batch_size,
                            pipeline=scored if scores else greedy,
                        )
                    ),
                ]
                for run in runs if number % 2 == 0 else reversed(runs):
                    run()
            results[f"raw_{name}"], results[f"toolkit_{name}"] = raw, kit
            print(f"{name} (n_process={n_process}, scores {'on' if scores else 'off'}):")
            for label, timing in [("raw nlp.pipe", raw), ("toolkit (JSONL in -> JSONL out)", kit)]:
                print(
                    f"  {label:<34} {timing.wall:7.1f} s wall {timing.rate:8,.0f} words/s "
                    f"{timing.articles / timing.wall:6.1f} articles/s | CPU {timing.cpu_rate:8,.0f} words/s"
                )

        compare("greedy", 1, False, greedy_ents)
        compare("scored", 1, True, beam_ents)
        if not args.skip_processes:
            compare("greedy_2", 2, False)

    def ratio(a: str, b: str, cpu: bool = False) -> float:
        return (results[a].cpu_rate / results[b].cpu_rate) if cpu else (results[a].rate / results[b].rate)

    same, f1 = agreement(greedy_ents, beam_ents)
    print("Ratios (wall time; CPU time in brackets where it applies):")
    print(
        f"  toolkit / raw, scores off:   {ratio('toolkit_greedy', 'raw_greedy'):.2f}x "
        f"({ratio('toolkit_greedy', 'raw_greedy', True):.2f}x)  target >= 0.95"
    )
    print(
        f"  toolkit / raw, scores on:    {ratio('toolkit_scored', 'raw_scored'):.2f}x "
        f"({ratio('toolkit_scored', 'raw_scored', True):.2f}x)  target >= 0.95"
    )
    print(
        f"  scores on / off, raw:        {ratio('raw_scored', 'raw_greedy'):.2f}x "
        f"({ratio('raw_scored', 'raw_greedy', True):.2f}x)  the cost of scores"
    )
    print(f"  beam vs greedy entities:     {same:.1%} of docs identical, entity F1 {f1:.3f}")
    if not args.skip_processes:
        print(f"  toolkit n_process=2 / 1:     {ratio('toolkit_greedy_2', 'toolkit_greedy'):.2f}x  target >= 1.6")
        print(f"  raw n_process=2 / 1:         {ratio('raw_greedy_2', 'raw_greedy'):.2f}x")
        print(f"  toolkit / raw, n_process=2:  {ratio('toolkit_greedy_2', 'raw_greedy_2'):.2f}x")
    if args.rss_articles:
        report_rss(args.articles, args.rss_articles)


if __name__ == "__main__":
    main()
