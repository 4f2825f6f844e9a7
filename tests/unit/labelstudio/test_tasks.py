"""Batches and checked re-sends of imports, without a server."""

from __future__ import annotations

import random
import threading

import pytest

from toolkit.errors import InputError, ServerError
from toolkit.labelstudio.labeling import task_payload, task_payload_bound
from toolkit.labelstudio.tasks import ahead, encode, iter_batches, write_once_then_check
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


def test_the_size_bound_is_never_below_the_tasks_json():
    # Characters JSON escapes to 6 bytes (control characters), 2 (quotes), 4 (outside the BMP).
    alphabet = ["a", " ", "\u0001", '"', "\\", "\n", "é", "中", "😀", "\u2028"]
    picks = random.Random(7)
    for _ in range(60):
        text = "".join(picks.choice(alphabet) for _ in range(picks.randint(1, 3000)))
        spans = []
        start = 0
        while start < len(text) - 1 and len(spans) < 5:
            end = picks.randint(start + 1, len(text))
            spans.append(Span(start=start, end=end, label=picks.choice(["PER", "\u0001ORG"]), score=picks.random() / 3))
            start = end
        first = PredictedArticle(
            id="\u0002" * picks.randint(1, 9),
            text=text,
            title=picks.choice([None, '"\u0003"' * 5]),
            model=ModelInfo(name="m", version="1"),
            spans=spans,
            score=picks.random() / 7,
        )
        second = first.model_copy(update={"model": ModelInfo(name="\u0004", version="2")})
        group = "\u0005" * 12
        for versions in ([first], [first, second]):
            sent = len(encode(task_payload(*versions, group=group), 10**9))
            assert task_payload_bound(*versions, id_room=len(group)) >= sent
    worst = "\u0001" * 5000  # every character a 6-byte escape, in the text and in a span
    article = PredictedArticle(
        id="w", text=worst, model=ModelInfo(name="m", version="1"), spans=[Span(start=0, end=5000, label="PER")]
    )
    assert task_payload_bound(article, id_room=1) >= len(encode(task_payload(article), 10**9))


def test_the_next_batch_is_prepared_while_this_one_is_sent():
    prepared: list[int] = []
    two_ready = threading.Event()

    def batches():
        for number in range(3):
            prepared.append(number)
            if number == 1:
                two_ready.set()
            yield number

    seen = []
    for batch in ahead(batches()):
        if batch == 0:
            assert two_ready.wait(5)  # batch 1 made while batch 0 is still being "sent"
        seen.append(batch)
    assert seen == [0, 1, 2] == prepared


def test_a_failure_preparing_a_batch_reaches_the_sender():
    def batches():
        yield 1
        raise InputError("article 'x' alone is too big")

    with pytest.raises(InputError, match="too big"):
        list(ahead(batches()))
