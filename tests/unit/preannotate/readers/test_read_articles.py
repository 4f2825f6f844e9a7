"""Reading every input once: bad input failed or skipped and counted, duplicates, stable ids."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import ROOT
from toolkit.config import InputConfig, InputFields
from toolkit.errors import InputError
from toolkit.preannotate.readers import BadInput, ReadStats, read_articles, text_id

REUTERS_FIELDS = InputConfig(fields=InputFields(text="body", id="attrs.newid", title="title", date="date"))
CORPUS = Path(os.environ.get("TOOLKIT_CORPUS", ROOT / ".." / "shared" / "corpus"))


def test_skip_goes_on_and_counts_by_reason(tmp_path):
    good = tmp_path / "a.jsonl"
    good.write_bytes(
        b'{"text": "One."}\n'
        b'{"text": "broken"\n'  # line 2
        b'{"title": "no text"}\n'  # line 3
        b'{"text": "bad \xff byte"}\n'  # line 4
        b'{"text": ""}\n'  # line 5
        b'{"text": "Two."}\n'
    )
    (tmp_path / "b.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "c.txt").write_bytes(b"")
    stats = ReadStats()
    articles = list(read_articles([tmp_path], stats, on_error="skip"))
    assert [a.text for a in articles] == ["One.", "Two."]
    assert stats.skipped == {
        "broken JSON": 1,
        "missing text field": 1,
        "invalid UTF-8": 1,
        "empty article": 1,
        "binary file": 1,
        "empty file": 1,
    }
    assert f"{good}:2: broken JSON (Expecting ',' delimiter at column 18)" in stats.skipped_examples
    assert f"{good}:4: not valid UTF-8 (byte 15 of the line)" in stats.skipped_examples


def test_fail_is_the_default_and_names_the_first_bad_input(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "One."}\n{"body": "x"}\n')
    with pytest.raises(InputError) as raised:
        list(read_articles([path]))
    assert str(raised.value) == f"{path}:2: missing field 'text' (input.fields.text)"
    # The library names the setting; the command line adds its flag (tests/unit/cli/test_preannotate.py).
    assert "skip bad input (input.on_error: skip)" in raised.value.hint


def test_exact_duplicates_are_kept_once_and_reported(tmp_path):
    (tmp_path / "a.txt").write_text("Same text.")
    (tmp_path / "b.txt").write_text("Same text.\r\n")  # the same once normalised
    stats = ReadStats()
    articles = list(read_articles([tmp_path], stats))
    assert len(articles) == 1
    assert stats.duplicates == [f"{tmp_path / 'b.txt'} repeats {tmp_path / 'a.txt'}"]


def test_ids_are_stable_across_runs_and_input_order(tmp_path):
    for name, text in [
        ("a.txt", "Alpha text."),
        ("b.txt", "Beta text."),
        ("c.jsonl", '{"text": "Gamma."}\n{"id": "g2", "text": "Delta."}\n'),
    ]:
        (tmp_path / name).write_text(text)
    files = [tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.jsonl"]
    first = {a.text: a.id for a in read_articles(files)}
    again = {a.text: a.id for a in read_articles(list(reversed(files)))}
    assert first == again
    assert first["Delta."] == "g2"
    assert first["Alpha text."] == text_id("Alpha text.")


def test_same_id_other_text_is_an_error(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x", "text": "One."}\n{"id": "x", "text": "Two."}\n')
    with pytest.raises(InputError, match=r"a.jsonl:2: id 'x' is already used by .*a.jsonl:1 for another text"):
        list(read_articles([path]))


@pytest.mark.skipif(not (CORPUS / "reuters-21578").is_dir(), reason="development corpus not present")
def test_reuters_corpus_reads_with_its_field_mapping():
    stats = ReadStats()
    articles = list(
        read_articles([CORPUS / "reuters-21578" / "reut2-000.json"], stats, options=REUTERS_FIELDS, on_error="skip")
    )
    assert articles[0].id == "1"
    assert articles[0].date == "1987-02-26T15:01:01.790"
    assert articles[0].date_original == "26-FEB-1987 15:01:01.79"
    assert stats.skipped["empty article"] > 0  # Reuters has records without a body
    assert stats.articles + stats.skipped_total + len(stats.duplicates) == 1000


@pytest.mark.skipif(not (CORPUS / "bbc-news").is_dir(), reason="development corpus not present")
def test_bbc_corpus_reads_as_headlines():
    articles = list(
        read_articles([CORPUS / "bbc-news" / "business"], options=InputConfig(txt_format="headline"), on_error="skip")
    )
    assert len(articles) > 400
    assert articles[0].title == "Ad sales boost Time Warner profit"


def test_read_stats_merge():
    first = ReadStats(files=1, articles=2, duplicates=["b repeats a"], dates_not_parsed=1)
    for number in range(15):
        first.skip(BadInput("broken JSON", f"a.jsonl:{number}: broken JSON"))
    second = ReadStats(files=2, articles=3, dates_not_parsed=2)
    for number in range(10):
        second.skip(BadInput("binary file", f"b{number}.txt: looks like a binary file"))
    merged = first.merge(second)
    assert merged is first
    assert (merged.files, merged.articles, merged.dates_not_parsed) == (3, 5, 3)
    assert merged.skipped == {"broken JSON": 15, "binary file": 10}
    assert merged.skipped_reasons() == "broken JSON 15, binary file 10"
    assert len(merged.skipped_examples) == 20  # the first ones, as one read would keep them
    assert merged.skipped_examples[15] == "b0.txt: looks like a binary file"
    assert merged.duplicates == ["b repeats a"]


def test_dates_not_understood_are_counted_on_the_articles_kept(tmp_path):
    path = tmp_path / "a.jsonl"
    rows = ['{"text": "One.", "date": "someday"}', '{"text": "One.", "date": "someday"}', '{"text": "Two."}']
    path.write_text("\n".join(rows) + "\n")
    stats = ReadStats()
    assert [a.date_original for a in read_articles([path], stats)] == ["someday", None]
    assert (stats.dates_not_parsed, len(stats.duplicates)) == (1, 1)
