"""The record of the articles a model saw (``toolkit.nlp.seen``): written by train, read by evaluate."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import ModelError
from toolkit.nlp.seen import ARTICLES_FILE, META_KEY, seen_articles, text_hash, write_training_articles


def _model(folder, splits):
    folder.mkdir()
    pointer = write_training_articles(folder, splits)
    (folder / "meta.json").write_text(json.dumps({"name": "m", "toolkit": {META_KEY: pointer}}))
    return pointer


def test_an_article_is_seen_by_its_id_or_by_its_text_under_another_id(tmp_path):
    pointer = _model(
        tmp_path / "m", {"train": [("a-1", "Ada  met\nReuters."), ("a-2", "x")], "validation": [("a-3", "y")]}
    )
    assert pointer["articles"] == 3 and pointer["file"] == ARTICLES_FILE
    record = seen_articles(tmp_path / "m")
    assert record.saw("a-3", "something else")  # the id, reused by another export
    assert record.saw("new-9", "Ada met Reuters.")  # the text, spaced otherwise (normalised)
    assert not record.saw("new-9", "Ada met Siemens.")
    assert text_hash("Caf\u00e9") == text_hash("Cafe\u0301")  # NFC: the same text composed otherwise
    assert len(text_hash("x")) == 16


def test_no_record_is_none_and_a_broken_record_is_refused(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "meta.json").write_text(json.dumps({"name": "x"}))
    assert seen_articles(tmp_path / "base") is None
    _model(tmp_path / "m", {"train": [("a-1", "t")]})
    (tmp_path / "m" / ARTICLES_FILE).write_text('{"format": 1, "splits": {}}\n')
    with pytest.raises(ModelError, match="its SHA-256 is not the one in the model's meta.json"):
        seen_articles(tmp_path / "m")
    (tmp_path / "m" / ARTICLES_FILE).unlink()
    with pytest.raises(ModelError, match="cannot read") as gone:
        seen_articles(tmp_path / "m")
    assert "train the model again" in gone.value.hint


def test_few_spans_get_the_note_too():
    from toolkit.metrics.spans import few_articles_note

    assert few_articles_note(20, 200, "F1") is None
    assert few_articles_note(40, 150, "F1") == (
        "F1 rests on only 40 articles (150 spans): below 20 articles or 200 spans it is a rough figure, "
        "not a measurement to compare models by"
    )
