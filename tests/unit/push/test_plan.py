"""Push's plan, batching and checked re-sends, without a server."""

from __future__ import annotations

import pytest

from toolkit.config import PushConfig
from toolkit.errors import InputError, ProjectError, ServerError
from toolkit.labelstudio.labeling import task_payload
from toolkit.push.run import (
    ProjectState,
    PushPlan,
    _write_once_then_check,
    check_articles,
    encode,
    iter_batches,
    plan_push,
    same_labeling_config,
)
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


def test_batches_are_cut_by_count_and_by_bytes():
    items = [(str(i), encode(task_payload(article(str(i))), 10**6)) for i in range(7)]
    assert [len(b) for b in list(iter_batches(items, size=3, max_bytes=10**6))] == [3, 3, 1]
    one = len(items[0][1])
    by_bytes = list(iter_batches(items, size=100, max_bytes=int(one * 2.5)))
    assert [len(b) for b in by_bytes] == [2, 2, 2, 1]
    assert all(len(b"[" + b",".join(e for _, e in batch) + b"]") <= one * 2.5 for batch in by_bytes)
    assert [key for batch in by_bytes for key, _ in batch] == [str(i) for i in range(7)]
    with pytest.raises(InputError, match="alone is .* over push.max_request_mb"):
        encode(task_payload(article("big")), 50)


def test_push_config_has_a_request_size_limit():
    assert PushConfig().max_request_mb == 50
    with pytest.raises(ValueError):
        PushConfig(max_request_mb=0)


def test_a_write_that_may_have_landed_is_checked_before_it_is_sent_again(monkeypatch):
    monkeypatch.setattr("toolkit.push.run.RETRY_WAIT_MIN", 0)
    monkeypatch.setattr("toolkit.push.run.RETRY_WAIT_MAX", 0)
    calls = []

    def send():
        calls.append("send")
        if calls.count("send") == 1:
            raise ServerError("timed out")  # no status: the server may have done it
        return "sent"

    def landed():
        calls.append("check")
        # it did not land: send again

    assert _write_once_then_check(send, landed, "import") == "sent"
    assert calls == ["send", "check", "send"]

    calls.clear()

    def landed_now() -> str:
        calls.append("check")
        return "found"

    def first_fails() -> None:
        calls.append("send")
        raise ServerError("boom", status=502)

    assert _write_once_then_check(first_fails, landed_now, "import") == "found"
    assert calls == ["send", "check"]


def test_a_definite_refusal_is_not_retried():
    calls = []

    def send():
        calls.append("send")
        raise ServerError("bad request", status=400)

    with pytest.raises(ServerError, match="bad request"):
        _write_once_then_check(send, lambda: pytest.fail("must not check"), "import")
    assert calls == ["send"]


def test_labeling_configs_compare_without_layout_whitespace():
    assert same_labeling_config(
        "<View>\n  <Text name='t' value='$text'/>\n</View>\n", "<View><Text name='t' value='$text'/></View>"
    )
    assert not same_labeling_config("<View><Label value='A'/></View>", "<View><Label value='B'/></View>")


class _RefusingProjects:
    """Stands in for ``client.projects``: the server's 400 answer to a labeling config."""

    def validate_label_config(self, **_):
        from label_studio_sdk.core.api_error import ApiError

        raise ApiError(status_code=400, headers={}, body={"detail": "Labels tag needs at least one Label"})


def _settings():
    from pydantic import SecretStr

    from toolkit.labelstudio.client import ServerSettings

    return ServerSettings(url="http://127.0.0.1:9", api_key=SecretStr("k"), origin="test")


def test_a_labeling_config_the_server_rejects_is_a_project_error_in_its_words():
    from types import SimpleNamespace

    from toolkit.push.run import validate_labeling_config

    client = SimpleNamespace(projects=_RefusingProjects())
    with pytest.raises(
        ProjectError, match="rejects the labeling config generated from `labels`: Labels tag needs"
    ) as error:
        validate_labeling_config(client, _settings(), "<View/>", project_id=3)
    assert "check `labels`" in error.value.hint


def test_a_request_over_the_server_limit_says_which_setting_to_lower():
    from label_studio_sdk.core.api_error import ApiError

    from toolkit.labelstudio.client import describe_api_error, may_have_landed

    error = describe_api_error(ApiError(status_code=413, headers={}, body="too large"), _settings(), "import tasks")
    assert "rejected a request as too large" in error.message and "push.max_request_mb" in error.hint
    assert not may_have_landed(error)
    assert may_have_landed(ServerError("x", status=503)) and may_have_landed(ServerError("timeout"))


def test_label_studios_answer_to_a_body_over_its_limit_is_reported_as_too_large():
    """Seen with DATA_UPLOAD_MAX_MEMORY_SIZE=100000 and a 0.8 MB import: a 500 with this detail."""
    from label_studio_sdk.core.api_error import ApiError

    from toolkit.labelstudio.client import describe_api_error, may_have_landed

    body = {"status_code": 500, "detail": "You cannot access body after reading from request's data stream"}
    error = describe_api_error(ApiError(status_code=500, headers={}, body=body), _settings(), "import tasks")
    assert error.status == 413 and "too large" in error.message
    assert not may_have_landed(error)  # nothing was imported: no check-and-resend round
