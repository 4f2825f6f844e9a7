"""What push sends for near-duplicates, without a server: the group on its articles' tasks, copies scored last."""

from __future__ import annotations

import json

from toolkit.labelstudio.tasks import ProjectState
from toolkit.nlp.duplicates import Grouping, Groups
from toolkit.push.plan import PushPlan, check_articles, plan_push
from toolkit.push.pushing import _prediction_items, _task_items, _texts
from toolkit.records import ModelInfo, PredictedArticle

STORY = (
    "The central bank raised its key interest rate by a quarter point on Tuesday, citing persistent inflation "
    "in services and a tight labour market, and signalled that further increases were possible."
)
OTHER = "Heavy rain flooded several villages in the north overnight, forcing hundreds of families to leave."


def _near_duplicates(groups, config) -> Groups:
    """The groups push gives the file's articles."""
    with Grouping(_texts(groups), threshold=config.push.near_duplicates) as grouping:
        return grouping.result()


def article(article_id: str, text: str, score: float, version: str = "1") -> PredictedArticle:
    return PredictedArticle(id=article_id, text=text, model=ModelInfo(name="m", version=version), spans=[], score=score)


def test_tasks_carry_their_group_and_a_copy_is_scored_after_every_first_article(config):
    records = [article("a", OTHER, 0.6), article("b", STORY, 0.2), article("c", "LONDON - " + STORY, 0.2)]
    groups, _ = check_articles(records)
    duplicates = _near_duplicates(groups, config)
    assert (duplicates.count, duplicates.copies) == (1, 1)
    plan = plan_push(groups, ProjectState(), PushPlan(project_title="t", project_id=1))
    sent = {key: json.loads(body) for key, body in _task_items(plan, 10**7, duplicates)}
    # Only the articles of a group of two or more carry it (an article alone's group is its own id).
    assert {key: task["data"].get("group") for key, task in sent.items()} == {"a": None, "b": "b", "c": "b"}
    assert [sent[key]["predictions"][0]["score"] for key in "abc"] == [0.6, 0.2, 1.0]
    assert "copy_of" not in sent["c"]["data"] and sent["c"]["data"]["model_score"] == 0.2
    assert "model_score" not in sent["b"]["data"]


def test_a_new_model_versions_predictions_for_a_copy_are_scored_last_too(config):
    records = [article("b", STORY, 0.3, "2"), article("c", "LONDON - " + STORY, 0.1, "2")]
    groups, _ = check_articles(records)
    state = ProjectState(tasks={"b": [1], "c": [2]}, texts={1: STORY, 2: "LONDON - " + STORY}, predictions={})
    plan = plan_push(groups, state, PushPlan(project_title="t", project_id=1))
    sent = [json.loads(body) for _, body in _prediction_items(plan, 10**7, _near_duplicates(groups, config))]
    assert [(p["task"], p["score"]) for p in sent] == [(1, 0.3), (2, 1.0)]


def test_grouping_can_be_turned_off(config):
    off = config.model_copy(update={"push": config.push.model_copy(update={"near_duplicates": None})})
    groups, _ = check_articles([article("b", STORY, 0.2), article("c", STORY + " More.", 0.2)])
    assert _near_duplicates(groups, off).group_of == {}
    assert _near_duplicates(groups, config).group_of == {"b": "b", "c": "b"}
