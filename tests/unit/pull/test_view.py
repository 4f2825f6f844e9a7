"""What `toolkit pull` says: every count of a pull, from its summary, through the render layer."""

from __future__ import annotations

import io
from collections import Counter
from pathlib import Path

from rich.console import Console

from toolkit.pull import PullCounts, PullSummary, view
from toolkit.render.console import print_document, print_sections


def shown(document) -> str:
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    print_document(console, document)
    return console.file.getvalue()


def summary(**kwargs) -> PullSummary:
    counts = kwargs.pop("counts", PullCounts())
    fields = {"project_id": 1, "server": "http://ls", "out": Path("a.jsonl"), "ledger": Path("a.ledger.jsonl")}
    return PullSummary(**fields, policy=kwargs.pop("policy", "latest"), counts=counts, **kwargs)


def test_a_plain_pull_says_what_it_wrote_its_counts_the_ledger_and_the_next_command():
    counts = PullCounts(tasks=2, records=1, tasks_with_records=1, not_annotated=1, annotations=1, drafts=1)
    counts.spans_in = counts.spans_used = counts.spans_out = 3
    text = shown(view.pulled(summary(counts=counts, ledger_entries=1)))
    lines = text.splitlines()
    assert lines[0] == "Wrote 1 annotated article with 3 spans to a.jsonl (policy latest)"
    assert lines[1] == "  tasks: 2 exported, 1 with human annotations, 1 not annotated, 0 only skipped, 0 without text"
    assert lines[2].startswith("  annotations: 1 submitted (0 with no spans, kept), 0 skipped, 1 draft (not used), ")
    assert lines[3].startswith("  spans: 3 spans in submitted annotations = 3 used + 0 dropped")
    assert lines[-1] == "  ledger: 1 entry in a.ledger.jsonl"  # not "1 entries", not "entrys"
    assert "since the last pull" not in text and "several annotators" not in text and "raw pull" not in text
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    print_sections(console, [view.next_step(summary(), config=Path("c.yaml"), export_name="news")], rules=False)
    assert console.file.getvalue() == "Next: toolkit export a.jsonl --config c.yaml --out exports/news\n"


def test_every_finding_of_a_pull_is_said_and_long_lists_are_cut_with_how_many_more():
    counts = PullCounts(records=4, spans_out=1, agreed=1, adjudicated=2, disputed=3, all_spans_dropped=1)
    counts.changed_after_adjudication = [f"a{n}" for n in range(22)]
    counts.adjudications_not_chosen = counts.adjudications_without_annotations = 1
    counts.adjudications_text_changed, counts.texts_changed = 2, 3
    counts.spans_dropped, counts.spans_repaired = Counter({"outvoted": 2}), Counter({"trimmed": 1})
    counts.prediction_spans_repaired, counts.prediction_spans_dropped = Counter({"moved": 2}), Counter({"gone": 1})
    counts.other_control_spans = Counter({"meta": 1})
    counts.problems = [f"problem {n}" for n in range(25)]
    pulled = summary(
        counts=counts,
        policy="all",
        mode="incremental",
        new=1,
        previous_pulled_at="2026-03-01T09:14:03+00:00",
        ledger_entries=30,
        raw=Path("raw/x.json.gz"),
        sha256="0123456789abcdef",
        note="a note",
        warnings=[f"w{n}" for n in range(21)],
    )
    text = shown(view.pulled(pulled))
    assert text.startswith("Wrote 4 annotated articles (one per annotator) with 1 span to a.jsonl (policy all)\n")
    for said in (
        "  since the last pull (run 2026-03-01 09:14:03 UTC; newest change it saw unknown): 0 tasks, 1 new",
        "(0 with no spans, kept; 1 whose every span was dropped, in the ledger)",
        "  spans dropped: outvoted 2\n  spans repaired: trimmed 1\n",
        "  several annotators: 1 agreed, 2 adjudicated (the decision is the answer, whatever the policy), "
        "3 still disputed",
        "  22 adjudicated articles changed by an annotator after adjudication (the decision stands, decision.stale): "
        "a0, a1,",
        "a19 and 2 more\n",
        "  1 earlier review decision: a review task's newest submitted decision is taken",
        "  1 adjudication on a task with no submitted annotation left: no record (in the ledger)",
        "  2 adjudications made on another text than the task's now: not taken (in the ledger)",
        "  3 tasks with the text edited in Label Studio after the push",
        "  predicted spans: 2 re-anchored, 1 dropped (in the ledger); dropped: gone 1; re-anchored: moved 2\n",
        "  spans of other controls than the article text's (not used, in the ledger): meta 1\n",
        "  - problem 0\n",
        "  - problem 19\n  - ... and 5 more (all in the ledger)\n",
        "  ledger: 30 entries in a.ledger.jsonl\n",
        "  raw pull kept: raw/x.json.gz (sha256 0123456789ab..., manifest next to it)\n",
        "  note: a note\n  warning: w0\n",
        "  warning: w19\n  ... and 1 more warnings (in --json)\n",
    ):
        assert said in text, said
    assert "problem 20" not in text and "w20" not in text and "a20" not in text


def test_the_span_counts_add_up_visibly_and_say_what_the_used_became():
    """ "48 spans" beside "61 in submitted: 52 used, 3 dropped, 6 not chosen" did not reconcile."""
    counts = PullCounts(spans_in=61, spans_used=52, spans_not_chosen=6, spans_out=48)
    counts.spans_dropped.update({"outvoted": 3})
    line = view.span_line(counts)
    assert line.startswith(
        "spans: 61 spans in submitted annotations = 52 used + 3 dropped + 6 in annotations not chosen"
    )
    assert "; the 52 used are 48 spans written (one for the same span of several annotators" in line
    same = view.span_line(PullCounts(spans_in=1, spans_used=1, spans_out=1))
    assert same.startswith("spans: 1 span in submitted annotations = 1 used + 0 dropped + 0 in annotations not chosen;")
    assert "written" not in same


def test_since_the_last_pull_names_when_it_ran_and_calls_the_watermark_what_it_is():
    summary = PullSummary(
        project_id=1,
        server="http://127.0.0.1:8080",
        out=Path("a.jsonl"),
        ledger=Path("a.ledger.jsonl"),
        policy="latest",
        counts=PullCounts(tasks=1),
        mode="incremental",
        new=1,
        previous_watermark="2026-01-02T00:00:00.000000Z",
        previous_pulled_at="2026-03-01T09:14:03.123456+00:00",
    )
    line = view.since_line(summary)
    assert line.startswith(
        "since the last pull (run 2026-03-01 09:14:03 UTC; newest change it saw 2026-01-02 00:00:00 UTC)"
    )
    assert ": 1 task, 1 new, 0 changed" in line
    assert summary.to_json()["previous_pulled_at"] == "2026-03-01T09:14:03.123456+00:00"


def test_the_calibration_refit_is_one_line_of_the_output_and_in_the_json():
    from toolkit.pull.refit import CalibrationRefit

    refit = CalibrationRefit("m-1", "cal-bbb", "cal-aaa", decisions=1, articles=1, new=1, spans=41)
    text = shown(view.pulled(summary(calibration=refit)))
    assert "  calibration of m-1 refitted on 1 decision (1 article): id cal-bbb (was cal-aaa)\n" in text
    assert summary(calibration=refit).to_json()["calibration"]["calibration_id"] == "cal-bbb"
    assert summary().to_json()["calibration"] is None
