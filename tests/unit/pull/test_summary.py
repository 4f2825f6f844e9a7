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
    data = counts.to_json()
    assert list(data["spans_repaired"].items()) == [("b", 3), ("a", 1)]
    assert "problems" not in data and data["tasks"] == 0
