"""Pull's view: a ``PullSummary`` as a render ``Document`` (``toolkit.render``), what ``toolkit pull`` prints.

The headline says what was written; under it, every count of the pull (tasks, annotations,
spans as a sum that adds up), what was dropped or repaired and why, the ledger, the kept
raw pull, and what a user should act on. The first ``SHOWN`` problems and warnings are
listed; the rest are in the ledger (problems) or in ``--json`` (warnings).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.render import Block, Bullets, Code, Data, Document, Line, Section, count, plural

if TYPE_CHECKING:
    from toolkit.pull.refit import CalibrationRefit
    from toolkit.pull.summary import PullCounts, PullSummary

SHOWN = 20


def _when(iso: str | None) -> str:
    """``2026-03-01T09:14:03.123456+00:00`` -> ``2026-03-01 09:14:03 UTC``."""
    if not iso:
        return "unknown"
    return iso[:19].replace("T", " ") + (" UTC" if iso.endswith(("+00:00", "Z")) else "")


def since_line(summary: PullSummary) -> str:
    """What changed since the last pull: when it ran, and the newest change it had seen
    (the data watermark: the latest ``updated_at`` of its tasks, not a time of the pull)."""
    return (
        f"since the last pull (run {_when(summary.previous_pulled_at)}; newest change it saw "
        f"{_when(summary.previous_watermark)}): {plural(summary.counts.tasks, 'task')}, {count(summary.new)} new, "
        f"{count(summary.changed)} changed, {count(summary.unchanged)} unchanged, "
        f"{count(summary.deleted)} deleted in Label Studio (dropped)"
    )


def span_line(counts: PullCounts) -> str:
    """The spans of submitted annotations, as a sum that visibly adds up, and what the used
    ones became in the output (one written span stands for agreeing annotators' spans, or
    for an adjudicator's decision)."""
    dropped = sum(counts.spans_dropped.values())
    line = (
        f"spans: {plural(counts.spans_in, 'span')} in submitted annotations = {count(counts.spans_used)} used "
        f"+ {count(dropped)} dropped + {count(counts.spans_not_chosen)} in annotations not chosen"
    )
    if counts.spans_out != counts.spans_used:
        line += (
            f"; the {count(counts.spans_used)} used are {plural(counts.spans_out, 'span')} written "
            "(one for the same span of several annotators, or an adjudicator's decision)"
        )
    repaired = sum(counts.spans_repaired.values())
    return line + f"; {count(repaired)} repaired, {count(counts.overlapping_spans)} overlapping"


def _reasons(counter: Counter[str]) -> str:
    """``reason n, reason n`` (most common first)."""
    return ", ".join(f"{reason} {count(n)}" for reason, n in counter.most_common())


def _first(items: list[str]) -> str:
    more = len(items) - SHOWN
    return ", ".join(items[:SHOWN]) + (f" and {count(more)} more" if more > 0 else "")


def headline(summary: PullSummary) -> str:
    counts = summary.counts
    per_annotator = " (one per annotator)" if summary.policy == "all" else ""
    return (
        f"Wrote {plural(counts.records, 'annotated article')}{per_annotator} with {plural(counts.spans_out, 'span')} "
        f"to {summary.out} (policy {summary.policy})"
    )


def _totals(summary: PullSummary) -> list[Line]:
    """Tasks, annotations and spans: every one counted once."""
    counts = summary.counts
    lines = [Line((since_line(summary),))] if summary.mode == "incremental" else []
    all_dropped = (
        f"; {count(counts.all_spans_dropped)} whose every span was dropped, in the ledger"
        if counts.all_spans_dropped
        else ""
    )
    lines.append(
        Line(
            (
                f"tasks: {count(counts.tasks)} exported, {count(counts.tasks_with_records)} with human annotations, "
                f"{count(counts.not_annotated)} not annotated, {count(counts.only_skipped)} only skipped, "
                f"{count(counts.no_text)} without text",
            )
        )
    )
    lines.append(
        Line(
            (
                f"annotations: {count(counts.annotations)} submitted "
                f"({count(counts.empty_annotations)} with no spans, kept{all_dropped}), "
                f"{count(counts.skipped_annotations)} skipped, {plural(counts.drafts, 'draft')} (not used), "
                f"{count(counts.not_chosen_annotations)} not chosen by the policy",
            )
        )
    )
    lines.append(Line((span_line(counts),)))
    if counts.spans_dropped:
        lines.append(Line(("spans dropped: ", Data(_reasons(counts.spans_dropped))), note=True))
    if counts.spans_repaired:
        lines.append(Line(("spans repaired: ", Data(_reasons(counts.spans_repaired)))))
    return lines


def _decisions(counts: PullCounts) -> list[Line]:
    """Several annotators: agreed, adjudicated, disputed, and the decisions not taken."""
    lines = []
    if counts.agreed or counts.adjudicated or counts.disputed:
        lines.append(
            Line(
                (
                    f"several annotators: {count(counts.agreed)} agreed, {count(counts.adjudicated)} adjudicated "
                    f"(the decision is the answer, whatever the policy), {count(counts.disputed)} still disputed "
                    "(the policy decides; `toolkit adjudicate` sends them for review)",
                )
            )
        )
    if changed := counts.changed_after_adjudication:
        said = (
            f"{plural(len(changed), 'adjudicated article')} changed by an annotator after adjudication "
            "(the decision stands, decision.stale): "
        )
        lines.append(Line((said, Data(_first(changed))), note=True))
    if counts.adjudications_not_chosen:
        said = (
            f"{plural(counts.adjudications_not_chosen, 'earlier review decision')}: a review task's newest "
            "submitted decision is taken, the others are not (in the ledger)"
        )
        lines.append(Line((said,), note=True))
    if counts.adjudications_without_annotations:
        said = (
            f"{plural(counts.adjudications_without_annotations, 'adjudication')} on a task with no submitted "
            "annotation left: no record (in the ledger)"
        )
        lines.append(Line((said,), note=True))
    if counts.adjudications_text_changed:
        said = (
            f"{plural(counts.adjudications_text_changed, 'adjudication')} made on another text than the task's "
            "now: not taken (in the ledger)"
        )
        lines.append(Line((said,), note=True))
    return lines


def _repairs(counts: PullCounts) -> list[Block]:
    """Edited texts, model spans re-anchored or dropped, other controls' spans, and the problems."""
    blocks: list[Block] = []
    if counts.texts_changed:
        said = (
            f"{plural(counts.texts_changed, 'task')} with the text edited in Label Studio after the push: "
            "spans re-anchored where they fit"
        )
        blocks.append(Line((said,), note=True))
    repaired, dropped = counts.prediction_spans_repaired, counts.prediction_spans_dropped
    if repaired or dropped:
        reasons = "".join(
            f"; {title}: {_reasons(counter)}"
            for title, counter in (("dropped", dropped), ("re-anchored", repaired))
            if counter
        )
        said = (
            f"predicted spans: {count(sum(repaired.values()))} re-anchored, "
            f"{count(sum(dropped.values()))} dropped (in the ledger)"
        )
        blocks.append(Line((said, Data(reasons)), note=True))
    if counts.other_control_spans:
        said = "spans of other controls than the article text's (not used, in the ledger): "
        blocks.append(Line((said, Data(_reasons(counts.other_control_spans))), note=True))
    if counts.problems:
        problems = [Line((Data(problem),)) for problem in counts.problems[:SHOWN]]
        if len(counts.problems) > SHOWN:
            problems.append(Line((f"... and {count(len(counts.problems) - SHOWN)} more (all in the ledger)",)))
        blocks.append(Bullets(tuple(problems)))
    return blocks


def calibration_line(refit: CalibrationRefit) -> str:
    """One line: the current model's calibration refitted on the pulled decisions, or why not."""
    if refit.calibration_id is not None:
        return (
            f"calibration of {refit.model} refitted on {plural(refit.decisions, 'decision')} "
            f"({plural(refit.articles, 'article')}): id {refit.calibration_id}"
            + (f" (was {refit.previous_id})" if refit.previous_id else "")
        )
    kept = f"; kept {refit.previous_id}" if refit.previous_id else ""
    of = f" of {refit.model}" if refit.model else ""
    return f"calibration{of} not refitted: {refit.reason}{kept}"


def _files(summary: PullSummary) -> list[Line]:
    """The ledger, the kept raw pull, and what a user should act on."""
    lines = [Line(("ledger: ", plural(summary.ledger_entries, "entry", "entries"), " in ", Code(str(summary.ledger))))]
    if summary.raw is not None:
        sha256 = summary.sha256[:12] if summary.sha256 else "?"
        lines.append(Line(("raw pull kept: ", Code(str(summary.raw)), f" (sha256 {sha256}..., manifest next to it)")))
    if summary.calibration is not None:
        lines.append(Line((calibration_line(summary.calibration),)))
    if summary.note:
        lines.append(Line((f"note: {summary.note}",), note=True))
    for warning in summary.warnings[:SHOWN]:
        lines.append(Line((f"warning: {warning}",), note=True))
    if len(summary.warnings) > SHOWN:
        lines.append(Line((f"... and {count(len(summary.warnings) - SHOWN)} more warnings (in --json)",), note=True))
    return lines


def pulled(summary: PullSummary) -> Document:
    """Everything ``toolkit pull`` says of ``summary``: the headline, then the counts under it."""
    blocks = [*_totals(summary), *_decisions(summary.counts), *_repairs(summary.counts), *_files(summary)]
    return Document(headline(summary), (Section("counts", None, tuple(blocks)),))


def next_step(summary: PullSummary, *, config: Path, export_name: str) -> Section:
    """The command that turns the pulled articles into a dataset."""
    command = f"toolkit export {summary.out} --config {config} --out exports/{export_name}"
    return Section("next", None, (Line(("Next: ", Code(command))),))
