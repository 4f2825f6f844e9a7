from __future__ import annotations

import pytest

from toolkit.dataset.schema import features, split_of
from toolkit.records import tag_names


def test_split_is_a_function_of_the_id_only():
    splits = {"train": 0.8, "validation": 0.1, "test": 0.1}
    assigned = {f"id-{i}": split_of(f"id-{i}", splits) for i in range(2000)}
    assert assigned == {key: split_of(key, splits) for key in assigned}
    shares = {name: sum(v == name for v in assigned.values()) / 2000 for name in splits}
    assert shares["train"] == pytest.approx(0.8, abs=0.04)
    assert set(assigned.values()) == set(splits)


def test_split_does_not_depend_on_the_order_the_config_lists_the_splits():
    # A config dumped with sorted keys lists test, train, validation.
    listed = {"train": 0.7, "validation": 0.1, "test": 0.1, "holdout": 0.1}
    reordered = {"test": 0.1, "holdout": 0.1, "train": 0.7, "validation": 0.1}
    ids = [f"article-{i}" for i in range(2000)]
    assert [split_of(key, listed) for key in ids] == [split_of(key, reordered) for key in ids]


def test_ner_tags_are_class_labels_in_config_order():
    schema = features(["PERSON", "GPE"])
    assert (
        schema["ner_tags"].feature.names
        == tag_names(["PERSON", "GPE"])
        == ["O", "B-PERSON", "I-PERSON", "B-GPE", "I-GPE"]
    )
