"""Overlap: how many annotators the labeling stream serves a task to (``project.overlap``).

Label Studio keeps it in two project settings: ``maximum_annotations`` (annotators per
overlapping task) and ``overlap_cohort_percentage`` (the share of tasks that overlap; the
others get one annotation). On a change the server itself picks the overlapping tasks
(those with the most annotations first) and counts new imports in. With the default,
``maximum_annotations=1``, the stream never serves an annotated task to anyone else.

``show_overlap_first`` is left as it is (off): it would make the stream serve the overlapping
share first, whatever its scores, in place of push.order's uncertainty order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from toolkit.config import OverlapConfig
from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass(frozen=True)
class Overlap:
    """A project's overlap settings, as Label Studio keeps them."""

    annotators: int
    percentage: int

    @classmethod
    def of(cls, project: Any) -> Overlap:
        return cls(
            annotators=getattr(project, "maximum_annotations", None) or 1,
            percentage=getattr(project, "overlap_cohort_percentage", None) or 100,
        )

    @classmethod
    def wanted(cls, overlap: OverlapConfig) -> Overlap:
        return cls(annotators=overlap.annotators, percentage=overlap.percentage)


@dataclass(frozen=True)
class OverlapChange:
    before: Overlap
    after: Overlap


def overlap_change(project: Any, overlap: OverlapConfig | None) -> OverlapChange | None:
    """What setting ``overlap`` would change in the project; None when nothing (or none is configured)."""
    if overlap is None:
        return None
    before, after = Overlap.of(project), Overlap.wanted(overlap)
    return None if before == after else OverlapChange(before, after)


def apply_overlap(
    client: LabelStudio, settings: ServerSettings, project: Any, overlap: OverlapConfig | None
) -> OverlapChange | None:
    """Bring the project's overlap settings to ``overlap``; the change made, or None when none was needed."""
    change = overlap_change(project, overlap)
    if change is None:
        return None
    call(
        settings,
        "set the project's overlap (maximum_annotations, overlap_cohort_percentage)",
        client.projects.update,
        id=project.id,
        maximum_annotations=change.after.annotators,
        overlap_cohort_percentage=change.after.percentage,
        request_options=NO_RETRY,
    )
    return change
