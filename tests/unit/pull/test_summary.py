"""A pull's counts are summed task by task."""

from __future__ import annotations

from collections import Counter

from toolkit.pull.summary import PullCounts


def test_counts_merge_numbers_counters_and_problems():
    total = PullCounts()
    one = PullCounts(tasks=1, records=2, spans_in=3, spans_dropped=Counter({"no label": 1}), problems=["p1"])
    two = PullCounts(tasks=1, spans_in=1, spans_dropped=Counter({"no label": 2, "outvoted": 1}), problems=["p2"])
    assert total.merge(one).merge(two) is total
    assert (total.tasks, total.records, total.spans_in) == (2, 2, 4)
    assert total.spans_dropped == {"no label": 3, "outvoted": 1} and total.problems == ["p1", "p2"]
    assert one.spans_dropped == {"no label": 1}  # the merged ones are left as they were


def test_counts_as_json_list_counters_most_common_first_and_leave_problems_out():
    counts = PullCounts(spans_repaired=Counter({"a": 1, "b": 3}), problems=["x"])
    data = counts.as_dict()
    assert list(data["spans_repaired"].items()) == [("b", 3), ("a", 1)]
    assert "problems" not in data and data["tasks"] == 0


def test_the_span_counts_add_up_visibly_and_say_what_the_used_became():
    """ "48 spans" beside "61 in submitted: 52 used, 3 dropped, 6 not chosen" did not reconcile."""
    from toolkit.pull.summary import span_line

    counts = PullCounts(spans_in=61, spans_used=52, spans_not_chosen=6, spans_out=48)
    counts.spans_dropped.update({"outvoted": 3})
    line = span_line(counts)
    assert line.startswith(
        "spans: 61 spans in submitted annotations = 52 used + 3 dropped + 6 in annotations not chosen"
    )
    assert "; the 52 used are 48 spans written (one for the same span of several annotators" in line
    same = span_line(PullCounts(spans_in=1, spans_used=1, spans_out=1))
    assert same.startswith("spans: 1 span in submitted annotations = 1 used + 0 dropped + 0 in annotations not chosen;")
    assert "written" not in same


def test_since_the_last_pull_names_when_it_ran_and_calls_the_watermark_what_it_is():
    from pathlib import Path

    from toolkit.pull.summary import PullSummary, since_line

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
    line = since_line(summary)
    assert line.startswith(
        "since the last pull (run 2026-03-01 09:14:03 UTC; newest change it saw 2026-01-02 00:00:00 UTC)"
    )
    assert ": 1 task, 1 new, 0 changed" in line
    assert summary.as_dict()["previous_pulled_at"] == "2026-03-01T09:14:03.123456+00:00"
