"""What ``toolkit push`` says, from a result built in memory (``toolkit.push.view``), without a server."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from toolkit.labelstudio.tasks import ProjectState
from toolkit.push import PushResult, view
from toolkit.push.plan import PushPlan, check_articles, plan_push
from toolkit.records import ModelInfo, PredictedArticle, Span
from toolkit.render.console import print_document

TEXT = "Angela Merkel spoke in Paris."


def article(article_id: str, version: str = "1") -> PredictedArticle:
    model = ModelInfo(name="m", version=version)
    return PredictedArticle(id=article_id, text=TEXT, model=model, spans=[Span(start=0, end=13, label="PERSON")])


def shown(document) -> str:
    console = Console(file=io.StringIO(), width=400, highlight=False, markup=False)
    print_document(console, document)
    return console.file.getvalue()


def kept_version_plan() -> PushPlan:
    """m-2 for a and the new task c only: b keeps m-1 alone, c has no m-1, so the project stays on m-1."""
    state = ProjectState(
        tasks={"a": [10], "b": [11], "done": [12]},
        texts={10: TEXT, 11: TEXT, 12: TEXT + " Edited."},
        annotated={12},
        predictions={10: {"m-1": [100]}, 11: {"m-1": [101]}, 12: {"m-1": [102]}},
    )
    groups, _ = check_articles([article("a", "2"), article("c", "2"), article("done", "2")])
    frame = PushPlan(project_title="News", project_id=7, current_model_version="m-1", pushed_version="m-2")
    frame.model_version, frame.articles = "m-2", len(groups)
    return plan_push(groups, state, frame)


def test_a_push_says_what_it_did_with_every_count_in_words():
    plan = kept_version_plan()
    plan.kept_duplicates = ["x"]
    result = PushResult(
        plan=plan,
        project_id=7,
        project_url="http://127.0.0.1:8091/projects/7",
        tasks_created=1,
        predictions_created=1,
        duplicate_tasks_removed=1,
        duplicate_predictions_removed=2,
        near_duplicate_groups=1,
        near_duplicate_copies=1,
        order="uncertainty",
        stream_order_set=True,
        tab_added=True,
    )
    text = shown(view.push_document(result, Path("configs/news.yaml")))
    lines = text.splitlines()
    assert lines[0] == "Project 'News' found: http://127.0.0.1:8091/projects/7"
    assert "  1 new task, 1 article already in the project" in lines  # 3 articles: 1 new, 1 text edited
    assert "  1 new prediction set on existing tasks" in lines
    assert (
        "  removed 1 duplicate task and 2 duplicate prediction sets (copies from an interrupted or a concurrent push)"
        in lines
    )
    assert "  1 article with more than one annotated task (kept): x" in lines  # was "1 article have"
    assert any(line.startswith("  1 article skipped: the task's text was edited in Label Studio") for line in lines)
    assert "'done'" in text
    # The model-version lines (formerly push.plan.version_kept_lines), nested under the first.
    assert any(
        line.startswith("  project model_version stays 'm-1', not 'm-2': 'm-2' would not be on") for line in lines
    )
    assert "    suggestions of 'm-1' only (no 'm-2'): 1 article (b)" in lines
    assert any(line.startswith("    no 'm-1' prediction, so no suggestions in Label All Tasks") for line in lines)
    assert "1 article (c)" in text
    assert "  near-duplicates: 1 group holding 1 copy (served after every group's first article" in text
    assert "  Label All Tasks serves the lowest task score first (set now): push.order is 'uncertainty'" in lines
    assert "  data manager tab 'Most uncertain first' added (prediction score column shown)" in lines
    assert (
        lines[-1] == "Next: annotate in Label Studio, then `toolkit pull --config configs/news.yaml --out FILE.jsonl`"
    )


def test_a_dry_run_says_what_a_push_would_write():
    plan = kept_version_plan()
    plan.duplicate_tasks, plan.duplicate_predictions = [1], [2, 3]
    result = PushResult(plan=plan, project_id=7, dry_run=True)
    lines = shown(view.push_document(result, Path("c.yaml"))).splitlines()
    assert lines[0] == "Dry run for 'News', project 7: nothing written"
    assert lines[1:5] == [
        "  new tasks:           1",
        "  new prediction sets: 2 (1 on existing tasks)",
        "    m-2: 2",
        "  unchanged:           0",
    ]
    assert "  annotated, kept as they are (no new prediction set): 0" not in lines
    assert "  copies left by an interrupted or a concurrent push, to remove: 1 task, 2 prediction sets" in lines
    assert any(line.startswith("  project model_version stays 'm-1'") for line in lines)
    assert not any(line.startswith("Next:") for line in lines)


def test_a_new_project_and_a_version_set_and_a_spare_project():
    groups, _ = check_articles([article("a", "2")])
    frame = PushPlan(project_title="News", project_id=None, pushed_version="m-2", articles=1)
    frame.model_version = "m-2"
    plan = plan_push(groups, ProjectState(), frame)
    planned = shown(view.push_document(PushResult(plan=plan, dry_run=True), Path("c.yaml"))).splitlines()
    assert planned[0] == "Dry run for 'News', a new project (would be created): nothing written"
    assert "  project model_version: None -> 'm-2'" in planned
    result = PushResult(
        plan=plan,
        project_id=9,
        project_url="u",
        project_created=True,
        spare_project_id=10,
        spare_project_title="News [empty copy of 9]",
        tasks_created=1,
        model_version_set=True,
        order="sequential",
    )
    lines = shown(view.push_document(result, Path("c.yaml"))).splitlines()
    assert lines[0] == "Project 'News' created: u"
    assert lines[1] == (
        "  another push created it at the same moment: this push's own project 10 is empty, "
        "renamed 'News [empty copy of 9]'; delete it in Label Studio"
    )
    assert "  1 new task, 0 articles already in the project" in lines
    assert "  project model_version set to 'm-2': annotators see these predictions" in lines
    assert "  Label All Tasks serves in task order: push.order is 'sequential'" in lines


def test_labeling_config_lines():
    plan = PushPlan(project_title="t", project_id=1, labels_added=["PRODUCT"], controls_removed=["Choices 'topic'"])
    plan.labeling_config_changes = True
    dry = shown(view.push_document(PushResult(plan=plan, dry_run=True), Path("c.yaml")))
    assert "labeling config: `labels` adds PRODUCT, but replacing the config would remove Choices 'topic'" in dry
    plan.replace_labeling_config = True
    dry = shown(view.push_document(PushResult(plan=plan, dry_run=True), Path("c.yaml")))
    assert "  labeling config: would be replaced: added PRODUCT; removed Choices 'topic' (not created by push)" in dry
    done = shown(view.push_document(PushResult(plan=plan, labeling_config_updated=True), Path("c.yaml")))
    assert "  labeling config updated: added PRODUCT; removed Choices 'topic' (not created by push)" in done
    kept = PushPlan(project_title="t", project_id=1, controls_removed=["Choices 'topic'"])
    said = shown(view.push_document(PushResult(plan=kept), Path("c.yaml")))
    assert "  labeling config: edited in Label Studio, left as it is: it has Choices 'topic', which push" in said


def test_overlap_lines_say_what_the_stream_serves_and_what_changed():
    from toolkit.labelstudio.overlap import Overlap, OverlapChange

    plan = PushPlan(project_title="News", project_id=7)
    wanted = Overlap(annotators=2, percentage=30)
    change = OverlapChange(before=Overlap(1, 100), after=wanted)
    done = shown(view.push_document(PushResult(plan=plan, overlap=wanted, overlap_change=change), Path("c.yaml")))
    assert (
        "overlap: the stream serves 30% of the tasks to 2 annotators each (set now; was each task to 1 annotator)"
        in done
    )
    kept = shown(view.push_document(PushResult(plan=plan, overlap=Overlap(3, 100)), Path("c.yaml")))
    assert "overlap: the stream serves every task to 3 annotators each (project.overlap)" in kept
    dry = shown(
        view.push_document(PushResult(plan=plan, dry_run=True, overlap=wanted, overlap_change=change), Path("c.yaml"))
    )
    assert "overlap: the stream would serve 30% of the tasks to 2 annotators each (would be set;" in dry
    assert "overlap" not in shown(view.push_document(PushResult(plan=plan), Path("c.yaml")))
