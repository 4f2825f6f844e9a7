"""What an export counted, as a value that sums: a row's counts, the inputs' counts, a split's."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field, fields

from toolkit.nlp.alignment import LostSpan


def _per_split() -> defaultdict[str, Counter[str]]:
    return defaultdict(Counter)


@dataclass(slots=True)
class RowCounts:
    """One row's counts, as ``build_row`` returns them; ``ExportStats.add_row`` sums them.

    Plain fields and lists, not an ExportStats per row: building nine containers per row
    and summing them field by field was a few percent of the export's time.
    """

    split: str
    source: str  # "human" or "model"
    labels: list[str]
    spans: int = 0
    strict: int = 0
    snapped: int = 0
    lost: list[LostSpan] = field(default_factory=list)
    annotators: list[str] = field(default_factory=list)  # one per submitted annotation
    with_prediction: bool = False
    corrections: int = 0
    edits: list[str] = field(default_factory=list)
    stale_decision: bool = False  # adjudicated, an annotator changed since (decision_stale)


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
    # Adjudicated rows whose annotators changed an answer after the decision (decision_stale).
    stale_decisions: int = 0
    # From the ledger and the records: skips and drafts never become data.
    skipped_annotations: int = 0
    only_skipped_tasks: int = 0
    drafts: int = 0
    ledger: Counter[str] = field(default_factory=Counter)
    ledger_found: bool = False

    def __iadd__(self, other: ExportStats) -> ExportStats:
        for name in _SUMMED:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _COUNTERS:
            theirs = getattr(other, name)
            if theirs:
                getattr(self, name).update(theirs)
        for name in _PER_SPLIT:
            mine = getattr(self, name)
            for split, counts in getattr(other, name).items():
                mine[split].update(counts)
        self.lost.extend(other.lost)
        self.ledger_found = self.ledger_found or other.ledger_found
        return self

    def add_row(self, row: RowCounts) -> ExportStats:
        """Count one row (in place); returns these stats."""
        self.articles += 1
        if row.source == "human":
            self.human_rows += 1
        else:
            self.model_rows += 1
        self.rows_per_split[row.split] += 1
        self.source_per_split[row.split][row.source] += 1
        self.labels_per_split[row.split].update(row.labels)
        self.spans += row.spans
        self.aligned_strict += row.strict
        self.aligned_non_strict += row.snapped
        if row.lost:
            self.lost.extend(row.lost)
        if row.annotators:
            self.annotations_per_annotator.update(row.annotators)
        self.stale_decisions += row.stale_decision
        if row.with_prediction:
            self.rows_with_prediction += 1
            self.rows_unchanged += row.corrections == 0
            self.corrections += row.corrections
            self.edits.update(row.edits)
        return self

    def merge(self, other: ExportStats) -> ExportStats:
        """A new ExportStats with the counts of both (neither is changed)."""
        total = ExportStats()
        total += self
        total += other
        return total

    __add__ = merge


def _fields_holding(kind: type) -> tuple[str, ...]:
    blank = ExportStats()
    return tuple(item.name for item in fields(ExportStats) if type(getattr(blank, item.name)) is kind)


# The fields by how they sum, worked out once (``+=`` runs once per row); a new field of
# another kind fails here rather than being left out of the sums.
_SUMMED = _fields_holding(int)
_COUNTERS = _fields_holding(Counter)
_PER_SPLIT = _fields_holding(defaultdict)
if {item.name for item in fields(ExportStats)} != {*_SUMMED, *_COUNTERS, *_PER_SPLIT, "lost", "ledger_found"}:
    raise TypeError("ExportStats has a field that += does not sum; add it to ExportStats.__iadd__")
