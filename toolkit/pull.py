"""Pull human annotations from Label Studio: tasks -> annotated articles.

For each task the newest submitted annotation is used (by ``updated_at``). Skipped
annotations (``was_cancelled``) are not human spans and are counted; drafts live
outside ``annotations`` and never reach the output. An annotation with no spans is a
valid "no entities here" answer and is kept. Spans that cannot be trusted (offsets
outside the text, a label the config does not know) are left out and counted, never
dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from toolkit.config import Config
from toolkit.connection import ServerSettings, call, connect
from toolkit.labeling import FROM_NAME
from toolkit.push import find_project
from toolkit.errors import ProjectError
from toolkit.records import AnnotatedArticle, Annotation, Span


@dataclass
class PullStats:
    tasks: int = 0
    articles: int = 0
    not_annotated: int = 0
    skipped_annotations: int = 0
    only_skipped: int = 0
    spans: int = 0
    spans_left_out: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)


def annotator_id(user: Any) -> str:
    """A stable id for the user who made an annotation, without their name or email."""
    if isinstance(user, dict):
        user = user.get("id")
    return f"annotator-{user}" if user is not None else "annotator-unknown"


def _left_out(stats: PullStats, reason: str, where: str) -> None:
    stats.spans_left_out[reason] += 1
    stats.problems.append(f"{where}: {reason}")


def annotation_spans(annotation: dict[str, Any], text: str, config: Config, stats: PullStats, where: str) -> list[Span]:
    """The spans of one annotation, checked against the text and the labels."""
    spans = []
    for item in annotation.get("result") or []:
        if item.get("type") != "labels" or item.get("from_name", FROM_NAME) != FROM_NAME:
            continue
        value = item.get("value") or {}
        start, end, labels = value.get("start"), value.get("end"), value.get("labels") or []
        if not isinstance(start, int) or not isinstance(end, int) or not 0 <= start < end <= len(text):
            _left_out(stats, "offsets outside the text", f"{where} span {start}-{end}")
            continue
        if len(labels) != 1:
            _left_out(stats, "not exactly one label", f"{where} span {start}-{end}")
            continue
        if labels[0] not in config.labels:
            _left_out(stats, "label not in the config", f"{where} span {start}-{end} {labels[0]!r}")
            continue
        if not text[start:end].strip():
            _left_out(stats, "span covers only whitespace", f"{where} span {start}-{end}")
            continue
        spans.append(Span(start=start, end=end, label=labels[0], text=text[start:end], origin=item.get("origin")))
    spans.sort(key=lambda span: (span.start, span.end, span.label))
    return spans


def choose_annotation(annotations: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The newest submitted (not skipped) annotation."""
    submitted = [annotation for annotation in annotations if not annotation.get("was_cancelled")]
    if not submitted:
        return None
    return max(submitted, key=lambda a: (a.get("updated_at") or a.get("created_at") or "", a.get("id") or 0))


def annotated_articles(tasks: list[dict[str, Any]], config: Config, stats: PullStats) -> Iterator[AnnotatedArticle]:
    """Turn exported tasks into annotated articles, counting what is not human data."""
    for task in tasks:
        stats.tasks += 1
        data = task.get("data") or {}
        annotations = task.get("annotations") or []
        stats.skipped_annotations += sum(1 for a in annotations if a.get("was_cancelled"))
        chosen = choose_annotation(annotations)
        if chosen is None:
            if annotations:
                stats.only_skipped += 1
            else:
                stats.not_annotated += 1
            continue
        text = data.get("text")
        where = f"task {task.get('id')}"
        if not isinstance(text, str) or not text:
            stats.problems.append(f"{where}: no text in the task data; task left out")
            continue
        submitted = []
        for annotation in annotations:
            if annotation.get("was_cancelled"):
                continue
            spans = annotation_spans(annotation, text, config, stats, f"{where} annotation {annotation.get('id')}")
            submitted.append(
                Annotation(
                    id=annotation["id"],
                    annotator=annotator_id(annotation.get("completed_by")),
                    spans=spans,
                    created_at=annotation.get("created_at"),
                    updated_at=annotation.get("updated_at"),
                    lead_time=annotation.get("lead_time"),
                    ground_truth=bool(annotation.get("ground_truth")),
                    model_version=(annotation.get("prediction") or {}).get("model_version"),
                )
            )
        final = next(a for a in submitted if a.id == chosen["id"])
        stats.articles += 1
        stats.spans += len(final.spans)
        yield AnnotatedArticle(
            id=str(data.get("article_id") or f"ls-task-{task['id']}"),
            text=text,
            title=data.get("title") or None,
            date=data.get("date") or None,
            source=data.get("source") or None,
            task_id=task["id"],
            spans=final.spans,
            chosen=[final.id],
            annotations=submitted,
        )


def export_tasks(config: Config, settings: ServerSettings) -> tuple[int, list[dict[str, Any]]]:
    """The project's annotated tasks, as Label Studio's JSON export gives them."""
    client = connect(settings)
    project = find_project(client, settings, config)
    if project is None:
        raise ProjectError(
            f"no project titled {config.project.title!r} on {settings.url}",
            hint="push articles first: `toolkit push FILE.jsonl --config CONFIG`",
        )
    # Large projects take minutes to export; the default 60 s timeout is too short.
    chunks = call(
        settings, "export the project", client.projects.exports.download_sync,
        id=project.id, export_type="JSON", download_all_tasks=False,
        request_options={"timeout": 1800, "max_retries": 2},
    )  # fmt: skip
    raw = call(settings, "download the export", b"".join, chunks)
    tasks = json.loads(raw)
    return project.id, tasks


def pull(*, config: Config, settings: ServerSettings, stats: PullStats | None = None) -> list[AnnotatedArticle]:
    """Export the project and return one annotated article per task a human submitted."""
    stats = stats if stats is not None else PullStats()
    _, tasks = export_tasks(config, settings)
    return list(annotated_articles(tasks, config, stats))
