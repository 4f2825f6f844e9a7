"""Near-duplicate groups by MinHash/LSH: copies of a story are one group, named by its first article."""

from __future__ import annotations

import pytest

from toolkit.nlp import duplicates
from toolkit.nlp.duplicates import Grouping, Groups, near_duplicate_groups, shingles

STORY = (
    "The central bank raised its key interest rate by a quarter point on Tuesday, citing persistent "
    "inflation in services and a tight labour market, and signalled that further increases were possible "
    "if wage growth did not slow in the coming months, according to a statement released after the meeting."
)
OTHER = (
    "Heavy rain flooded several villages in the north of the country overnight, forcing hundreds of families "
    "to leave their homes, while rescue teams used boats to reach people stranded on rooftops and roads."
)


def test_copies_with_small_edits_are_one_group_named_by_the_first():
    copy = STORY.replace("Tuesday", "Wednesday")  # a syndicated copy with one word changed
    retitled = "WASHINGTON (Reuters) - " + STORY
    groups = near_duplicate_groups(
        [("a", OTHER), ("b", STORY), ("c", copy), ("d", retitled), ("e", OTHER[:60] + " entirely different.")],
        threshold=0.7,
    )
    assert groups.group_of == {"b": "b", "c": "b", "d": "b"}
    assert (groups.count, groups.copies) == (1, 2)
    assert groups.copy_of("c") == "b" and groups.copy_of("b") is None and groups.copy_of("a") is None
    assert groups.group("a") == "a" and groups.group("d") == "b"


def test_a_copy_of_a_copy_joins_the_group():
    words = STORY.split()
    # Each step changes other words: the first and the last are less alike than each neighbouring pair.
    steps = [" ".join(words)]
    for index in (5, 15, 25):
        words = [*words[:index], "changed", *words[index + 1 :]]
        steps.append(" ".join(words))
    groups = near_duplicate_groups([(f"s{i}", text) for i, text in enumerate(steps)], threshold=0.7)
    assert set(groups.group_of) == {"s0", "s1", "s2", "s3"} and set(groups.group_of.values()) == {"s0"}


def test_different_articles_and_the_same_id_twice_are_no_group():
    groups = near_duplicate_groups([("a", STORY), ("b", OTHER), ("a", STORY)], threshold=0.7)
    assert groups == Groups({})
    assert (groups.count, groups.copies) == (0, 0)


def test_the_groups_are_the_same_on_every_run_and_short_texts_are_one_shingle():
    articles = [("x", STORY), ("y", STORY + " Shares fell."), ("z", OTHER), ("w", "Rates rise."), ("v", "rates RISE")]
    first = near_duplicate_groups(articles, threshold=0.7)
    assert first == near_duplicate_groups(articles, threshold=0.7)
    assert first.group_of == {"x": "x", "y": "x", "w": "w", "v": "w"}
    assert shingles("Rates rise.") == {b"rates rise"}
    assert shingles("") == set()


def test_signatures_share_one_permutation_set_and_equal_datasketchs_own():
    # One set for every article (push signs each one it sends), and the same signature as a
    # MinHash that draws its own: the groups do not change with the speed-up.
    from datasketch import MinHash

    from toolkit.nlp.duplicates import NUM_PERM, SEED, signature

    features = shingles("Angela Merkel met the chairman of Siemens in Berlin on Monday, officials said.")
    first, second = signature(features), signature(shingles("Another story about something else entirely."))
    assert first.permutations is second.permutations
    own = MinHash(num_perm=NUM_PERM, seed=SEED)
    own.update_batch(list(features))
    assert (first.hashvalues == own.hashvalues).all()


def _many(count: int) -> list[tuple[str, str]]:
    stories = [STORY, OTHER, "LONDON - " + STORY]
    return [(f"a{i}", f"{stories[i % 3]} Item {i // 3}.") for i in range(count)]


def test_a_worker_process_gives_the_groups_made_here():
    articles = _many(30)
    with Grouping(articles, threshold=0.7, worker=True) as grouping:
        assert grouping._worker is not None  # a process of its own, not this one
        assert grouping.result() == near_duplicate_groups(articles, threshold=0.7)
    assert grouping._worker is None


def test_a_worker_that_dies_leaves_the_same_groups_to_this_process():
    articles = _many(30)
    grouping = Grouping(articles, threshold=0.7, worker=True)
    grouping._worker.kill()
    assert grouping.result() == near_duplicate_groups(articles, threshold=0.7)


def test_closing_stops_a_worker_whose_groups_are_not_wanted():
    grouping = Grouping(_many(30), threshold=0.7, worker=True)
    worker = grouping._worker
    grouping.close()
    assert worker.poll() is not None and grouping._worker is None


def test_few_articles_are_grouped_here_and_none_need_no_grouping():
    assert Grouping(_many(3), threshold=0.7)._worker is None  # under BACKGROUND_MIN_ARTICLES
    assert Grouping([], threshold=0.7, worker=True).result() == Groups({})


def test_a_worker_started_before_the_articles_come_gives_the_same_groups(monkeypatch):
    monkeypatch.setattr(duplicates, "_usable_cores", lambda: 2)
    articles = _many(30)
    with Grouping(threshold=0.7, worker=True, early=True) as grouping:
        worker = grouping._worker
        assert worker is not None and worker.poll() is None  # started, waiting for the articles
        grouping.send(articles)
        assert grouping._worker is worker  # the same process groups them
        assert grouping.result() == near_duplicate_groups(articles, threshold=0.7)


def test_an_early_worker_is_stopped_when_the_articles_are_too_few_to_pay_for_it(monkeypatch):
    monkeypatch.setattr(duplicates, "_usable_cores", lambda: 2)
    articles = _many(30)  # under BACKGROUND_MIN_ARTICLES
    grouping = Grouping(threshold=0.7, early=True)
    worker = grouping._worker
    assert worker is not None
    grouping.send(articles)
    assert grouping._worker is None and worker.poll() is not None
    assert grouping.result() == near_duplicate_groups(articles, threshold=0.7)


def test_no_threshold_means_no_groups_and_no_worker(monkeypatch):
    monkeypatch.setattr(duplicates, "_usable_cores", lambda: 2)
    grouping = Grouping(threshold=None, early=True)
    assert grouping._worker is None
    grouping.send(_many(30))
    assert grouping.result() == Groups({})


def test_the_articles_are_sent_once_and_groups_wait_for_them():
    grouping = Grouping(threshold=0.7)
    with pytest.raises(RuntimeError, match="no articles were sent"):
        grouping.result()
    grouping.send(_many(3))
    with pytest.raises(RuntimeError, match="sent already"):
        grouping.send(_many(3))
