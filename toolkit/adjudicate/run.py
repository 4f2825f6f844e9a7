"""Adjudicate: the articles annotators disagree on go to a review project, once each.

1. The main project is exported as pull exports it (``toolkit.labelstudio.export``) and
   each task's versions are read the way pull reads them: each annotator's newest
   submitted annotation (``newest_per_annotator``), named by anonymous id, its spans
   through pull's span hygiene (``toolkit.annotations.spans``).
2. Each article with two or more annotators is compared
   (``toolkit.annotations.disagreement``): agreed (auto-accepted), or disputed with the
   kinds of its disagreements. One-annotator articles are left out.
3. The review project (``toolkit.labelstudio.review``) is read: which articles have a
   review task, which are adjudicated, which show versions that changed since.
4. New disputes are imported as review tasks with push's machinery
   (``toolkit.labelstudio.tasks``: a batch sent once, looked up by article id after a
   failure whose outcome is unknown, copies removed afterwards), so a rerun after a
   server error half-way never leaves two review tasks for an article. A review task not
   adjudicated yet whose versions changed is refreshed (its prediction sets replaced,
   its data last, so that an interrupted refresh is done again by the next run); one
   adjudicated already is reported, as is one whose article text changed.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.annotations.disagreement import KINDS, Comparison, compare, prefill, versions_fingerprint
from toolkit.annotations.identities import AnnotatorIds, annotator_secret, strip_identities
from toolkit.annotations.policies import newest_per_annotator
from toolkit.annotations.spans import ArticleControls, article_controls, clean_spans
from toolkit.config import Config
from toolkit.errors import ProjectError, ServerError
from toolkit.io.text import plural
from toolkit.labelstudio.client import ServerSettings, connect
from toolkit.labelstudio.export import download_export, iter_tasks
from toolkit.labelstudio.labeling import text_sha256
from toolkit.labelstudio.project import find_project
from toolkit.labelstudio.review import (
    Version,
    check_labels,
    disputes_text,
    ensure_review_project,
    find_review_project,
    iter_review_tasks,
    review_predictions,
    review_task_payload,
    review_title,
    start_from_prefill,
    update_task_data,
)
from toolkit.labelstudio.tasks import (
    delete_prediction,
    delete_task,
    encode,
    find_copies,
    import_predictions,
    import_tasks,
    read_state,
)
from toolkit.progress import OnProgress, emit
from toolkit.records import Span

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio


@dataclass
class Article:
    """One main-project article with several annotators, compared."""

    article_id: str
    task_id: int
    data: dict[str, Any]
    text_sha256: str
    versions: list[Version]
    comparison: Comparison
    fingerprint: str


@dataclass
class ReviewTask:
    task_id: int
    data: dict[str, Any]
    adjudicated: bool


@dataclass
class AdjudicateResult:
    """What adjudicate found and did; with ``dry_run`` what it would do."""

    dry_run: bool = False
    project_id: int = 0
    review_title: str = ""
    review_project_id: int | None = None
    review_url: str = ""
    review_created: bool = False
    articles: int = 0  # with at least one submitted annotation
    single: int = 0  # one annotator: left out
    agreed: int = 0  # auto-accepted
    disputed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # kind -> disputed articles with it
    empty_vs_spans: int = 0  # disputed articles where "no entities" meets spans
    to_send: list[str] = field(default_factory=list)  # article ids of new disputes
    sent: int = 0  # review tasks created (with dry_run: 0)
    already: int = 0  # disputes with a review task
    adjudicated: int = 0  # of those, submitted by the adjudicator
    pending: int = 0
    to_refresh: list[str] = field(default_factory=list)  # not adjudicated, versions changed
    refreshed: int = 0
    changed_after: list[str] = field(default_factory=list)  # adjudicated, then an annotator changed
    text_changed: list[str] = field(default_factory=list)  # the article's text is not the review task's
    no_longer_disputed: list[str] = field(default_factory=list)  # a review task, but the versions agree now
    copies_removed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "project_id": self.project_id,
            "review_project": {
                "title": self.review_title,
                "id": self.review_project_id,
                "created": self.review_created,
            },
            "articles": self.articles,
            "single_annotator": self.single,
            "agreed": self.agreed,
            "disputed": self.disputed,
            "kinds": {kind: self.kinds.get(kind, 0) for kind in KINDS},
            "no_entities_vs_spans": self.empty_vs_spans,
            "new_review_tasks": len(self.to_send) if self.dry_run else self.sent,
            "with_review_task": self.already,
            "adjudicated": self.adjudicated,
            "pending": self.pending,
            "refreshed": len(self.to_refresh) if self.dry_run else self.refreshed,
            "changed_after_adjudication": self.changed_after,
            "text_changed": self.text_changed,
            "no_longer_disputed": self.no_longer_disputed,
            "copies_removed": self.copies_removed,
        }


def adjudicate(
    *, config: Config, settings: ServerSettings, dry_run: bool = False, on_progress: OnProgress | None = None
) -> AdjudicateResult:
    """Find the disagreements of the project and bring the review project up to date with them.

    With ``dry_run`` nothing is written: the result says what agrees, what is disputed
    (by kind) and what would be sent. Progress: a note while exporting, the bytes
    downloaded ("download"), the review tasks sent ("review tasks").
    """
    result = AdjudicateResult(dry_run=dry_run, review_title=review_title(config))
    ids = AnnotatorIds(annotator_secret(config.pull.secret_file))
    client = connect(settings, timeout=config.pull.timeout, check=False)
    main = find_project(client, settings, config)
    if main is None:
        raise ProjectError(
            f"no project titled {config.project.title!r} on {settings.public_url}",
            hint="push articles first: `toolkit push FILE.jsonl --config CONFIG`",
        )
    result.project_id = main.id
    emit(on_progress, "export", note="Exporting the project")
    disputed = list(_read_articles(client, settings, config, main, ids, result, on_progress))
    review = find_review_project(client, settings, config)
    existing: dict[str, ReviewTask] = {}
    if review is not None:
        check_labels(review, main)
        existing = _read_review(client, settings, review.id)
        result.review_project_id = review.id
    _plan(result, disputed, existing)
    if dry_run:
        return result
    if review is None and not result.to_send:
        return result  # nothing disputed: no empty review project
    review, result.review_created = ensure_review_project(client, settings, config, main, found=review)
    result.review_project_id = review.id
    result.review_url = f"{settings.public_url}/projects/{review.id}"
    by_id = {article.article_id: article for article in disputed}
    try:
        _send(client, settings, config, review.id, [by_id[a] for a in result.to_send], result, on_progress)
        _refresh(client, settings, config, review.id, [(by_id[a], existing[a]) for a in result.to_refresh], result)
        if result.sent or existing:
            start_from_prefill(client, settings, review.id)
    except ServerError as error:
        raise ServerError(
            f"{error.message}; so far this run created {result.sent:,} of {plural(len(result.to_send), 'review task')} "
            f"and refreshed {result.refreshed:,} of {len(result.to_refresh):,}",
            hint=(error.hint + "; then " if error.hint else "")
            + "run `toolkit adjudicate` again: it sends only what is missing",
            status=error.status,
        ) from None
    return result


def _read_articles(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    main: Any,
    ids: AnnotatorIds,
    result: AdjudicateResult,
    on_progress: OnProgress | None,
) -> Iterator[Article]:
    """The disputed articles of the main project; the others are counted in ``result``."""
    controls = article_controls(getattr(main, "label_config", None))
    with tempfile.TemporaryDirectory(prefix=".toolkit-adjudicate-") as folder:
        download = download_export(
            client,
            settings,
            main.id,
            Path(folder) / "export.json.gz",
            timeout=config.pull.timeout,
            retries=config.pull.retries,
            route=config.pull.export,
            on_progress=on_progress,
        )
        for task in iter_tasks(download.path):
            article = _article(strip_identities(task), config, ids, controls)
            if article is None:
                continue
            result.articles += 1
            status = article.comparison.status
            if status == "single":
                result.single += 1
            elif status == "agreed":
                result.agreed += 1
            else:
                result.disputed += 1
                result.kinds.update(set(article.comparison.kinds))
                result.empty_vs_spans += article.comparison.empty_vs_spans
                yield article


def _article(task: dict[str, Any], config: Config, ids: AnnotatorIds, controls: ArticleControls) -> Article | None:
    """A task's versions compared; None for a task nobody submitted or without text."""
    data = task.get("data") if isinstance(task.get("data"), dict) else {}
    text = data.get("text")
    task_id = task.get("id")
    if not isinstance(text, str) or not text or not isinstance(task_id, int):
        return None
    annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and isinstance(a.get("id"), int)]
    voters = newest_per_annotator(annotations, lambda annotation: ids(annotation.get("completed_by"))).chosen
    if not voters:
        return None
    versions: list[Version] = []
    for annotation in voters:
        annotator = ids(annotation.get("completed_by"))
        clean = clean_spans(
            annotation.get("result"),
            text,
            labels=config.labels,
            overlaps=config.pull.overlaps,
            window=config.pull.reanchor_window,
            controls=controls,
        )
        spans = [Span(start=s.start, end=s.end, label=s.label, text=s.text) for s in clean.spans]
        versions.append(Version(annotator, annotation["id"], spans))
    by_annotator = {version.annotator: version.spans for version in versions}
    return Article(
        article_id=str(data.get("article_id") or f"ls-task-{task_id}"),
        task_id=task_id,
        data=data,
        text_sha256=text_sha256(text),
        versions=versions,
        comparison=compare(by_annotator),
        fingerprint=versions_fingerprint(by_annotator),
    )


def _read_review(client: LabelStudio, settings: ServerSettings, project_id: int) -> dict[str, ReviewTask]:
    """The review project's tasks by article id (the first, when a copy is still there)."""
    found: dict[str, ReviewTask] = {}
    for task in iter_review_tasks(client, settings, project_id):
        task = strip_identities(task)
        data = task.get("data") or {}
        article_id = data.get("article_id")
        if article_id is None:
            continue
        submitted = any(isinstance(a, dict) and not a.get("was_cancelled") for a in task.get("annotations") or [])
        current = found.get(str(article_id))
        if current is None or (submitted and not current.adjudicated):
            found[str(article_id)] = ReviewTask(task["id"], data, submitted)
    return found


def _plan(result: AdjudicateResult, disputed: list[Article], existing: dict[str, ReviewTask]) -> None:
    disputed_ids = set()
    for article in disputed:
        disputed_ids.add(article.article_id)
        review = existing.get(article.article_id)
        if review is None:
            result.to_send.append(article.article_id)
            continue
        result.already += 1
        result.adjudicated += review.adjudicated
        result.pending += not review.adjudicated
        if review.data.get("text_sha256") != article.text_sha256:
            result.text_changed.append(article.article_id)
        elif review.data.get("versions") != article.fingerprint:
            (result.changed_after if review.adjudicated else result.to_refresh).append(article.article_id)
    for article_id, review in existing.items():
        if article_id not in disputed_ids and not review.adjudicated:
            result.no_longer_disputed.append(article_id)


def _payload(config: Config, article: Article) -> dict[str, Any]:
    by_annotator = {version.annotator: version.spans for version in article.versions}
    return review_task_payload(
        article_id=article.article_id,
        main_task_id=article.task_id,
        data=article.data,
        text_sha256=article.text_sha256,
        versions=article.versions,
        fingerprint=article.fingerprint,
        disputes=disputes_text(article.comparison.disputed, article.comparison.agreed, article.data["text"]),
        prefill=prefill(by_annotator, config.adjudicate.prefill),
    )


def _send(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    project_id: int,
    articles: list[Article],
    result: AdjudicateResult,
    on_progress: OnProgress | None,
) -> None:
    """Import the new review tasks, then remove any copy an earlier interrupted run left."""
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    if articles:
        emit(on_progress, "review tasks", 0, total=len(articles))
    items = ((article.article_id, encode(_payload(config, article), max_bytes)) for article in articles)
    for batch in import_tasks(
        client, settings, project_id, items, batch_size=config.push.batch_size, max_bytes=max_bytes
    ):
        result.sent += batch.items
        emit(on_progress, "review tasks", batch.items)
    # A batch the server was still writing when this run read the project can land twice.
    copies = find_copies(read_state(client, settings, project_id))
    for task_id in copies.tasks:
        result.copies_removed += delete_task(client, settings, task_id)
    for prediction_id in copies.predictions:
        delete_prediction(client, settings, prediction_id)


def _refresh(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    project_id: int,
    pairs: list[tuple[Article, ReviewTask]],
    result: AdjudicateResult,
) -> None:
    """Replace the prediction sets of review tasks whose versions changed; their data last."""
    if not pairs:
        return
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    held = read_state(client, settings, project_id).predictions
    for article, review in pairs:
        for prediction_ids in held.get(review.task_id, {}).values():
            for prediction_id in prediction_ids:
                delete_prediction(client, settings, prediction_id)
        by_annotator = {version.annotator: version.spans for version in article.versions}
        start = prefill(by_annotator, config.adjudicate.prefill)
        sets = review_predictions(article.versions, start, article.data["text"], task_id=review.task_id)
        items = (((review.task_id, s["model_version"]), encode(s, max_bytes)) for s in sets)
        for _ in import_predictions(
            client, settings, project_id, items, batch_size=config.push.batch_size, max_bytes=max_bytes
        ):
            pass
        update_task_data(client, settings, review.task_id, _payload(config, article)["data"])
        result.refreshed += 1


__all__ = ["AdjudicateResult", "adjudicate"]
