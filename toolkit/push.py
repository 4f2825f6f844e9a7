"""Push predicted articles to Label Studio: predicted articles -> tasks.

Every task carries its article id in ``data.article_id``. Before importing, the
project's existing article ids are read, and only new articles are imported, so a
second push creates no duplicate tasks. Imports are sent without the SDK's automatic
retries, which could send the same batch twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.connection import ServerSettings, call, connect
from toolkit.errors import InputError, ProjectError, ServerError
from toolkit.labeling import labeling_config, task_payload
from toolkit.records import PredictedArticle

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

NO_RETRY = {"max_retries": 0, "timeout": 600}


@dataclass
class PushResult:
    project_id: int = 0
    project_url: str = ""
    project_created: bool = False
    articles: int = 0
    created: int = 0
    unchanged: int = 0
    model_versions: set[str] = field(default_factory=set)


def find_project(client: LabelStudio, settings: ServerSettings, config: Config) -> Any | None:
    """The project by id (when configured) or by exact title; None when there is none."""
    if config.project.id is not None:
        try:
            return call(settings, "read the project", client.projects.get, id=config.project.id)
        except ServerError as error:
            if error.status == 404:
                raise ProjectError(f"[project.id] project {config.project.id} does not exist on {settings.url}") from None
            raise
    # The server's title filter matches substrings: compare exactly here.
    pager = call(settings, "list projects", client.projects.list, title=config.project.title, page_size=100)
    matches = [project for project in pager if project.title == config.project.title]
    if len(matches) > 1:
        ids = ", ".join(str(project.id) for project in matches)
        raise ProjectError(
            f"{len(matches)} projects on {settings.url} are titled {config.project.title!r} (ids {ids})",
            hint="set project.id in the config to the one to use, or rename the others",
        )
    return matches[0] if matches else None


def ensure_project(client: LabelStudio, settings: ServerSettings, config: Config) -> tuple[Any, bool]:
    """Find the project or create it; keep its labeling config in step with the labels."""
    wanted = labeling_config(config)
    project = find_project(client, settings, config)
    if project is None:
        project = call(
            settings, "create the project", client.projects.create,
            title=config.project.title,
            description=config.project.description,
            label_config=wanted,
            expert_instruction=config.project.instructions,
            show_instruction=bool(config.project.instructions),
            show_collab_predictions=True,
            # Not retried: a create whose answer was lost (a 500 after the work, a
            # timeout) would be sent again and leave two projects with one title.
            request_options=NO_RETRY,
        )  # fmt: skip
        return project, True
    if project.label_config != wanted:
        # The server refuses a config that drops labels its annotations use; that
        # refusal reaches the user as a ServerError with the server's reason.
        project = call(settings, "update the labeling config", client.projects.update, id=project.id, label_config=wanted)
    return project, False


def existing_article_ids(client: LabelStudio, settings: ServerSettings, project_id: int) -> set[str]:
    """The article ids of the tasks the project already holds."""
    pager = call(
        settings, "list the project's tasks", client.tasks.list,
        project=project_id, fields="task_only", include="id,data", page_size=1000,
    )  # fmt: skip
    ids = set()
    for task in pager:
        article_id = (task.data or {}).get("article_id")
        if article_id is not None:
            ids.add(str(article_id))
    return ids


def check_labels(articles: Iterable[PredictedArticle], config: Config, source: str) -> None:
    """Refuse predictions with a label the project's labeling config does not have.

    Label Studio 1.23 only logs such predictions and stores them; annotators would see
    spans they cannot edit.
    """
    for article in articles:
        for span in article.spans:
            if span.label not in config.labels:
                raise InputError(
                    f"{source}: article {article.id!r}: span {span.start}-{span.end} has label {span.label!r}, "
                    f"which is not in the config's labels ({', '.join(config.labels)})",
                    hint="pre-annotate again with this config, or add the label to `labels`",
                )


def _batches(items: Iterable[PredictedArticle], size: int) -> Iterator[list[PredictedArticle]]:
    batch: list[PredictedArticle] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def push(
    articles: Iterable[PredictedArticle],
    *,
    config: Config,
    settings: ServerSettings,
    on_progress: Callable[[int, int], None] | None = None,
) -> PushResult:
    """Import the articles the project does not hold yet, with their predictions.

    ``on_progress(done, total)`` is called after each batch with counts of new tasks.
    """
    client = connect(settings)
    project, created = ensure_project(client, settings, config)
    result = PushResult(project_id=project.id, project_url=f"{settings.url}/projects/{project.id}", project_created=created)
    known = existing_article_ids(client, settings, project.id)
    new: list[PredictedArticle] = []
    for article in articles:
        result.articles += 1
        result.model_versions.add(article.model.model_version)
        if article.id in known:
            result.unchanged += 1
        else:
            known.add(article.id)
            new.append(article)
    if on_progress is not None:
        on_progress(0, len(new))
    for batch in _batches(new, config.push.batch_size):
        call(
            settings, "import tasks", client.projects.import_tasks,
            id=project.id, request=[task_payload(article) for article in batch],
            return_task_ids=True, request_options=NO_RETRY,
        )  # fmt: skip
        result.created += len(batch)
        if on_progress is not None:
            on_progress(result.created, len(new))
    if len(result.model_versions) == 1:
        # The labeling stream shows only predictions of the project's model_version.
        (version,) = result.model_versions
        if getattr(project, "model_version", None) != version:
            call(settings, "set the project's model version", client.projects.update, id=project.id, model_version=version)
    return result
