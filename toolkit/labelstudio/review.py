"""The review project: where an adjudicator settles the articles annotators disagree on.

Label Studio Community has no review workflow, so the review is a project of its own
(``adjudicate.title``, by default ``<project title> (adjudication)``), created once by
title, the way push creates the main project (the same race settling). From then on it
is found by the main project's id, which a line of its description names (``REVIEW_MARK``):
a title changed in Label Studio or in the config no longer loses it. The mark lives in
Label Studio, not in a local state file, so that a fresh clone or a teammate's machine
finds the same review project; only a review project without the mark (made before the
mark existed) is found by title, and marked then. Its labeling config is the main one's
labels with, after the article, the list of disputed places (``disputes_html``, shown
by a read-only ``HyperText``); it shows no Skip and a reviewer's instructions. A review
project made by an older toolkit is brought up to date (``bring_up_to_date``). Each
review task carries

- ``data``: the article as the main project has it now (``text``, ``title``, ``date``,
  ``article_id``, ``text_sha256``), the main task's id (``main_task_id``: a review task
  is of a main task, not of an article id, which two tasks may share), the annotator
  versions it shows (``resolves``: annotation ids; ``annotators``: anonymous ids), their
  fingerprint (``versions``), which annotator secret made those ids (``ids_key``, a keyed
  fingerprint, never the secret) and the list (``disputes``, HTML);
- one prediction set per annotator, named by the annotator's anonymous id, and the
  starting answer, the prediction set ``PREFILL_VERSION``, which is the project's
  ``model_version`` so that the labeling stream starts the adjudicator from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from toolkit.config import Config, ProjectConfig
from toolkit.errors import ProjectError
from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, get_json
from toolkit.labelstudio.export import download_export, iter_tasks
from toolkit.labelstudio.labeling import config_labels, labeling_config, result_items
from toolkit.labelstudio.project import (
    create_project,
    find_project,
    foreign_controls,
    list_projects,
    newest_project_id,
    read_project,
    same_labeling_config,
    set_model_version,
    settle_creation,
    validate_labeling_config,
)
from toolkit.records import Span

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

PREFILL_VERSION = "adjudication-start"
# The line of the review project's description that names its main project.
REVIEW_MARK = "[toolkit] review project of project {id} (toolkit finds it by this line: keep it)"
MARK_PATTERN = re.compile(r"\[toolkit\] review project of project (\d+)")
TITLE_SUFFIX = " (adjudication)"
MAX_TITLE = 50  # Label Studio's limit
TASK_PAGE_SIZE = 200
# The box of review projects made before the list was HTML: replaced by the new one.
OLD_BOX = ["Text 'disputes'"]

# Shown in the review project's instructions, in place of the annotators' "How to label"
# (whose Skip line is for annotators: the review project offers no Skip).
HOW_TO_ADJUDICATE = (
    "<p><b>How to adjudicate</b></p><ul>"
    "<li>Each task is an article on which annotators disagree. The article comes first; under it, the list "
    "<i>Disputed spans</i> names each span some annotators have and others lack: its words in their sentence, "
    "who has it, who lacks it and how (<i>missing</i>: no span there; <i>boundary differs</i>; "
    "<i>label differs</i>), and whether your starting answer has it.</li>"
    "<li>Your answer starts from the spans the annotators agree on (or the majority's, as the project is set "
    "up): only the disputed spans need a decision. Add, fix or delete them, then Submit once; your submitted "
    "answer becomes the article's.</li>"
    "<li><b>Each annotator's version</b> (under the list) shows every annotator's spans in full.</li>"
    "<li><b>Add a span:</b> first choose the label (click it above the text, or press its hotkey), then select "
    "the words. <b>Change a label:</b> click the span, then the new label. <b>Delete a span:</b> click it and "
    "press Backspace.</li>"
    '<li>There is no Skip: every disputed article needs your decision, even "no entities at all" '
    "(remove every span and Submit).</li>"
    "</ul>"
)
# The list of disputed spans and each annotator's version (the task's ``disputes``, HTML).
DISPUTES_STYLE = (
    ".toolkit-disputes { border: 1px solid #d0a000; background: #fff8e0; padding: 4px 8px; margin: 8px 0; "
    "font-size: 13px; line-height: 1.35; }"
    " .toolkit-disputes ol { margin: 2px 0 2px 22px; padding: 0; list-style: decimal outside; }"
    " .toolkit-disputes details ul { margin: 2px 0 2px 22px; padding: 0; list-style: disc outside; }"
    " .toolkit-disputes li { margin: 2px 0; }"
    " .toolkit-disputes mark { background: #ffd54f; padding: 0 1px; }"
    " .toolkit-disputes .where { color: #555; }"
)
DISPUTES_START = "<b>Disputed ("
CONTEXT_CHARS = 40  # characters of the article each side of a disputed span in the list
SHORT_ID = 8  # "ann-" and 4 hex digits: grown in a task until its annotators' ids differ


def review_title(config: Config) -> str:
    """The review project's title; ProjectError when the default would be over Label Studio's limit."""
    if config.adjudicate.title:
        return config.adjudicate.title
    title = config.project.title + TITLE_SUFFIX
    if len(title) > MAX_TITLE:
        raise ProjectError(
            f"[adjudicate.title] the review project's default title {title!r} is over Label Studio's "
            f"{MAX_TITLE} characters",
            hint="set adjudicate.title in the config",
        )
    return title


def review_config(config: Config) -> Config:
    """The config as the review project sees it: its own title and instructions, the same labels."""
    project = ProjectConfig(
        title=review_title(config),
        description=f"Adjudication of the disagreements in {config.project.title!r}",
        instructions=config.adjudicate.instructions,
    )
    return config.model_copy(update={"project": project})


def review_instructions(config: Config) -> str:
    """The review project's instructions (HTML): the config's own, then how to adjudicate."""
    own = config.adjudicate.instructions.strip()
    return (f"<p>{escape(own)}</p>" if own else "") + HOW_TO_ADJUDICATE


def review_labeling_config(config: Config) -> str:
    """The main labeling config with the list of disputed spans after the article.

    The article comes first so that its first words are above the fold; the list is
    HTML (``HyperText``, read-only: no control labels it) so that each disputed span can
    be marked in its sentence. The article itself cannot mark them: a region on the
    ``Text`` is part of the answer, and the answer holds only the adjudicator's spans.
    """
    main = labeling_config(config)
    box = (
        f"  <Style>{DISPUTES_STYLE}</Style>\n"
        '  <View className="toolkit-disputes">\n'
        '    <HyperText name="disputes" value="$disputes" inline="true"/>\n'
        "  </View>\n"
    )
    anchor = "</View>\n"
    assert main.endswith(anchor)
    return main[: -len(anchor)] + box + anchor


def review_key(data: Mapping[str, Any]) -> str | None:
    """A review task's key: its main task (None: not a review task of ours)."""
    main_task_id = data.get("main_task_id")
    return f"task-{main_task_id}" if isinstance(main_task_id, int) else None


def marked_for(project: Any) -> int | None:
    """The main project's id the review project's description names; None: no mark."""
    found = MARK_PATTERN.search(getattr(project, "description", None) or "")
    return int(found.group(1)) if found else None


@dataclass(frozen=True)
class FoundReview:
    """The review project of a main project (None: none yet) and how it was found."""

    project: Any | None
    by_title: bool = False  # found by title (no mark yet): ``ensure_review_project`` marks it
    note: str | None = None  # its title is no longer the one the config gives


def find_review_project(client: LabelStudio, settings: ServerSettings, config: Config, main_id: int) -> FoundReview:
    """The review project of project ``main_id``: the one whose description names it, else
    (the first time) the one titled as the config says; ProjectError when that one is
    another project's, or when several name it."""
    marked = [
        project for project in call(settings, "list projects", list_projects, client) if marked_for(project) == main_id
    ]
    if len(marked) > 1:
        ids = ", ".join(str(project.id) for project in sorted(marked, key=lambda p: p.id))
        raise ProjectError(
            f"projects {ids} on {settings.public_url} all say they are the review project of project {main_id}",
            hint=f"in Label Studio, remove the line {REVIEW_MARK.format(id=main_id)!r} from the description "
            "(Settings > General) of every one but the review project",
        )
    try:
        wanted: str | None = review_title(config)
    except ProjectError:
        wanted = None  # a default title over the limit: only a marked project can be found
    if marked:
        (project,) = marked
        note = None
        if wanted is not None and project.title != wanted:
            note = (
                f"review project {project.id} is titled {project.title!r}, not {wanted!r} as the config says: "
                "found by the main project's id in its description"
            )
        return FoundReview(project, note=note)
    if wanted is None:
        return FoundReview(None)
    project = find_project(client, settings, review_config(config))
    if project is None:
        return FoundReview(None)
    other = marked_for(project)
    if other is not None:
        raise ProjectError(
            f"project {project.id} titled {wanted!r} is the review project of project {other}, not of "
            f"project {main_id}",
            hint="set adjudicate.title in the config to a title of its own for this project's review project",
        )
    return FoundReview(project, by_title=True)


def check_labels(review: Any, main: Any) -> None:
    """Refuse a review project whose labels are no longer the main project's, with the difference."""
    theirs, ours = config_labels(getattr(main, "label_config", "") or ""), config_labels(review.label_config or "")
    if theirs == ours:
        return
    only_main = [label for label in theirs if label not in ours]
    only_review = [label for label in ours if label not in theirs]
    parts = []
    if only_main:
        parts.append(f"only the main project has {', '.join(only_main)}")
    if only_review:
        parts.append(f"only the review project has {', '.join(only_review)}")
    if not parts:
        parts.append(f"the labels are in another order ({', '.join(theirs)} against {', '.join(ours)})")
    raise ProjectError(
        f"review project {review.id} ({review.title!r}) no longer has the main project's labels: {'; '.join(parts)}",
        hint="give the review project the main project's labels in Label Studio (Settings > Labeling Interface)",
    )


def ensure_review_project(
    client: LabelStudio, settings: ServerSettings, config: Config, main: Any, found: FoundReview
) -> tuple[Any, bool]:
    """The review project (``found``, else created), marked as ``main``'s; True when created here.

    Created without the mark and marked once the race with a concurrent creation is
    settled: a loser's renamed copy never carries it.
    """
    created = False
    project = found.project
    if project is None:
        reviewing = review_config(config)
        wanted = review_labeling_config(config)
        validate_labeling_config(client, settings, wanted)
        newest = newest_project_id(client, settings)
        mine = create_project(
            client, settings, reviewing, wanted, instruction_html=review_instructions(config), show_skip_button=False
        )
        project = settle_creation(client, settings, reviewing, mine, newest_before=newest)
        created = project.id == mine.id
    check_labels(project, main)
    if not created:
        project = bring_up_to_date(client, settings, config, project)
    if marked_for(project) != main.id:
        description = (getattr(project, "description", None) or "").rstrip()
        description += ("\n\n" if description else "") + REVIEW_MARK.format(id=main.id)
        call(
            settings,
            "mark the review project",
            client.projects.update,
            id=project.id,
            description=description,
            request_options=NO_RETRY,
        )
    return project, created


def bring_up_to_date(client: LabelStudio, settings: ServerSettings, config: Config, project: Any) -> Any:
    """A review project made by an older toolkit gets this one's labeling config, instructions and no Skip.

    Its labels are the main project's (``check_labels``) and its annotations label only
    the article, so the new config fits them; a config with a control this toolkit never
    generated (a human's edit) is left alone.
    """
    wanted = review_labeling_config(config)
    update: dict[str, Any] = {}
    current = getattr(project, "label_config", None) or ""
    if not same_labeling_config(current, wanted) and not [
        named for named in foreign_controls(current, wanted) if named not in OLD_BOX
    ]:
        update["label_config"] = wanted
    if (getattr(project, "expert_instruction", None) or "") != review_instructions(config):
        update["expert_instruction"] = review_instructions(config)
    if getattr(project, "show_skip_button", False):
        update["show_skip_button"] = False
    if not update:
        return project
    return call(
        settings, "update the review project", client.projects.update, id=project.id, **update, request_options=NO_RETRY
    )


def start_from_prefill(client: LabelStudio, settings: ServerSettings, project_id: int) -> None:
    """Make the starting answer the project's model version (the labeling stream pre-fills only that one).

    Only once the project holds such predictions: the server refuses a model version it has none of.
    """
    project = read_project(client, settings, project_id)
    if (getattr(project, "model_version", None) or None) != PREFILL_VERSION:
        set_model_version(client, settings, project_id, PREFILL_VERSION)


# --- review tasks --------------------------------------------------------------------


@dataclass(frozen=True)
class Version:
    """One annotator's newest answer, as a review task shows it."""

    annotator: str  # anonymous id
    annotation_id: int
    spans: Sequence[Span]


def short_ids(annotators: Sequence[str]) -> dict[str, str]:
    """Each anonymous id cut to ``SHORT_ID`` characters, longer when two would read the same in the task."""
    distinct = list(dict.fromkeys(annotators))
    length = SHORT_ID
    while len({annotator[:length] for annotator in distinct}) < len(distinct):
        length += 1
    return {annotator: annotator[:length] for annotator in distinct}


def _place(span: Span) -> tuple[int, int, str]:
    return (span.start, span.end, span.label)


def _words(text: str) -> str:
    return escape(" ".join(text.split()))


def context_html(text: str, start: int, end: int) -> str:
    """The span marked in the words around it (cut at whole words), so that two spans of the same words differ."""
    left = max(0, start - CONTEXT_CHARS)
    right = min(len(text), end + CONTEXT_CHARS)
    if left > 0:  # start at a whole word
        left = next((i + 1 for i in range(left, start) if text[i].isspace()), left)
    if right < len(text):
        right = next((i for i in range(right, end, -1) if text[i].isspace()), right)
    before, after = text[left:start], text[end:right]
    return (
        ("…" if left > 0 else "")
        + _words(before)
        + (" " if before[-1:].isspace() else "")
        + f"<mark>{_words(text[start:end])}</mark>"
        + (" " if after[:1].isspace() else "")
        + _words(after)
        + ("…" if right < len(text) else "")
    )


def places(disputed: Sequence[Any]) -> list[list[Any]]:
    """The disputed spans grouped by place: overlapping spans ("Kofi" and "Kofi Annan") are one dispute."""
    groups: list[list[Any]] = []
    end = -1
    for span in sorted(disputed, key=_place):
        if groups and span.start < end:
            groups[-1].append(span)
            end = max(end, span.end)
        else:
            groups.append([span])
            end = span.end
    return groups


def dispute_line(place: Sequence[Any], annotators: Sequence[str], names: Mapping[str, str], text: str) -> str:
    """One dispute: each version of the place with who has it, and the kind, e.g.
    ``"GB" GPE (ann-6407): missing for ann-7439`` or
    ``"Kofi Annan" PERSON (ann-6407) or "Kofi" PERSON (ann-7439): boundary differs``.

    Annotators with no span there: "missing for" them, or "extra in" those with one
    when they are fewer.
    """
    having = {a for span in place for a in span.annotators}
    lacking = [a for a in annotators if a not in having]
    versions = " or ".join(
        f'<b>"{_words(text[span.start : span.end])}" {escape(span.label)}</b> '
        f"({', '.join(names[a] for a in span.annotators if a in names)})"
        for span in place
    )
    kinds = []
    if len({(span.start, span.end) for span in place}) > 1:
        kinds.append("boundary differs")
    if len({span.label for span in place}) > 1:
        kinds.append("label differs")
    if lacking:
        if len(place) == 1 and len(having) < len(lacking):
            kinds.append("extra in " + ", ".join(names[a] for a in annotators if a in having))
        else:
            kinds.append("missing for " + ", ".join(names[a] for a in lacking))
    return f"{versions}: <u>{'; '.join(kinds)}</u>"


def is_disputes_html(disputes: Any) -> bool:
    """Whether a review task's ``disputes`` is this toolkit's list (an older one held plain text)."""
    return isinstance(disputes, str) and disputes.startswith(DISPUTES_START)


def _listing(spans: Sequence[Span], text: str) -> str:
    shown = [f'"{_words(text[s.start : s.end])}" {escape(s.label)}' for s in sorted(spans, key=_place)]
    return ", ".join(shown) or "no entities"


def disputes_html(disputed: Sequence[Any], versions: Sequence[Version], prefill: Sequence[Span], text: str) -> str:
    """The list under the article: one entry per disputed place (not the agreed spans: they are the starting
    answer), each version of it with who has it, the kind, the place marked in the words around it; then each
    annotator's version, folded."""
    annotators = [version.annotator for version in versions]
    names = short_ids(annotators)
    starting = {span.key for span in prefill}
    items = []
    for place in places(disputed):
        kept = [span for span in place if span.key in starting]
        note = ""
        if kept:
            note = (
                " <i>Your starting answer has "
                + " and ".join(f'"{_words(text[s.start : s.end])}" {escape(s.label)}' for s in kept)
                + ".</i>"
            )
        start, end = min(span.start for span in place), max(span.end for span in place)
        items.append(
            f"<li>{dispute_line(place, annotators, names, text)}.{note}"
            f'<br/><span class="where">{context_html(text, start, end)}</span></li>'
        )
    listed = "".join(
        f"<li><b>{names[version.annotator]}</b> ({len(version.spans)}): {_listing(version.spans, text)}</li>"
        for version in versions
    )
    return (
        f"{DISPUTES_START}{len(items)})</b>"
        f'<ol class="disputed">{"".join(items)}</ol>'
        f"<details><summary>Each annotator's version ({len(versions)})</summary><ul>{listed}</ul></details>"
    )


def review_task_payload(
    *,
    article_id: str,
    main_task_id: int,
    data: Mapping[str, Any],
    text_sha256: str,
    versions: Sequence[Version],
    fingerprint: str,
    ids_key: str,
    disputes: str,
    prefill: Sequence[Span],
) -> dict[str, Any]:
    """One review task as an import item: the article, the box, every version and the starting answer."""
    text = data["text"]
    return {
        "data": {
            "text": text,
            "article_id": article_id,
            "title": data.get("title") or "",
            "date": data.get("date") or "",
            "source": data.get("source") or "",
            "text_sha256": text_sha256,
            "main_task_id": main_task_id,
            "resolves": [version.annotation_id for version in versions],
            "annotators": [version.annotator for version in versions],
            "versions": fingerprint,
            "ids_key": ids_key,
            "disputes": disputes,
        },
        "predictions": review_predictions(versions, prefill, text),
    }


def review_predictions(
    versions: Sequence[Version], prefill: Sequence[Span], text: str, *, task_id: int | None = None
) -> list[dict[str, Any]]:
    """The starting answer first, then one prediction set per annotator (named by anonymous id)."""
    sets = [{"model_version": PREFILL_VERSION, "result": result_items(list(prefill), text, id_prefix="s")}]
    for number, version in enumerate(versions):
        sets.append(
            {
                "model_version": version.annotator,
                "result": result_items(list(version.spans), text, id_prefix=f"v{number}-"),
            }
        )
    if task_id is not None:
        for prediction in sets:
            prediction["task"] = task_id
    return sets


def iter_review_tasks(client: LabelStudio, settings: ServerSettings, project_id: int) -> Iterator[dict[str, Any]]:
    """Every task of the review project with its annotations (``completed_by`` as a user id) and drafts."""
    page = 1
    seen = 0
    while True:
        params = {"project": project_id, "fields": "all", "page": page, "page_size": TASK_PAGE_SIZE}
        answer = call(
            settings, "list the review project's tasks", get_json, client, "api/tasks/", params, missing_ok=True
        )
        tasks = (answer or {}).get("tasks") or []
        for task in tasks:
            seen += 1
            yield task
        if len(tasks) < TASK_PAGE_SIZE or seen >= (answer or {}).get("total", 0):
            return
        page += 1


def export_review_tasks(
    client: LabelStudio, settings: ServerSettings, project_id: int, dest: Path, *, timeout: float, retries: int
) -> Iterator[dict[str, Any]]:
    """Every task of the review project with its annotations (``completed_by`` as a user id), from its export.

    One download of the project's export (the direct route, as pull exports the main
    project, with the same retries), streamed to ``dest`` and read back as a stream;
    ``dest`` is removed once read. Much cheaper than the task listing
    (``iter_review_tasks``: ``fields=all`` also expands the prediction sets and computes
    the Data Manager's columns); the export has the same data and annotations, the
    predictions as ids.
    """
    download = download_export(client, settings, project_id, dest, timeout=timeout, retries=retries, route="direct")
    try:
        yield from iter_tasks(download.path)
    finally:
        download.path.unlink(missing_ok=True)


def update_task_data(client: LabelStudio, settings: ServerSettings, task_id: int, data: dict[str, Any]) -> None:
    """Replace a review task's data (a refresh: the versions it shows changed)."""
    call(settings, "refresh a review task", client.tasks.update, id=task_id, data=data, request_options=NO_RETRY)
