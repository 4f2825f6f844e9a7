"""What an export counted, as a value that sums: a row's counts, the inputs' counts, a split's."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields

from toolkit.nlp.alignment import LostSpan


def _per_split() -> defaultdict[str, Counter[str]]:
    return defaultdict(Counter)


@dataclass
class ExportStats:
    """Counts of an export (or of one row of it). ``a + b`` and ``a += b`` sum them.

    Nothing fills a shared ExportStats while it works: a row's function returns the
    row's counts, the inputs' check returns its own, and the caller adds them up. So
    counts made elsewhere (another process, another split) sum the same way.
    """

    articles: int = 0
    human_rows: int = 0
    model_rows: int = 0
    rows_per_split: Counter[str] = field(default_factory=Counter)
    source_per_split: defaultdict[str, Counter[str]] = field(default_factory=_per_split)
    labels_per_split: defaultdict[str, Counter[str]] = field(default_factory=_per_split)
    spans: int = 0
    aligned_strict: int = 0
    # Spans whose offsets are not on token boundaries and were snapped by the fallback.
    aligned_non_strict: int = 0
    lost: list[LostSpan] = field(default_factory=list)
    # Submitted annotations per anonymous annotator id.
    annotations_per_annotator: Counter[str] = field(default_factory=Counter)
    # Human rows that started from a prediction, and of those the ones left unchanged.
    rows_with_prediction: int = 0
    rows_unchanged: int = 0
    # The sum of the n_corrections column (spans added plus spans deleted, by exact key).
    corrections: int = 0
    # Those rows' spans against their prediction, in toolkit.metrics.edits.EDIT_KINDS words.
    edits: Counter[str] = field(default_factory=Counter)
    # From the ledger and the records: skips and drafts never become data.
    skipped_annotations: int = 0
    only_skipped_tasks: int = 0
    drafts: int = 0
    ledger: Counter[str] = field(default_factory=Counter)
    ledger_found: bool = False

    def __iadd__(self, other: ExportStats) -> ExportStats:
        for item in fields(self):
            mine, theirs = getattr(self, item.name), getattr(other, item.name)
            if isinstance(mine, bool):  # before int: a bool is an int
                setattr(self, item.name, mine or theirs)
            elif isinstance(mine, int):
                setattr(self, item.name, mine + theirs)
            elif isinstance(mine, Counter):
                mine.update(theirs)
            elif isinstance(mine, defaultdict):
                for key, counts in theirs.items():
                    mine[key].update(counts)
            else:
                mine.extend(theirs)
        return self

    def merge(self, other: ExportStats) -> ExportStats:
        """A new ExportStats with the counts of both (neither is changed)."""
        total = ExportStats()
        total += self
        total += other
        return total

    __add__ = merge
