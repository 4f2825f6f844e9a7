"""The Label Studio project: found by id or exact title, created once, its labeling config kept in step.

Label Studio has no unique title, so two pushes may both create the project. Each lists
the projects with the title right after creating one; the lowest id wins and the others
rename their own (still empty) project and use the winner. Renamed, not deleted: Label
Studio 1.23 deletes a project with every Django signal disconnected, server-wide, which
breaks imports running at that moment.

A labeling config someone edited in Label Studio (a control push does not generate) is
not replaced behind their back: it is left as it is while it has every label, and a
label to add stops the push unless ``push.replace_labeling_config`` is set.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from toolkit.config import Config
from toolkit.errors import ProjectError, Remedy, ServerError
from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, describe_api_error, post_json
from toolkit.labelstudio.labeling import config_labels, instructions, labeling_config
from toolkit.labelstudio.stream import SAMPLING
from toolkit.labelstudio.tasks import write_once_then_check

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

# Another push's project with the same title is renamed within a request or two of
# its creation (see settle_creation): look again this many times, this far apart,
# before calling two projects with one title ambiguous.
DUPLICATE_TITLE_LOOKS, DUPLICATE_TITLE_WAIT = 4, 1.0
# After creating a project: how long an id below it may stay unseen (a concurrent creation
# not yet committed) before it counts as a deleted project's, and how often to look.
UNSEEN_ID_WAIT, UNSEEN_ID_POLL = 1.0, 0.05
MAX_CONCURRENT_IDS = 100  # ids looked at below this push's own (one page)
TITLE_PAGE_SIZE = 100
# The fields a list asks for when it only compares ids and titles: Label Studio then
# skips counting each project's tasks and annotations (a few times faster).
ID_TITLE = "id,title"


def _projects_titled(client: LabelStudio, title: str, *, include: str | None = None) -> list[Any]:
    """The projects titled exactly ``title`` (with only the ``include`` fields, e.g. "id,title").

    The server's title filter matches substrings, so the titles are compared here. Pages
    are read until one is not full (the SDK's own pager asks for one more, empty, page):
    callers run this inside ``call()``, which turns a failed page into a clear error.
    """
    found: list[Any] = []
    page = client.projects.list(title=title, page_size=TITLE_PAGE_SIZE, **({"include": include} if include else {}))
    while page is not None:
        items = page.items or []
        found += [project for project in items if project.title == title]
        page = page.next_page() if len(items) == TITLE_PAGE_SIZE else None
    return found


def require_project(client: LabelStudio, settings: ServerSettings, config: Config) -> Any:
    """``find_project``, or a ProjectError saying to push first (pull and adjudicate read a project push made)."""
    project = find_project(client, settings, config)
    if project is None:
        raise ProjectError(
            f"no project titled {config.project.title!r} on {settings.public_url}",
            hint="push articles first: `toolkit push FILE.jsonl --config CONFIG`",
        )
    return project


def find_project(client: LabelStudio, settings: ServerSettings, config: Config) -> Any | None:
    """The project by id (when configured) or by exact title; None when there is none.

    Two projects with the title are looked at again for a few seconds before that is an
    error: a concurrent push that lost the race to create the project renames its own.
    """
    if config.project.id is not None:
        try:
            return read_project(client, settings, config.project.id)
        except ServerError as error:
            if error.status == 404:
                raise ProjectError(
                    f"[project.id] project {config.project.id} does not exist on {settings.public_url}"
                ) from None
            raise
    matches = call(settings, "list projects", _projects_titled, client, config.project.title)
    for _ in range(DUPLICATE_TITLE_LOOKS - 1):
        if len(matches) <= 1:
            break
        # Perhaps two pushes are creating the project right now: the loser renames its own.
        time.sleep(DUPLICATE_TITLE_WAIT)
        matches = call(settings, "list projects", _projects_titled, client, config.project.title)
    if len(matches) > 1:
        ids = ", ".join(str(project_id) for project_id in sorted(project.id for project in matches))
        raise ProjectError(
            f"{len(matches)} projects on {settings.public_url} are titled {config.project.title!r} (ids {ids})",
            hint="set project.id in the config to the one to use, or rename the others",
        )
    return matches[0] if matches else None


def project_dir(state_dir: Path, url: str, project_id: int) -> Path:
    """The folder of one server's project under ``pull.state_dir`` (pull's state, adjudicate's lock)."""
    parts = urlsplit(url)
    server = re.sub(r"[^A-Za-z0-9.-]+", "_", f"{parts.hostname or 'server'}_{parts.port or ''}{parts.path}").strip("_")
    return state_dir / f"{server}-project-{project_id}"


def list_projects(client: LabelStudio) -> list[Any]:
    """Every project of the server (run inside ``call()``, like ``_projects_titled``)."""
    return list(client.projects.list(page_size=100))


def read_project(client: LabelStudio, settings: ServerSettings, project_id: int) -> Any:
    return call(settings, "read the project", client.projects.get, id=project_id)


def set_model_version(client: LabelStudio, settings: ServerSettings, project_id: int, model_version: str) -> None:
    """The labeling stream shows only predictions of the project's ``model_version``."""
    call(
        settings,
        "set the project's model version",
        client.projects.update,
        id=project_id,
        model_version=model_version,
        request_options=NO_RETRY,
    )


# --- the labeling config -------------------------------------------------------------


def validate_labeling_config(
    client: LabelStudio, settings: ServerSettings, label_config: str, *, project_id: int | None = None
) -> None:
    """Ask the server whether it accepts the labeling config; for a project, also against its annotations."""
    try:
        if project_id is None:
            # The project-less endpoint checks the XML alone; the SDK has no method for it.
            post_json(client, "api/projects/validate/", json.dumps({"label_config": label_config}).encode())
        else:
            client.projects.validate_label_config(id=project_id, label_config=label_config, request_options=NO_RETRY)
    except Exception as error:  # noqa: BLE001 - sorted out by describe_api_error
        server_error = describe_api_error(error, settings, "validate the labeling config")
        if server_error.status == 400:
            raise ProjectError(
                f"Label Studio rejects the labeling config generated from `labels`: {_error_detail(error)}",
                hint="check `labels` in the config (names, not markup)",
            ) from None
        raise server_error from None


def _error_detail(error: Any) -> str:
    """The server's own words from an ApiError body (DRF puts them in detail or validation_errors)."""
    body = getattr(error, "body", None)
    if isinstance(body, dict):
        detail = body.get("validation_errors") or body.get("detail") or body
        if isinstance(detail, dict):
            detail = "; ".join(" ".join(map(str, v)) if isinstance(v, list) else str(v) for v in detail.values())
        return " ".join(str(detail).split())[:500]
    return " ".join(str(body or error).split())[:500]


def same_labeling_config(a: str, b: str) -> bool:
    """Equal up to whitespace between tags (the server strips a trailing newline)."""
    try:
        return ET.canonicalize(a, strip_text=True) == ET.canonicalize(b, strip_text=True)
    except ET.ParseError:
        return a.strip() == b.strip()


def foreign_controls(current: str, wanted: str) -> list[str]:
    """Named elements (controls and objects) of ``current`` that ``wanted`` lacks, as "Tag 'name'"."""

    def named(label_config: str) -> list[tuple[str, str]]:
        try:
            root = ET.fromstring(label_config)
        except ET.ParseError:
            return []
        return [(element.tag, element.get("name", "")) for element in root.iter() if element.get("name")]

    ours = set(named(wanted))
    return [f"{tag} {name!r}" for tag, name in named(current) if (tag, name) not in ours]


@dataclass(frozen=True)
class LabelingConfigChange:
    """How a project's labeling config differs from the one generated from ``labels``."""

    differs: bool = False
    labels_added: list[str] = field(default_factory=list)
    labels_removed: list[str] = field(default_factory=list)
    # Controls the project's config has and push does not generate (a human's edit, e.g.
    # "Choices 'topic'"): replacing the config would remove them.
    foreign_controls: list[str] = field(default_factory=list)


def labeling_config_change(current: str | None, config: Config) -> LabelingConfigChange:
    current, wanted = current or "", labeling_config(config)
    if same_labeling_config(current, wanted):
        return LabelingConfigChange()
    labels = config_labels(current)
    return LabelingConfigChange(
        differs=True,
        labels_added=[label for label in config.labels if label not in labels],
        labels_removed=[label for label in labels if label not in config.labels],
        foreign_controls=foreign_controls(current, wanted),
    )


# --- finding or creating the project -------------------------------------------------


@dataclass(frozen=True)
class ProjectSetup:
    project: Any
    created: bool = False
    labeling_config_updated: bool = False
    # The project this push created and renamed, when another push created one at the
    # same moment (``project`` is then the other's).
    spare_id: int | None = None


def ensure_project(client: LabelStudio, settings: ServerSettings, config: Config, *, found: Any | None) -> ProjectSetup:
    """The project ``find_project`` found, or a new one when it found none (None); its labeling
    config kept in step with ``labels``. (A project created meanwhile by a concurrent push is
    settled on by ``settle_creation``.)"""
    wanted = labeling_config(config)
    project = found
    spare = None
    if project is None:
        validate_labeling_config(client, settings, wanted)
        newest = newest_project_id(client, settings)
        mine = create_project(client, settings, config, wanted, sampling=SAMPLING[config.push.order])
        project = settle_creation(client, settings, config, mine, newest_before=newest)
        if project.id == mine.id:
            return ProjectSetup(mine, created=True)
        # The winner may have been created from another config's labels: brought in step below.
        spare = mine.id
    change = labeling_config_change(project.label_config, config)
    if not change.differs:
        return ProjectSetup(project, spare_id=spare)
    if change.foreign_controls and not config.push.replace_labeling_config:
        # A human's edit: left alone while the predictions' labels fit it.
        if not change.labels_added:
            return ProjectSetup(project, spare_id=spare)
        raise ProjectError(
            f"`labels` adds {', '.join(change.labels_added)}, but project {project.id}'s labeling config has "
            f"{', '.join(change.foreign_controls)}, which push did not create (edited in Label Studio?); replacing "
            "the config would remove it",
            hint=(
                "add the labels in Label Studio's labeling config yourself, or ",
                Remedy("replace the labeling config and drop it", "push.replace_labeling_config: true", config=True),
            ),
        )
    try:
        validate_labeling_config(client, settings, wanted, project_id=project.id)
    except ProjectError as error:
        if change.labels_removed:
            raise ProjectError(
                f"`labels` drops {', '.join(change.labels_removed)} from project {project.id}, but annotations use "
                f"some of them and Label Studio refuses the change: {error.message.split(': ', 1)[-1]}",
                hint="keep the labels annotations use in `labels`, or relabel those annotations in Label Studio first",
            ) from None
        raise
    # Existing annotations are untouched: the change only adds or drops choices.
    project = call(
        settings,
        "update the labeling config",
        client.projects.update,
        id=project.id,
        label_config=wanted,
        request_options=NO_RETRY,
    )
    return ProjectSetup(project, labeling_config_updated=True, spare_id=spare)


def create_project(
    client: LabelStudio,
    settings: ServerSettings,
    config: Config,
    label_config: str,
    *,
    instruction_html: str | None = None,
    show_skip_button: bool = True,
    sampling: str | None = None,
) -> Any:
    """Create the project (instructions: ``instruction_html``, else the annotators' from ``config``).

    ``sampling``: the labeling stream's order (``stream.SAMPLING``) from the start, so that
    push has no update to make; None: Label Studio's default.
    """

    def create() -> Any:
        return call(
            settings,
            "create the project",
            client.projects.create,
            title=config.project.title,
            description=config.project.description,
            label_config=label_config,
            expert_instruction=instruction_html if instruction_html is not None else instructions(config),
            show_instruction=True,
            show_skip_button=show_skip_button,
            show_collab_predictions=True,
            **({"sampling": sampling} if sampling is not None else {}),
            request_options=NO_RETRY,
        )

    def landed() -> Any | None:
        return find_project(client, settings, config)

    return write_once_then_check(create, landed, "create the project")


def settle_creation(
    client: LabelStudio, settings: ServerSettings, config: Config, mine: Any, *, newest_before: int
) -> Any:
    """After creating the project: if another push created one with the title too, agree on one.

    The lowest id wins, the same answer for every push that looks. A loser renames its
    own project, which is still empty (nothing is imported before this), to a title that
    says so, and returns the winner.
    """
    matches = call(settings, "list projects", _projects_titled, client, config.project.title, include=ID_TITLE)
    winner = min([mine, *matches], key=lambda project: project.id)
    if winner.id == mine.id and _wait_for_concurrent_ids(client, settings, mine.id, newest_before):
        # A concurrent creation can hold a lower id that its transaction had not committed
        # at the first look: this list would have missed it while that push's list sees both,
        # and both would keep their project.
        matches = call(settings, "list projects", _projects_titled, client, config.project.title, include=ID_TITLE)
        winner = min([mine, *matches], key=lambda project: project.id)
    if winner.id != mine.id:
        try:
            call(
                settings,
                "rename this push's copy of the project",
                client.projects.update,
                id=mine.id,
                title=spare_title(config.project.title, winner.id),
                request_options=NO_RETRY,
            )
        except ServerError as error:
            raise ServerError(
                f"{error.message}; another push created project {winner.id} with the same title at the same moment",
                hint=f"delete project {mine.id} (empty) in Label Studio, then run the push again",
                status=error.status,
            ) from None
        winner = read_project(client, settings, winner.id)
    return winner


def newest_project_id(client: LabelStudio, settings: ServerSettings) -> int:
    """The highest project id the server shows (0: none), taken before creating a project."""
    listed = call(
        settings, "list projects", lambda: client.projects.list(ordering="-id", page_size=1, include="id").items
    )
    return max((project.id for project in listed), default=0)


def _wait_for_concurrent_ids(client: LabelStudio, settings: ServerSettings, mine: int, newest_before: int) -> bool:
    """Wait until every project id given out between ``newest_before`` and ``mine`` is visible,
    for ``UNSEEN_ID_WAIT`` at most; whether there were any (then the caller looks at the titles again).

    Ids are given out in order, so those ids went to projects created while this push was
    creating its own, perhaps by another push with this title, whose transaction may not
    have committed yet. The usual case, ``mine`` right after ``newest_before``, returns at
    once: no wait, whatever was deleted further below. An id that stays unseen was deleted
    (created and deleted in between, or the newest project deleted just before, whose id
    the server does not show as taken): the bound.
    """
    between = list(range(max(newest_before + 1, mine - MAX_CONCURRENT_IDS), mine))
    if not between:
        return False

    def unseen() -> set[int]:
        ids = ",".join(map(str, between))
        listed = call(
            settings, "list projects", lambda: client.projects.list(ids=ids, page_size=len(between), include="id").items
        )  # fmt: skip
        return set(between) - {project.id for project in listed}

    deadline = time.monotonic() + UNSEEN_ID_WAIT
    while unseen() and time.monotonic() < deadline:
        time.sleep(UNSEEN_ID_POLL)
    return True


def spare_title(title: str, winner_id: int) -> str:
    """The title of a project a concurrent push created in vain: empty, safe to delete.

    Label Studio allows 50 characters: the title is shortened to leave room for the note.
    """
    note = f" [empty copy of {winner_id}]"
    return title[: max(0, 50 - len(note))] + note
