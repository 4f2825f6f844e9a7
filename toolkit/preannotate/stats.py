"""What a pre-annotation run did (``PreannotateStats``): filled by the run, its streamed driver and workers."""

from __future__ import annotations

from dataclasses import dataclass, field

from toolkit.preannotate.spans import SpanCounts


@dataclass
class PreannotateStats:
    """What a run did; the stats of two runs (or of two workers) merge."""

    articles: int = 0
    words: int = 0
    spans: SpanCounts = field(default_factory=SpanCounts)
    resumed: int = 0  # articles already in the output, not run again
    truncated_tail: bool = False  # a half-written last line of an interrupted run was dropped

    def merge(self, other: PreannotateStats) -> PreannotateStats:
        """Add ``other``'s counts to these (in place) and return them."""
        self.articles += other.articles
        self.words += other.words
        self.spans.merge(other.spans)
        self.resumed += other.resumed
        self.truncated_tail = self.truncated_tail or other.truncated_tail
        return self
