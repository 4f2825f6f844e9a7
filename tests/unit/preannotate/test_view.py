"""What ``toolkit preannotate`` says of its model, its cluster and its run, built as render sections."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from toolkit.preannotate import view
from toolkit.preannotate.backends.ray import Cluster
from toolkit.preannotate.job import PreannotateResult
from toolkit.preannotate.readers import ReadStats
from toolkit.preannotate.stats import PreannotateStats

OUT = Path("out.jsonl")


def text(section):
    return [line.text for line in section.blocks]


def test_a_run_that_wrote_articles_says_how_many_how_fast_and_what_was_left_out():
    stats = PreannotateStats(articles=2_000, words=40_000, resumed=1, truncated_tail=True)
    stats.spans.kept, stats.spans.trimmed, stats.spans.dropped_empty = 3_500, 1, 2
    stats.spans.dropped_by_label = Counter({"MISC": 1_200, "LOC": 1})
    read = ReadStats(duplicates=[f"b{i}.txt repeats a.txt" for i in range(12)], dates_not_parsed=1)
    read.skipped.update({"empty file": 2, "binary file": 1})
    read.skipped_examples[:] = ["e1.txt: empty file", "e2.txt: empty file", "bin: binary"]
    result = PreannotateResult(OUT, written=2_000, stats=stats, read_stats=read, seconds=4.0)
    said = text(view.summary(result, config_path=Path("c.yaml")))
    assert said == [
        "Resumed: 1 article already in out.jsonl (pass --fresh to redo them)",
        "  dropped the half-written last line an interrupted run left in out.jsonl",
        "Wrote 2,000 articles with 3,500 spans to out.jsonl (500.0 articles/s, 10,000 words/s)",
        "  1 span trimmed of surrounding whitespace or punctuation",
        "  2 spans dropped: nothing left after trimming",
        "  not pre-annotated (label not in the config): MISC 1,200, LOC 1",
        "  1 date not understood: kept as date_original only",
        "  12 exact duplicates kept once:",
        *(f"    b{i}.txt repeats a.txt" for i in range(10)),
        "    ... and 2 more",
        "Skipped 3 bad inputs: empty file 2, binary file 1",
        "    e1.txt: empty file",
        "    e2.txt: empty file",
        "    bin: binary",
        "Next: toolkit push out.jsonl --config c.yaml",
    ]


def test_nothing_new_says_so_in_the_number_it_needs_and_no_rates():
    for resumed, said in ((1, "all 1 article is already"), (2, "all 2 articles are already")):
        result = PreannotateResult(OUT, written=0, stats=PreannotateStats(resumed=resumed), seconds=0.5)
        lines = text(view.summary(result, config_path=Path("c.yaml")))
        assert lines == [f"Nothing new: {said} in out.jsonl (pass --fresh to redo them)", lines[-1]]


def test_the_model_and_the_cluster(config, blank_pipeline):
    from toolkit.preannotate.job import PreannotateJob

    job = PreannotateJob([], OUT, config, blank_pipeline, None, 2, None, None, False, "jsonl")
    assert text(view.model(job)) == ["Model: blank_en 0.0.0 (components: ; scores off; 2 processes)"]
    job.n_process = 1
    assert text(view.model(job))[0].endswith("; 1 process)")
    local = Cluster(workers=1, cpus=4.0, address=None, startup_seconds=2.34)
    assert text(view.cluster(local)) == ["Ray: 1 worker on a local cluster of 4 CPUs, up in 2.3 s"]
    joined = Cluster(workers=3, cpus=1.0, address="10.0.0.1:6379", startup_seconds=0.5)
    assert text(view.cluster(joined)) == ["Ray: 3 workers on a cluster at 10.0.0.1:6379 of 1 CPU, up in 0.5 s"]
