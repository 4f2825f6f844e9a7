"""What a pull did: the counts of its tasks (summed task by task) and its summary (``view`` draws it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from toolkit.pull.refit import CalibrationRefit


@dataclass
class PullCounts:
    """Totals of one task or of a whole pull (tasks' counts ``merge``); ``to_json`` is what
    ``toolkit pull --json`` prints (in ``counts``).

    Every labelled span of every submitted annotation is used, dropped or in an annotation
    not chosen: ``spans_in == spans_used + sum(spans_dropped.values()) + spans_not_chosen``.
    """

    tasks: int = 0
    records: int = 0
    tasks_with_records: int = 0
    not_annotated: int = 0
    only_skipped: int = 0
    no_text: int = 0
    annotations: int = 0  # submitted (not skipped)
    skipped_annotations: int = 0
    drafts: int = 0
    not_chosen_annotations: int = 0
    empty_annotations: int = 0  # submitted with no spans: "no entities here"
    all_spans_dropped: int = 0  # submitted with spans, every one of them dropped (ledger)
    texts_changed: int = 0  # tasks whose text differs from the one pushed (text_sha256)
    spans_in: int = 0  # labelled spans in submitted annotations
    spans_used: int = 0  # of those, in a record
    spans_not_chosen: int = 0  # of those, in annotations the policy did not choose
    spans_out: int = 0  # spans written (majority merges agreeing spans into one)
    spans_dropped: Counter[str] = field(default_factory=Counter)
    spans_repaired: Counter[str] = field(default_factory=Counter)
    overlapping_spans: int = 0
    other_results: int = 0  # result items that are not labelled spans
    # labelled spans of other controls than the article text's, by control name: not
    # article spans, so outside spans_in
    other_control_spans: Counter[str] = field(default_factory=Counter)
    # model spans (of the predictions written with the records) re-anchored or dropped
    prediction_spans_repaired: Counter[str] = field(default_factory=Counter)
    prediction_spans_dropped: Counter[str] = field(default_factory=Counter)
    # Tasks with several annotators: all agreeing (auto-accepted), an adjudicator's decision
    # taken (also when annotators changed since), still disputed; decisions made on another
    # text than the task's now (not taken); submitted review answers other than the newest
    # (not taken); decisions on a task with no submitted annotation left (no record).
    agreed: int = 0
    adjudicated: int = 0
    disputed: int = 0
    adjudications_text_changed: int = 0
    adjudications_not_chosen: int = 0
    adjudications_without_annotations: int = 0
    # Article ids of adjudicated articles an annotator changed since (``decision.stale``).
    changed_after_adjudication: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def merge(self, other: PullCounts) -> PullCounts:
        """Add ``other``'s counts to these (in place); returns self."""
        for name in _NUMBERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in _COUNTERS:
            counter = getattr(other, name)
            if counter:
                getattr(self, name).update(counter)
        self.changed_after_adjudication.extend(other.changed_after_adjudication)
        self.problems.extend(other.problems)
        return self

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in _COUNTERS:
            data[name] = dict(getattr(self, name).most_common())
        data.pop("problems")
        return data


_COUNTERS = tuple(f.name for f in fields(PullCounts) if f.type == "Counter[str]")
_NUMBERS = tuple(f.name for f in fields(PullCounts) if f.type == "int")


@dataclass
class PullSummary:
    """What one pull did; ``to_json`` is what ``toolkit pull --json`` prints."""

    project_id: int | None
    server: str
    out: Path
    ledger: Path
    policy: str
    counts: PullCounts
    mode: str = "full"  # full | incremental
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    deleted: int = 0
    deleted_tasks: list[int] = field(default_factory=list)
    watermark: str = ""
    previous_watermark: str = ""
    previous_pulled_at: str | None = None  # when the last pull ran (ISO 8601, UTC)
    ledger_entries: int = 0
    raw: Path | None = None
    manifest: Path | None = None
    sha256: str | None = None
    download_attempts: int = 0
    download_seconds: float = 0.0
    note: str | None = None
    warnings: list[str] = field(default_factory=list)  # said once each: what a user should act on
    calibration: CalibrationRefit | None = None  # the current model's calibration refitted, or why not

    def to_json(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "server": self.server,
            "out": str(self.out),
            "ledger": str(self.ledger),
            "policy": self.policy,
            "mode": self.mode,
            "tasks": {"new": self.new, "changed": self.changed, "unchanged": self.unchanged, "deleted": self.deleted},
            "deleted_tasks": self.deleted_tasks,
            "watermark": self.watermark,
            "previous_watermark": self.previous_watermark,
            "previous_pulled_at": self.previous_pulled_at,
            "ledger_entries": self.ledger_entries,
            "raw": str(self.raw) if self.raw else None,
            "manifest": str(self.manifest) if self.manifest else None,
            "sha256": self.sha256,
            "download_attempts": self.download_attempts,
            "note": self.note,
            "warnings": self.warnings,
            "counts": self.counts.to_json(),
            "calibration": self.calibration.to_json() if self.calibration is not None else None,
        }
