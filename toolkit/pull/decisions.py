"""The adjudicators' decisions, read from the review project (``toolkit adjudicate``) for pull to take.

The review project is read through its export (as pull reads the main project), not
its task listing, which is several times slower. A review task's newest submitted
annotation is the article's answer (a second reviewer's later answer wins); the other
submitted answers are kept as ``not_chosen`` for the ledger. Its spans go through the
same span hygiene as any annotation's, against the review task's text. A review task
nobody submitted yet is a pending decision. A review task is of a main task
(``main_task_id``), not of an article id, which two main tasks may share.
``as_dict``/``from_dict`` keep the decisions with a raw pull, so that a replay
(``pull --from-raw``) takes them as the live pull did.

A review task whose anonymous ids another annotator secret made (its ``ids_key`` is not
this pull's) shows versions that cannot be compared with the annotators' now: its
decision is taken without its fingerprint and ids (never called stale for it), and the
pull says so once.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.annotations.identities import AnnotatorIds, strip_identities
from toolkit.annotations.policies import choose_annotation, newest_key, submitted
from toolkit.annotations.spans import PulledSpan, clean_annotation
from toolkit.config import Config
from toolkit.labelstudio.client import ServerSettings
from toolkit.labelstudio.results import article_controls, count_labelled, read_result
from toolkit.labelstudio.review import export_review_tasks, find_review_project

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass(frozen=True)
class OtherDecision:
    """A submitted review answer that is not the article's: an older one, by another reviewer or the same."""

    annotation_id: int | None
    by: str
    spans: int  # labelled spans it has

    def as_dict(self) -> dict[str, Any]:
        return {"annotation_id": self.annotation_id, "by": self.by, "spans": self.spans}


@dataclass(frozen=True)
class Adjudication:
    """One article's review task and, once submitted, its decision."""

    review_task_id: int
    text_sha256: str | None  # of the text the review task shows
    versions: str | None  # the fingerprint of the annotator versions it shows (None: not comparable)
    resolves: list[int] = field(default_factory=list)  # their annotation ids in the main project
    annotators: list[str] = field(default_factory=list)
    annotation_id: int | None = None  # None: not adjudicated yet
    by: str | None = None
    spans: list[PulledSpan] = field(default_factory=list)
    dropped: int = 0  # the decision's spans that did not pass the span hygiene
    not_chosen: list[OtherDecision] = field(default_factory=list)  # the other submitted answers, newest first

    @property
    def decided(self) -> bool:
        return self.annotation_id is not None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the manifest of a raw pull; ``from_dict`` reads it back."""
        return {
            "review_task_id": self.review_task_id,
            "text_sha256": self.text_sha256,
            "versions": self.versions,
            "resolves": self.resolves,
            "annotators": self.annotators,
            "annotation_id": self.annotation_id,
            "by": self.by,
            "spans": [span.as_dict() for span in self.spans],
            "dropped": self.dropped,
            "not_chosen": [other.as_dict() for other in self.not_chosen],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Adjudication:
        return cls(
            **{
                **data,
                "spans": [PulledSpan(**span) for span in data.get("spans") or []],
                "not_chosen": [OtherDecision(**other) for other in data.get("not_chosen") or []],
            }
        )


@dataclass
class Adjudications:
    """The review project's tasks by main task id, and what a pull says about them once."""

    by_task: dict[int, Adjudication] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_adjudications(
    client: LabelStudio, settings: ServerSettings, config: Config, ids: AnnotatorIds, scratch: Path, main_id: int
) -> Adjudications | None:
    """The adjudications of project ``main_id``; None when it has no review project.

    The review project's export is downloaded to ``scratch`` (a private file, removed once read).
    """
    located = find_review_project(client, settings, config, main_id)
    review = located.project
    if review is None:
        return None
    adjudications = Adjudications()
    if located.note:
        adjudications.warnings.append(located.note)
    other_secret = 0
    controls = article_controls(getattr(review, "label_config", None))
    found = adjudications.by_task
    tasks = export_review_tasks(
        client, settings, review.id, scratch, timeout=config.pull.timeout, retries=config.pull.retries
    )
    with closing(tasks):
        for task in tasks:
            task = strip_identities(task)
            data = task.get("data") if isinstance(task.get("data"), dict) else {}
            main_task_id, text = data.get("main_task_id"), data.get("text")
            if not isinstance(main_task_id, int) or not isinstance(text, str) or not text:
                continue
            base = {
                "review_task_id": task["id"],
                "text_sha256": data.get("text_sha256"),
                "versions": data.get("versions"),
                "resolves": [i for i in data.get("resolves") or [] if isinstance(i, int)],
                "annotators": [str(a) for a in data.get("annotators") or []],
            }
            if data.get("ids_key") not in (None, ids.key):
                # Versions named by another secret's ids: not comparable with this pull's.
                other_secret += 1
                base.update(versions=None, annotators=[])
            answers = [a for a in task.get("annotations") or [] if isinstance(a, dict)]
            annotation = choose_annotation(answers)
            if annotation is None:
                found.setdefault(main_task_id, Adjudication(**base))
                continue
            by = ids(annotation.get("completed_by"))
            clean = clean_annotation(
                read_result(annotation.get("result"), controls).labelled,
                text,
                config,
                provenance={"annotation_id": annotation.get("id"), "annotator": by},
            )
            for span in clean.spans:
                span.origin = "adjudication"
            # The newest submitted answer wins; every other one goes to the ledger (pull).
            others = [
                OtherDecision(
                    other.get("id"), ids(other.get("completed_by")), count_labelled(other.get("result"), controls)
                )
                for other in sorted(submitted(answers), key=newest_key, reverse=True)
                if other is not annotation
            ]
            found[main_task_id] = Adjudication(
                **base,
                annotation_id=annotation.get("id"),
                by=by,
                spans=clean.spans,
                dropped=len(clean.dropped),
                not_chosen=others,
            )
    if other_secret:
        adjudications.warnings.append(
            f"the anonymous ids in {other_secret:,} review task{'s' * (other_secret != 1)} were made with another "
            "annotator secret: their decisions are taken, but not checked for changes since; run with the secret "
            "that made them (set TOOLKIT_ANNOTATOR_SECRET to the team's, or use the pull.secret_file of the "
            "machine that ran adjudicate)"
        )
    return adjudications
