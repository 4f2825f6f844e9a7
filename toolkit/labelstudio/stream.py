"""What "Label All Tasks" serves next, and the data manager's "Most uncertain first" tab.

Label Studio Community 1.23 keeps the stream order in ``project.sampling``. Its
settings page marks uncertainty sampling as an Enterprise feature, but the Community
server accepts it through the API and its labeling stream honours it (checked against
1.23.2, see ``tests/integration/test_stream_order.py``): the next task is the unsolved
task, not locked by another annotator, with the lowest prediction ``score`` among the
predictions of the project's ``model_version``. So push sets it and the annotator
configures nothing; a new model version's predictions re-order the stream as soon as
the project's ``model_version`` names them.

Several annotators: the server locks the task it served to one annotator, so another
annotator's next task is the next unlocked one. (Its random pick among the first few
tasks for several annotators only applies to projects with a team, which Community has
not.)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from toolkit.labelstudio.client import NO_RETRY, ServerSettings, call, post_json

if TYPE_CHECKING:
    from label_studio_sdk import LabelStudio

Order = Literal["uncertainty", "sequential", "random"]

# push.order -> Label Studio's ``project.sampling`` values.
SAMPLING: dict[str, str] = {
    "uncertainty": "Uncertainty sampling",
    "sequential": "Sequential sampling",
    "random": "Uniform sampling",
}

TAB_TITLE = "Most uncertain first"
# The data manager hides these in the tab; the prediction score, hidden in a new
# project's default tab, stays visible, beside the article's id, title (never empty) and near-duplicate
# group (only articles with near-duplicates have one).
TAB_HIDDEN = [
    "tasks:inner_id",
    "tasks:annotations_results",
    "tasks:annotations_ids",
    "tasks:predictions_model_versions",
    "tasks:predictions_results",
    "tasks:file_upload",
    "tasks:storage_filename",
    "tasks:created_at",
    "tasks:updated_at",
    "tasks:updated_by",
    "tasks:avg_lead_time",
    "tasks:draft_exists",
    "tasks:data.text",
    "tasks:data.text_sha256",
    "tasks:data.date",
    "tasks:data.source",
]


def set_stream_order(client: LabelStudio, settings: ServerSettings, project: Any, order: Order) -> bool:
    """Set the project's sampling to ``order``; True when it changed."""
    wanted = SAMPLING[order]
    if getattr(project, "sampling", None) == wanted:
        return False
    call(
        settings,
        "set the labeling stream's order",
        client.projects.update,
        id=project.id,
        sampling=wanted,
        request_options=NO_RETRY,
    )
    return True


def tab_data() -> dict[str, Any]:
    """The tab: ordered by prediction score ascending, no filter, the score column shown."""
    return {
        "title": TAB_TITLE,
        "type": "list",
        "target": "tasks",
        # No filter: a tab with filters makes "Label All Tasks" follow the table
        # (first row, no task locks) instead of the project's sampling.
        "filters": {"conjunction": "and", "items": []},
        "ordering": ["tasks:predictions_score"],
        "hiddenColumns": {"explore": TAB_HIDDEN, "labeling": [*TAB_HIDDEN, "tasks:predictions_score"]},
    }


def ensure_uncertainty_tab(client: LabelStudio, settings: ServerSettings, project_id: int) -> bool:
    """Add the "Most uncertain first" tab when the project has none; True when added.

    A tab of that title is left as it is: someone may have adjusted its columns.
    """
    views = call(settings, "list the data manager's tabs", client.views.list, project=project_id)
    if any((getattr(view, "data", None) or {}).get("title") == TAB_TITLE for view in views):
        return False
    body = json.dumps({"project": project_id, "data": tab_data()}).encode()
    call(settings, "add the data manager tab", post_json, client, "api/dm/views/", body)
    return True
