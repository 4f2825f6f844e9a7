from __future__ import annotations

import json

import pytest

from toolkit.errors import InputError
from toolkit.readers import ReadStats, read_articles, read_text_article, text_id

SEED_LIKE = " date 2024-04-27 Secretary of State Antony Blinken warned China.\n\nSecond paragraph.\n"


def test_seed_format(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(SEED_LIKE)
    article = read_text_article(path)
    assert article.date == "2024-04-27"
    assert article.text == "Secretary of State Antony Blinken warned China.\n\nSecond paragraph."
    assert article.id == text_id(article.text)
    assert article.source == str(path)


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
        (b"", "empty article"),
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


def test_jsonl_keeps_given_ids(tmp_path):
    path = tmp_path / "a.jsonl"
    rows = [{"id": "reuters-1", "text": "One.", "title": "T", "date": "2024-01-02"}, {"id": 7, "text": "Two."}, {"text": "Three."}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    articles = list(read_articles([path]))
    assert [a.id for a in articles] == ["reuters-1", "7", text_id("Three.")]
    assert (articles[0].title, articles[0].date, articles[0].source) == ("T", "2024-01-02", f"{path}:1")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "ok"', ":2: broken JSON"),
        ('{"title": "no text"}', ":2: missing field 'text'"),
        ('{"text": 5}', ":2: field 'text' must be a string, got int"),
        ('{"text": "   "}', ":2: empty article"),
        ('[1, 2]', ":2: expected a JSON object, got list"),
        ('{"text": "x", "title": ["a"]}', ":2: field 'title' must be a string, got list"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "fine"}\n' + line + "\n")
    with pytest.raises(InputError) as raised:
        list(read_articles([path]))
    assert f"{path}{message}" in str(raised.value)


def test_exact_duplicates_are_kept_once_and_reported(tmp_path):
    (tmp_path / "a.txt").write_text("Same text.")
    (tmp_path / "b.txt").write_text("Same text.")
    stats = ReadStats()
    articles = list(read_articles([tmp_path], stats))
    assert len(articles) == 1
    assert stats.duplicates == [f"{tmp_path / 'b.txt'} repeats {tmp_path / 'a.txt'}"]


def test_same_id_other_text_is_an_error(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "x", "text": "One."}\n{"id": "x", "text": "Two."}\n')
    with pytest.raises(InputError, match=r"a.jsonl:2: id 'x' is already used by .*a.jsonl:1 for another text"):
        list(read_articles([path]))


def test_missing_and_unsupported_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        list(read_articles([tmp_path / "nope.txt"]))
    (tmp_path / "a.csv").write_text("x")
    with pytest.raises(InputError, match="unsupported file type '.csv'"):
        list(read_articles([tmp_path / "a.csv"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no .txt or .jsonl files"):
        list(read_articles([tmp_path / "empty"]))
