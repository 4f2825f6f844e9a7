"""Push's plan: the predictions file checked, and what the project lacks (or holds twice).

A plan is made from the articles (grouped by id: one article's model versions) and what
the project holds (``toolkit.labelstudio.tasks.ProjectState``): new tasks, imported with
their predictions inline; new prediction sets for existing tasks nobody annotated yet
(an annotated task keeps what its annotator saw); articles whose task holds every
version already; copies an interrupted or a concurrent push left, to remove. A model version
names its scoring (``ModelInfo.model_version``): the same model scored otherwise is a new
version, and a file or a project stream holds one kind of score (``check_articles``,
``check_stream``).
``toolkit push --dry-run`` shows it (``toolkit.push.view``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from toolkit.config import Config
from toolkit.errors import InputError, ProjectError, Remedy
from toolkit.labelstudio.project import labeling_config_change
from toolkit.labelstudio.tasks import ProjectState, find_copies
from toolkit.records import UNSCORED, PredictedArticle, is_scored, scoring_of
from toolkit.render.format import plural


@dataclass
class PushPlan:
    project_title: str
    project_id: int | None  # None: the project does not exist yet
    labels_added: list[str] = field(default_factory=list)
    labels_removed: list[str] = field(default_factory=list)
    labeling_config_changes: bool = False  # the push would write the project's labeling config
    # Controls in the project's labeling config that push does not generate (a human's
    # edit), e.g. "Choices 'topic'": replacing the config would remove them.
    controls_removed: list[str] = field(default_factory=list)
    replace_labeling_config: bool = False  # push.replace_labeling_config: remove them anyway
    current_model_version: str | None = None
    model_version: str | None = None  # the project's model_version after the push
    pushed_version: str | None = None  # the file's model version, when it holds one
    # The pushed version does not reach every task nobody annotated yet, so the project
    # keeps its model_version (the labeling stream shows one version only). Article ids of
    # the unannotated tasks without the pushed version, and of those without the kept one.
    version_kept: bool = False
    lacking_pushed: list[str] = field(default_factory=list)
    lacking_kept: list[str] = field(default_factory=list)
    articles: int = 0
    new_tasks: list[list[PredictedArticle]] = field(default_factory=list)  # per article: its versions
    new_predictions: list[tuple[int, PredictedArticle]] = field(default_factory=list)  # (task id, version)
    unchanged: int = 0  # articles whose task holds every pushed version already
    duplicate_tasks: list[int] = field(default_factory=list)  # to delete: unannotated copies
    duplicate_predictions: list[int] = field(default_factory=list)  # to delete: second sets of a version
    kept_duplicates: list[str] = field(default_factory=list)  # article ids with >1 annotated task
    # Article ids whose task holds another text (edited in Label Studio): skipped, since
    # their spans would not fit the task's text.
    text_changed: list[str] = field(default_factory=list)
    # Article ids whose task a human annotated, skipped or has a draft on, and that lack a
    # version pushed now: left as they are (no new predictions on them).
    annotated_kept: list[str] = field(default_factory=list)

    @property
    def new_prediction_sets(self) -> int:
        """Prediction sets this push adds: inline with new tasks plus on existing tasks."""
        return sum(len(versions) for versions in self.new_tasks) + len(self.new_predictions)

    def new_sets_by_version(self) -> dict[str, int]:
        """The prediction sets this push adds, per model version (sorted by version)."""
        counts: Counter[str] = Counter()
        for versions in self.new_tasks:
            counts.update(version.model.model_version for version in versions)
        counts.update(version.model.model_version for _, version in self.new_predictions)
        return dict(sorted(counts.items()))


def new_plan(config: Config, groups: dict[str, list[PredictedArticle]], found: Any | None) -> PushPlan:
    """The plan's frame: the project (``found``, None when it does not exist yet), its
    labeling config against ``labels``, and the model version the project will show."""
    plan = PushPlan(project_title=config.project.title, project_id=None, articles=len(groups))
    versions = {version.model.model_version for group in groups.values() for version in group}
    plan.pushed_version = plan.model_version = next(iter(versions)) if len(versions) == 1 else None
    if found is None:
        return plan
    plan.project_id = found.id
    plan.current_model_version = found.model_version or None
    change = labeling_config_change(found.label_config, config)
    if change.differs:
        plan.labeling_config_changes = True
        plan.labels_added = change.labels_added
        plan.labels_removed = change.labels_removed
        plan.controls_removed = change.foreign_controls
        plan.replace_labeling_config = config.push.replace_labeling_config
    return plan


def _kind(article: PredictedArticle) -> str:
    """The kind of score a record carries, as messages name it: its fingerprint, or for a record
    written before fingerprints, whether it has a score at all."""
    if article.model.scoring is not None:
        return article.model.scoring
    return f"{'scored' if article.score is not None else UNSCORED} (scoring not recorded)"


def kinds_differ(plan: PushPlan, groups: dict[str, list[PredictedArticle]]) -> bool:
    """Whether the file's predictions are scored and the project's stream unscored, or the reverse.

    The project's kind is its model_version's scoring (``scoring_of``); a version that names none
    (pushed before versions did) is of its own kind, and differs from nothing."""
    stream = is_scored(scoring_of(plan.current_model_version))
    first = next(iter(groups.values()), [None])[0]
    return stream is not None and first is not None and (first.score is not None) != stream


def check_stream(plan: PushPlan, groups: dict[str, list[PredictedArticle]]) -> None:
    """After :func:`plan_push`: refuse predictions of the other kind (scored for an unscored stream,
    unscored for a scored one) unless the project moves to them whole.

    The stream (uncertainty sampling) orders the tasks that hold a prediction of the project's
    model_version by its score, and serves the others after them. A push whose version reaches
    every task nobody annotated yet moves the project to it: one kind again. One that reaches some
    only leaves the project's version as it is, and the stream would hold both kinds: the tasks of
    the new kind served last, without suggestions, or an unscored prediction among scored ones
    (served first on some databases, last on others).
    """
    if not kinds_differ(plan, groups) or (plan.model_version == plan.pushed_version and not plan.version_kept):
        return
    first = next(iter(groups.values()))[0]
    stream = "unscored" if first.score is not None else "scored"
    waiting = len(plan.lacking_pushed)
    reach = f"; {plural(waiting, 'unannotated task')} would lack them" if waiting else ""
    raise ProjectError(
        f"[push] project {plan.project_title!r} serves {stream} predictions (model_version "
        f"{plan.current_model_version!r}), the file's are {_kind(first)}{reach}: one stream orders one kind of score",
        hint=(
            Remedy(
                f"pre-annotate with scores {'off' if first.score is not None else 'on'} as the project's were "
                "and push that",
                f"spacy.scores: {'false' if first.score is not None else 'true'}",
                config=True,
            ),
            ", or pre-annotate every article the project holds unannotated with these settings, or ",
            Remedy("push to another project", "project.title", config=True),
        ),
    )


def keeps_edited_config(plan: PushPlan) -> bool:
    """Whether push leaves a labeling config edited in Label Studio as it is: it has controls
    push did not create, was not told to replace it, and already has every label."""
    return bool(plan.controls_removed) and not plan.replace_labeling_config and not plan.labels_added


def check_articles(
    articles: Iterable[PredictedArticle], *, labels: Iterable[str] | None = None, source: str | None = None
) -> tuple[dict[str, list[PredictedArticle]], int]:
    """Articles grouped by id, each group one article's model versions; and the record count.

    Raises InputError for spans outside the text, a span label not in ``labels`` (when
    given), an id with two texts, or the same article and model version twice. Messages
    start with ``source`` (the file name) when given.
    """
    label_list = list(labels) if labels is not None else None
    allowed = set(label_list) if label_list is not None else None
    where = f"{source} record" if source else "record"
    groups: dict[str, list[PredictedArticle]] = {}
    count = 0
    first: tuple[int, str] | None = None  # the first record's number and kind of score
    for count, article in enumerate(articles, start=1):
        first = first or (count, _kind(article))
        if _kind(article) != first[1]:
            # One project's stream orders one kind of score (see check_stream).
            raise InputError(
                f"{where} {count} (article {article.id!r}): scoring {_kind(article)}, record {first[0]}'s "
                f"{first[1]}: a push sends one kind of score",
                hint="run `toolkit preannotate` again into a new output (or with --fresh) with one scoring setting",
            )
        for span in article.spans:
            if span.end > len(article.text):
                raise InputError(
                    f"{where} {count} (article {article.id!r}): span {span.start}-{span.end} {span.label} ends beyond "
                    f"the text ({len(article.text)} characters)",
                    hint="run `toolkit preannotate` again to write the predictions",
                )
            # Label Studio 1.23 stores such a prediction and only logs the unknown label;
            # annotators would then see a span they cannot keep or relabel to itself.
            if allowed is not None and span.label not in allowed:
                raise InputError(
                    f"{where} {count} (article {article.id!r}): span {span.start}-{span.end} has label "
                    f"{span.label!r}, which is not in the config's labels ({', '.join(label_list or [])})",
                    hint="add the label to `labels` (or map it with `label_map`) and run `toolkit preannotate` again",
                )
        versions = groups.setdefault(article.id, [])
        for other in versions:
            if other.text != article.text:
                raise InputError(f"{where} {count}: article id {article.id!r} is used before for another text")
            if other.model.model_version == article.model.model_version:
                raise InputError(
                    f"{where} {count}: article {article.id!r} with model version "
                    f"{article.model.model_version!r} is in the file twice"
                )
        versions.append(article)
    return groups, count


def plan_push(groups: dict[str, list[PredictedArticle]], state: ProjectState, plan: PushPlan) -> PushPlan:
    """Fill ``plan`` with what is missing from the project and what to tidy up."""
    copies = find_copies(state)
    plan.duplicate_tasks.extend(copies.tasks)
    plan.duplicate_predictions.extend(copies.predictions)
    plan.kept_duplicates.extend(copies.kept)
    dropped = set(plan.duplicate_tasks)
    for article_id, versions in groups.items():
        task_ids = [task for task in state.tasks.get(article_id, []) if task not in dropped]
        if not task_ids:
            plan.new_tasks.append(versions)
            continue
        task_id = min(task_ids)
        if state.texts.get(task_id) != versions[0].text:
            plan.text_changed.append(article_id)
            continue
        held = state.predictions.get(task_id, {})
        missing = [version for version in versions if version.model.model_version not in held]
        if missing and task_id in state.annotated:
            # A human answered (or skipped, or started a draft on) this task: it keeps the
            # predictions they saw. A new model's suggestions are for the tasks nobody did yet.
            plan.annotated_kept.append(article_id)
            continue
        plan.new_predictions.extend((task_id, version) for version in missing)
        if not missing:
            plan.unchanged += 1
    decide_model_version(plan, state)
    return plan


def decide_model_version(plan: PushPlan, state: ProjectState) -> None:
    """The project's model_version after the push: the pushed version only if every task
    nobody annotated yet will hold it, else the current one, kept.

    Label Studio's labeling stream shows only predictions of the project's model_version:
    a version pushed for some tasks only would hide the suggestions of all the others. So
    the project moves to a new version once that version covers the unannotated tasks,
    and never back to an older one.
    """
    pushed, current = plan.pushed_version, plan.current_model_version
    plan.version_kept, plan.lacking_pushed, plan.lacking_kept = False, [], []
    if pushed is None:
        return  # several versions in the file: the project's is left alone
    plan.model_version = pushed
    if current is None or current == pushed:
        return
    dropped = set(plan.duplicate_tasks)
    added: dict[int, set[str]] = {}
    for task_id, version in plan.new_predictions:
        added.setdefault(task_id, set()).add(version.model.model_version)
    held_after: list[tuple[str, set[str]]] = [
        (versions[0].id, {version.model.model_version for version in versions}) for versions in plan.new_tasks
    ]
    for article_id, task_ids in state.tasks.items():
        for task_id in task_ids:
            if task_id in dropped or task_id in state.annotated:
                continue
            held_after.append((article_id, set(state.predictions.get(task_id, {})) | added.get(task_id, set())))
    lacking = sorted({article_id for article_id, held in held_after if pushed not in held})
    if not lacking:
        return
    plan.model_version = current
    plan.version_kept = True
    plan.lacking_pushed = lacking
    plan.lacking_kept = sorted({article_id for article_id, held in held_after if current not in held})
