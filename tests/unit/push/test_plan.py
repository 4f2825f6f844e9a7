"""Push's plan from the predictions file and the project's state, without a server."""

from __future__ import annotations

import pytest

from toolkit.config import PushConfig
from toolkit.errors import InputError, ProjectError
from toolkit.labelstudio.tasks import ProjectState
from toolkit.push.plan import PushPlan, check_articles, check_stream, keeps_edited_config, plan_push
from toolkit.records import ModelInfo, PredictedArticle, Span


def article(article_id: str, version: str = "1", text: str = "Angela Merkel spoke in Paris.") -> PredictedArticle:
    return PredictedArticle(
        id=article_id,
        text=text,
        model=ModelInfo(name="m", version=version),
        spans=[Span(start=0, end=13, label="PERSON")],
    )


def plan_for(records, state: ProjectState) -> PushPlan:
    groups, _ = check_articles(records)
    return plan_push(groups, state, PushPlan(project_title="t", project_id=1))


def test_plan_new_tasks_new_prediction_sets_and_unchanged():
    state = ProjectState(
        tasks={"a": [10], "b": [11]},
        texts={10: article("a").text, 11: article("b").text},
        predictions={10: {"m-1": [100]}, 11: {"m-1": [101], "m-2": [102]}},
    )
    plan = plan_for([article("a", "2"), article("b", "2"), article("c", "2"), article("c", "1")], state)
    assert [[v.model.model_version for v in versions] for versions in plan.new_tasks] == [["m-2", "m-1"]]
    assert [(task, v.model.model_version) for task, v in plan.new_predictions] == [(10, "m-2")]
    assert plan.unchanged == 1
    assert plan.new_prediction_sets == 3


def test_plan_removes_unannotated_copies_and_second_prediction_sets():
    text = article("a").text
    state = ProjectState(
        tasks={"a": [10, 12], "b": [11, 13]},
        texts={10: text, 11: text, 12: text, 13: text},
        annotated={13},
        predictions={10: {"m-1": [100, 105]}, 11: {"m-1": [101]}, 12: {"m-1": [102]}, 13: {"m-1": [103]}},
    )
    plan = plan_for([article("a"), article("b")], state)
    # The annotated copy of b is kept, the lowest id of a; predictions of dropped tasks go with them.
    assert sorted(plan.duplicate_tasks) == [11, 12]
    assert plan.duplicate_predictions == [105]
    assert plan.new_tasks == [] and plan.new_predictions == [] and plan.unchanged == 2


def test_an_article_whose_task_text_changed_is_skipped_and_the_others_go_on():
    state = ProjectState(tasks={"a": [10]}, texts={10: "another text"}, predictions={10: {"m-1": [1]}})
    plan = plan_for([article("a", "2"), article("b")], state)
    assert plan.text_changed == ["a"]
    assert [versions[0].id for versions in plan.new_tasks] == ["b"] and plan.new_predictions == []


@pytest.mark.parametrize(
    "records, message",
    [
        ([article("a"), article("a")], "with model version 'm-1' is in the file twice"),
        ([article("a"), article("a", "2", text="Other text here, long enough.")], "used before for another text"),
        (
            [
                PredictedArticle(
                    id="a",
                    text="short",
                    model=ModelInfo(name="m", version="1"),
                    spans=[Span(start=0, end=9, label="X")],
                )
            ],
            "ends beyond the text",
        ),
    ],
)
def test_bad_prediction_files_are_input_errors(records, message):
    with pytest.raises(InputError, match=message):
        check_articles(records)


def test_a_predicted_label_outside_the_config_is_refused_naming_file_record_and_article():
    records = [
        article("a"),
        PredictedArticle(
            id="b",
            text="Ann Lee spoke.",
            model=ModelInfo(name="m", version="1"),
            spans=[Span(start=0, end=7, label="ANIMAL")],
        ),
    ]
    with pytest.raises(InputError) as raised:
        check_articles(records, labels=["PERSON", "GPE"], source="p.jsonl")
    assert raised.value.message.startswith("p.jsonl record 2 (article 'b'): span 0-7 has label 'ANIMAL', which is not")
    assert "(PERSON, GPE)" in raised.value.message
    groups, count = check_articles(records[:1], labels=(label for label in ["PERSON", "GPE", "ORG"]))
    assert count == 1 and list(groups) == ["a"]


def test_push_config_has_a_request_size_limit():
    assert PushConfig().max_request_mb == 50
    with pytest.raises(ValueError):
        PushConfig(max_request_mb=0)


def test_an_edited_labeling_config_is_kept_only_while_it_has_every_label():
    plan = PushPlan(project_title="t", project_id=1, controls_removed=["Choices 'topic'"])
    assert keeps_edited_config(plan)
    assert not keeps_edited_config(
        PushPlan(project_title="t", project_id=1, controls_removed=["Choices 'topic'"], labels_added=["ORG"])
    )
    assert not keeps_edited_config(
        PushPlan(project_title="t", project_id=1, controls_removed=["Choices 'topic'"], replace_labeling_config=True)
    )


def test_a_new_model_version_goes_only_to_tasks_nobody_annotated():
    # a: annotated; b: nobody did it yet; c: has the new version already.
    text = article("a").text
    state = ProjectState(
        tasks={"a": [10], "b": [11], "c": [12]},
        texts={10: text, 11: text, 12: text},
        annotated={10},
        predictions={10: {"m-1": [100]}, 11: {"m-1": [101]}, 12: {"m-1": [102], "m-2": [103]}},
    )
    plan = plan_for([article("a", "2"), article("b", "2"), article("c", "2")], state)
    assert [(task, v.model.model_version) for task, v in plan.new_predictions] == [(11, "m-2")]
    assert plan.annotated_kept == ["a"]
    assert plan.unchanged == 1 and plan.new_tasks == []


def test_a_version_for_some_unannotated_tasks_keeps_the_projects_version():
    text = article("a").text
    state = ProjectState(
        tasks={"a": [10], "b": [11], "done": [12]},
        texts={10: text, 11: text, 12: text},
        annotated={12},
        predictions={10: {"m-1": [100]}, 11: {"m-1": [101]}, 12: {"m-1": [102]}},
    )

    def plan(records):
        groups, _ = check_articles(records)
        frame = PushPlan(project_title="t", project_id=1, current_model_version="m-1", pushed_version="m-2")
        frame.model_version = "m-2"
        return plan_push(groups, state, frame)

    # b keeps only m-1, the new task c has only m-2: the project stays on m-1 and says both.
    some = plan([article("a", "2"), article("c", "2")])
    assert (some.model_version, some.version_kept) == ("m-1", True)
    assert (some.lacking_pushed, some.lacking_kept) == (["b"], ["c"])
    # Every unannotated task gets m-2 (the annotated one does not count): the project moves.
    every = plan([article("a", "2"), article("b", "2"), article("c", "2")])
    assert (every.model_version, every.version_kept) == ("m-2", False)


def scored(article_id: str, scoring: str | None, score: float | None = 0.5) -> PredictedArticle:
    record = article(article_id)
    model = record.model.model_copy(update={"scoring": scoring})
    return record.model_copy(update={"model": model, "score": score})


@pytest.mark.parametrize(
    ("records", "message"),
    [
        # The red-team file: a --no-scores output resumed with scores on (before fingerprints).
        ([scored("a", None, None), scored("b", None)], r"record 2 \(article 'b'\): scoring scored \(scoring not"),
        ([scored("a", "beam8"), scored("b", "unscored", None)], r"record 2 .*scoring unscored, record 1's beam8"),
        ([scored("a", "beam8"), scored("b", "beam2")], r"scoring beam2, record 1's beam8: a push sends one kind"),
        ([scored("a", "beam8"), scored("a", "beam8+cal-x")], r"scoring beam8\+cal-x, record 1's beam8"),
    ],
)
def test_a_file_mixing_kinds_of_score_is_refused(records, message):
    with pytest.raises(InputError, match=message):
        check_articles(records)


def test_a_file_of_one_scoring_passes():
    groups, count = check_articles([scored("a", "beam8"), scored("b", "beam8", 0.9)])
    assert (count, list(groups)) == (2, ["a", "b"])


@pytest.mark.parametrize(
    ("current", "records", "refused"),
    [
        # Task 10 ("a") waits in the stream with the project's version; "b" is new.
        ("m-1 beam8", [scored("b", "unscored", None)], "serves scored predictions .* 1 unannotated task would lack"),
        ("m-1 unscored", [scored("b", "beam8")], "serves unscored predictions"),
        # Every waiting task gets the other kind: the project moves to it whole, one kind again.
        ("m-1 beam8", [scored("a", "unscored", None), scored("b", "unscored", None)], None),
        ("m-1 beam8", [scored("b", "beam2")], None),  # another set of scores: the stream moves whole or stays
        ("m-1", [scored("b", "unscored", None)], None),  # a version pushed before fingerprints: its own kind
    ],
)
def test_a_stream_of_one_kind_refuses_the_other_unless_it_moves_whole(current, records, refused):
    state = ProjectState(tasks={"a": [10]}, texts={10: records[0].text}, predictions={10: {current: [1]}})
    plan = PushPlan(project_title="t", project_id=1, current_model_version=current)
    groups, _ = check_articles(records)
    plan.pushed_version = plan.model_version = records[0].model.model_version
    plan_push(groups, state, plan)
    if refused is None:
        check_stream(plan, groups)
        return
    with pytest.raises(ProjectError, match=refused) as raised:
        check_stream(plan, groups)
    assert "push to another project (project.title)" in str(raised.value.hint)
