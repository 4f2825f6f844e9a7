from __future__ import annotations

from collections import Counter

from toolkit.dataset.stats import ExportStats
from toolkit.nlp.alignment import LostSpan


def test_stats_sum_field_by_field_and_merge_changes_neither():
    lost = LostSpan("a", 1, 0, 3, "ORG", "Ang", "not on token boundaries")
    one = ExportStats(articles=1, spans=2, lost=[lost], rows_per_split=Counter(train=1), ledger_found=True)
    one.source_per_split["train"]["human"] = 1
    one.edits["added"] = 1
    two = ExportStats(articles=2, spans=1, rows_per_split=Counter(train=1, test=1))
    two.source_per_split["test"]["model"] = 1
    two.edits.update({"added": 2, "deleted": 1})
    total = one.merge(two)
    assert (total.articles, total.spans, total.lost, total.ledger_found) == (3, 3, [lost], True)
    assert total.rows_per_split == Counter(train=2, test=1)
    assert total.source_per_split == {"train": Counter(human=1), "test": Counter(model=1)}
    assert total.edits == Counter(added=3, deleted=1)
    assert (one.articles, two.articles, one.edits["added"]) == (1, 2, 1)  # merge made a new value
    assert one + two == total
    summed = ExportStats()
    for part in (one, two):
        summed += part
    assert summed == total
    assert summed.source_per_split["validation"]["human"] == 0  # the card reads splits without rows
