"""``.txt`` articles (seed and headline layouts), text normalisation and the checks on raw bytes."""

from __future__ import annotations

import json

import pytest

from toolkit.config import InputConfig
from toolkit.errors import InputError
from toolkit.preannotate.readers import read_articles, read_text_article, text_id

SEED_LIKE = " date 2024-04-27 Secretary of State Antony Blinken warned China.\n\nSecond paragraph.\n"


def test_seed_format(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(SEED_LIKE)
    article = read_text_article(path)
    assert article.date == "2024-04-27"
    assert article.text == "Secretary of State Antony Blinken warned China.\n\nSecond paragraph."
    assert article.id == text_id(article.text)
    assert article.source == str(path)


def test_headline_format(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(
        b"Ad sales boost Time Warner profit\r\n\r\nQuarterly profits at US media giant TimeWarner jumped.\r\n"
    )
    article = read_text_article(path, InputConfig(txt_format="headline"))
    assert article.title == "Ad sales boost Time Warner profit"
    assert article.text == "Quarterly profits at US media giant TimeWarner jumped."
    assert article.date is None


def test_headline_without_text_is_empty(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Only a headline\n\n")
    with pytest.raises(InputError, match=r"a.txt: empty article \(no text after the headline\)"):
        list(read_articles([path], options=InputConfig(txt_format="headline")))


def test_bom_and_crlf_are_normalised(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfdate 2024-04-27 One.\r\n\r\nTwo.\rThree.\r\n")
    assert read_text_article(path).text == "One.\n\nTwo.\nThree."


def test_first_line_without_date(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Just a paragraph.\n")
    article = read_text_article(path)
    assert (article.date, article.text) == (None, "Just a paragraph.")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", ": empty file"),
        (b"  \n\n", ": empty file"),
        (b"date 2024-04-27   \n", "empty article (no text after the date)"),
        (b"date 2024-02-30 Text.", ":1: date '2024-02-30' is not a real calendar date"),
        (b"date 27.04.2024 Text.", ":1: date '27.04.2024' is not in the form YYYY-MM-DD"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "looks like a binary file"),
        (b"line one\nline \xff two", ":2: not valid UTF-8"),
    ],
)
def test_bad_text_files(tmp_path, content, message):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(InputError) as raised:
        list(read_articles([path]))
    assert str(path) in str(raised.value)
    assert message in str(raised.value)


def test_too_long_article_is_bad_input(tmp_path):
    big = tmp_path / "big.txt"
    big.write_text("word " * 1_000_000)  # 5 MB
    with pytest.raises(
        InputError, match=r"big.txt: file of 5,000,000 bytes is longer than input.max_chars \(1,000,000\)"
    ):
        list(read_articles([big]))
    record = tmp_path / "big.jsonl"
    record.write_text(json.dumps({"text": "ok"}) + "\n" + json.dumps({"text": "x" * 2_000}) + "\n")
    with pytest.raises(
        InputError, match=r"big.jsonl:2: article of 2,000 characters is longer than input.max_chars \(1,000\)"
    ):
        list(read_articles([record], options=InputConfig(max_chars=1_000)))
