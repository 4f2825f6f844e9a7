"""Batches and checked re-sends of imports, without a server."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError, ServerError
from toolkit.labelstudio.labeling import task_payload
from toolkit.labelstudio.tasks import encode, iter_batches, write_once_then_check
from toolkit.records import ModelInfo, PredictedArticle, Span


def article(article_id: str, version: str = "1", text: str = "Angela Merkel spoke in Paris.") -> PredictedArticle:
    return PredictedArticle(
        id=article_id,
        text=text,
        model=ModelInfo(name="m", version=version),
        spans=[Span(start=0, end=13, label="PERSON")],
    )


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


def test_a_write_that_may_have_landed_is_checked_before_it_is_sent_again(monkeypatch):
    monkeypatch.setattr("toolkit.labelstudio.tasks.RETRY_WAIT_MIN", 0)
    monkeypatch.setattr("toolkit.labelstudio.tasks.RETRY_WAIT_MAX", 0)
    calls = []

    def send():
        calls.append("send")
        if calls.count("send") == 1:
            raise ServerError("timed out")  # no status: the server may have done it
        return "sent"

    def landed():
        calls.append("check")
        # it did not land: send again

    assert write_once_then_check(send, landed, "import") == "sent"
    assert calls == ["send", "check", "send"]

    calls.clear()

    def landed_now() -> str:
        calls.append("check")
        return "found"

    def first_fails() -> None:
        calls.append("send")
        raise ServerError("boom", status=502)

    assert write_once_then_check(first_fails, landed_now, "import") == "found"
    assert calls == ["send", "check"]


def test_a_definite_refusal_is_not_retried():
    calls = []

    def send():
        calls.append("send")
        raise ServerError("bad request", status=400)

    with pytest.raises(ServerError, match="bad request"):
        write_once_then_check(send, lambda: pytest.fail("must not check"), "import")
    assert calls == ["send"]
