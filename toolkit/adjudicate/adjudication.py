"""Adjudicate: the articles annotators disagree on go to a review project, once each.

1. The main project is exported as pull exports it (``toolkit.labelstudio.export``) and
   each task's versions are read the way pull reads them: each annotator's newest
   submitted annotation (``newest_per_annotator``), named by anonymous id, its spans
   through pull's span hygiene (``toolkit.annotations.spans``).
2. Each article with two or more annotators is compared
   (``toolkit.annotations.disagreement``): agreed (auto-accepted), or disputed with the
   kinds of its disagreements. One-annotator articles are left out.
3. The review project (``toolkit.labelstudio.review``, found by the main project's id) is
   read: which main tasks have a review task (a review task is of a main task: two tasks
   may share an article id), which are adjudicated, which show versions that changed
   since. A review task whose anonymous ids another annotator secret made is not compared
   (its versions would all look changed): it is reported once, with what to do.
4. New disputes are imported as review tasks with push's machinery
   (``toolkit.labelstudio.tasks``: a batch sent once, looked up by article id after a
   failure whose outcome is unknown, copies removed afterwards), so a rerun after a
   server error half-way never leaves two review tasks for an article. A review task not
   adjudicated yet whose versions changed is refreshed (its prediction sets replaced,
   its data last, so that an interrupted refresh is done again by the next run); one
   adjudicated already is reported, as is one whose article text changed.

One run at a time writes a main project's review project: a second is refused naming the
first (a lock file per server and main project under ``pull.state_dir``). Runs on two
machines are not held apart; a review task both sent is removed once as a copy, and
each run counts only the review tasks of its own that are left.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.annotations.disagreement import KINDS, Comparison, compare, prefill, versions_fingerprint
from toolkit.annotations.identities import AnnotatorIds, annotator_secret, strip_identities
from toolkit.annotations.policies import newest_per_annotator
from toolkit.annotations.spans import clean_annotation
from toolkit.config import Config
from toolkit.errors import ServerError
from toolkit.io.locks import output_lock
from toolkit.labelstudio.client import ServerSettings, connect
from toolkit.labelstudio.export import download_export, iter_tasks
from toolkit.labelstudio.labeling import text_sha256
from toolkit.labelstudio.project import project_dir, require_project
from toolkit.labelstudio.results import ArticleControls, article_controls, read_result
from toolkit.labelstudio.review import (
    Version,
    check_labels,
    disputes_html,
    ensure_review_project,
    find_review_project,
    is_disputes_html,
    iter_review_tasks,
    review_key,
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
from toolkit.render.format import plural

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


@dataclass(frozen=True)
class Settled:
    """An article whose annotators agree (or only one is left): what tells whether its versions changed."""

    text_sha256: str
    fingerprint: str


@dataclass
class ReviewTask:
    task_id: int
    data: dict[str, Any]
    adjudicated: bool

    @property
    def ids_key(self) -> str | None:
        """Which annotator secret made its anonymous ids (None: a review task from before this was kept)."""
        return self.data.get("ids_key")


@dataclass
class AdjudicateResult:
    """What adjudicate found and did; with ``dry_run`` what it would do."""

    dry_run: bool = False
    project_id: int = 0
    review_title: str = ""
    review_project_id: int | None = None
    review_url: str = ""
    review_created: bool = False
    review_note: str | None = None  # the review project's title is no longer the config's
    articles: int = 0  # with at least one submitted annotation
    single: int = 0  # one annotator: left out
    agreed: int = 0  # auto-accepted
    disputed: int = 0
    kinds: Counter[str] = field(default_factory=Counter)  # kind -> disputed articles with it
    empty_vs_spans: int = 0  # disputed articles where "no entities" meets spans
    to_send: list[str] = field(default_factory=list)  # article ids of new disputes
    sent: int = 0  # review tasks created and left (a copy removed is not counted; with dry_run: 0)
    already: int = 0  # disputes with a review task
    adjudicated: int = 0  # of those, submitted by the adjudicator
    pending: int = 0
    to_refresh: list[str] = field(default_factory=list)  # not adjudicated, versions changed
    refreshed: int = 0
    changed_after: list[str] = field(default_factory=list)  # adjudicated, then an annotator changed
    text_changed: list[str] = field(default_factory=list)  # the article's text is not the review task's
    no_longer_disputed: list[str] = field(default_factory=list)  # a review task, but the versions agree now
    copies_removed: int = 0
    copies_of_this_run: int = 0  # of those, sent by this run (another sent the same at the same time)
    # Review tasks whose anonymous ids another annotator secret made: not compared.
    other_secret: list[str] = field(default_factory=list)
    ids_key: str = ""  # which secret this run's ids are made with (a keyed fingerprint)
    other_ids_keys: list[str] = field(default_factory=list)
    # Article ids that several main tasks carry: main task ids by article id.
    shared_article_ids: dict[str, list[int]] = field(default_factory=dict)
    # Main task ids of to_send and to_refresh (a review task is of a main task).
    send_tasks: list[int] = field(default_factory=list, repr=False)
    refresh_tasks: list[int] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "project_id": self.project_id,
            "review_project": {
                "title": self.review_title,
                "id": self.review_project_id,
                "created": self.review_created,
                "note": self.review_note,
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
            "copies_of_this_run": self.copies_of_this_run,
            "other_annotator_secret": self.other_secret,
            "shared_article_ids": self.shared_article_ids,
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
    result.ids_key = ids.key
    client = connect(settings, timeout=config.pull.timeout, check=False)
    main = require_project(client, settings, config)
    result.project_id = main.id
    if dry_run:  # writes nothing: no lock
        _adjudicate(client, settings, config, main, ids, result, on_progress)
        return result
    lock_file = review_lock_file(config.pull.state_dir, settings.url, main.id)
    with output_lock(Path(result.review_title), what="review project", lock_file=lock_file):
        _adjudicate(client, settings, config, main, ids, result, on_progress)
    return result


def review_lock_file(state_dir: Path, url: str, main_id: int) -> Path:
    """The lock of the review project of project ``main_id`` on the server at ``url``."""
    return project_dir(state_dir, url, main_id) / "adjudicate.lock"


def _adjudicate(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    main: Any,
    ids: AnnotatorIds,
    result: AdjudicateResult,
    on_progress: OnProgress | None,
) -> None:
    emit(on_progress, "export", note="Exporting the project")
    disputed: list[Article] = []
    # Agreed and one-annotator articles, light: an adjudicated one an annotator changed is reported.
    settled: dict[int, Settled] = {}
    for article in _read_articles(client, settings, config, main, ids, result, on_progress):
        if article.comparison.status == "disputed":
            disputed.append(article)
        else:
            settled[article.task_id] = Settled(article.text_sha256, article.fingerprint)
    found = find_review_project(client, settings, config, main.id)
    review = found.project
    result.review_note = found.note
    existing: dict[int, ReviewTask] = {}
    if review is not None:
        check_labels(review, main)
        existing = _read_review(client, settings, review.id)
        result.review_project_id = review.id
        result.review_title = review.title
    _plan(result, disputed, existing, settled)
    if result.dry_run:
        return
    if review is None and not result.to_send:
        return  # nothing disputed: no empty review project
    review, result.review_created = ensure_review_project(client, settings, config, main, found)
    result.review_project_id = review.id
    result.review_title = review.title
    result.review_url = f"{settings.public_url}/projects/{review.id}"
    by_task = {article.task_id: article for article in disputed}
    to_send = [by_task[t] for t in result.send_tasks]
    to_refresh = [(by_task[t], existing[t]) for t in result.refresh_tasks]
    try:
        _send(client, settings, config, review.id, to_send, ids.key, result, on_progress)
        _refresh(client, settings, config, review.id, to_refresh, ids.key, result)
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


def _read_articles(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    main: Any,
    ids: AnnotatorIds,
    result: AdjudicateResult,
    on_progress: OnProgress | None,
) -> Iterator[Article]:
    """The main project's articles with a submitted annotation, each counted in ``result``."""
    controls = article_controls(getattr(main, "label_config", None))
    tasks_of: dict[str, list[int]] = {}
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
            data = task.get("data") if isinstance(task.get("data"), dict) else {}
            if isinstance(task.get("id"), int):
                tasks_of.setdefault(str(data.get("article_id") or f"ls-task-{task['id']}"), []).append(task["id"])
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
    result.shared_article_ids = {a: sorted(t) for a, t in tasks_of.items() if len(t) > 1}


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
        clean = clean_annotation(read_result(annotation.get("result"), controls).labelled, text, config)
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


def _read_review(client: LabelStudio, settings: ServerSettings, project_id: int) -> dict[int, ReviewTask]:
    """The review project's tasks by main task id (the adjudicated one, when a copy is still there)."""
    found: dict[int, ReviewTask] = {}
    for task in iter_review_tasks(client, settings, project_id):
        task = strip_identities(task)
        data = task.get("data") or {}
        if review_key(data) is None:
            continue
        main_task_id = data["main_task_id"]
        submitted = any(isinstance(a, dict) and not a.get("was_cancelled") for a in task.get("annotations") or [])
        current = found.get(main_task_id)
        if current is None or (submitted and not current.adjudicated):
            found[main_task_id] = ReviewTask(task["id"], data, submitted)
    return found


def _plan(
    result: AdjudicateResult,
    disputed: list[Article],
    existing: dict[int, ReviewTask],
    settled: Mapping[int, Settled] | None = None,
) -> None:
    """What to send, refresh and report, by main task. An adjudicated article whose annotators
    agree now, or that has one annotator left (``settled``), is reported as changed after
    adjudication when its versions changed: pull keeps the decision (``stale``)."""
    disputed_tasks = set()
    for article in disputed:
        disputed_tasks.add(article.task_id)
        review = existing.get(article.task_id)
        if review is None:
            result.to_send.append(article.article_id)
            result.send_tasks.append(article.task_id)
            continue
        result.already += 1
        result.adjudicated += review.adjudicated
        result.pending += not review.adjudicated
        if review.data.get("text_sha256") != article.text_sha256:
            result.text_changed.append(article.article_id)
        elif review.ids_key is not None and review.ids_key != result.ids_key:
            # Its versions are named by ids of another secret: they would all look changed.
            result.other_secret.append(article.article_id)
            if review.ids_key not in result.other_ids_keys:
                result.other_ids_keys.append(review.ids_key)
        elif review.data.get("versions") != article.fingerprint:
            if review.adjudicated:
                result.changed_after.append(article.article_id)
            else:
                result.to_refresh.append(article.article_id)
                result.refresh_tasks.append(article.task_id)
        elif not review.adjudicated and not is_disputes_html(review.data.get("disputes")):
            # Made by an older toolkit (a plain-text box): refreshed into the list the review config shows.
            result.to_refresh.append(article.article_id)
            result.refresh_tasks.append(article.task_id)
    for main_task_id, review in existing.items():
        article_id = str(review.data.get("article_id"))
        if main_task_id not in disputed_tasks and not review.adjudicated:
            result.no_longer_disputed.append(article_id)
        now = (settled or {}).get(main_task_id)
        if now is None or main_task_id in disputed_tasks or not review.adjudicated:
            continue
        if review.data.get("text_sha256") != now.text_sha256:
            result.text_changed.append(article_id)
        elif review.ids_key is not None and review.ids_key != result.ids_key:
            if article_id not in result.other_secret:
                result.other_secret.append(article_id)
            if review.ids_key not in result.other_ids_keys:
                result.other_ids_keys.append(review.ids_key)
        elif review.data.get("versions") != now.fingerprint:
            result.changed_after.append(article_id)


def _payload(config: Config, article: Article, ids_key: str) -> dict[str, Any]:
    by_annotator = {version.annotator: version.spans for version in article.versions}
    start = prefill(by_annotator, config.adjudicate.prefill)
    return review_task_payload(
        article_id=article.article_id,
        main_task_id=article.task_id,
        data=article.data,
        text_sha256=article.text_sha256,
        versions=article.versions,
        fingerprint=article.fingerprint,
        ids_key=ids_key,
        disputes=disputes_html(article.comparison.disputed, article.versions, start, article.data["text"]),
        prefill=start,
    )


def _send(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    project_id: int,
    articles: list[Article],
    ids_key: str,
    result: AdjudicateResult,
    on_progress: OnProgress | None,
) -> None:
    """Import the new review tasks, then remove any copy an earlier interrupted run (or a run on
    another machine at the same moment) left; ``result.sent`` counts this run's that are left."""
    max_bytes = int(config.push.max_request_mb * 1_000_000)
    if articles:
        emit(on_progress, "review tasks", 0, total=len(articles))
    items = (
        (review_key({"main_task_id": article.task_id}), encode(_payload(config, article, ids_key), max_bytes))
        for article in articles
    )
    created: set[int] = set()
    for batch in import_tasks(
        client, settings, project_id, items, batch_size=config.push.batch_size, max_bytes=max_bytes, key=review_key
    ):
        result.sent += batch.items
        created.update(batch.task_ids)
        emit(on_progress, "review tasks", batch.items)
    # A batch the server was still writing when this run read the project can land twice.
    copies = find_copies(read_state(client, settings, project_id, key=review_key))
    for task_id in copies.tasks:
        result.copies_removed += delete_task(client, settings, task_id)
        if task_id in created:  # removed here or by the other run: not this run's review task
            result.copies_of_this_run += 1
            result.sent -= 1
    for prediction_id in copies.predictions:
        delete_prediction(client, settings, prediction_id)


def _refresh(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    project_id: int,
    pairs: list[tuple[Article, ReviewTask]],
    ids_key: str,
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
        update_task_data(client, settings, review.task_id, _payload(config, article, ids_key)["data"])
        result.refreshed += 1


__all__ = ["AdjudicateResult", "adjudicate", "review_lock_file"]
