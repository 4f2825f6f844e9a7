from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from toolkit.config import InputConfig, InputFields
from toolkit.errors import InputError
from toolkit.preannotate.readers import ReadStats, normalise_date, read_articles, read_text_article, text_id

SEED_LIKE = " date 2024-04-27 Secretary of State Antony Blinken warned China.\n\nSecond paragraph.\n"
REUTERS_FIELDS = InputConfig(fields=InputFields(text="body", id="attrs.newid", title="title", date="date"))
CORPUS = Path(os.environ.get("TOOLKIT_CORPUS", Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"))


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


def test_jsonl_keeps_given_ids(tmp_path):
    path = tmp_path / "a.jsonl"
    rows = [
        {"id": "reuters-1", "text": "One.", "title": "T", "date": "2024-01-02"},
        {"id": 7, "text": "Two."},
        {"text": "Three."},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    articles = list(read_articles([path]))
    assert [a.id for a in articles] == ["reuters-1", "7", text_id("Three.")]
    assert (articles[0].title, articles[0].date, articles[0].source) == ("T", "2024-01-02", f"{path}:1")
    assert articles[0].date_original is None  # already ISO: nothing to keep


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "ok"', ":2: broken JSON"),
        ('{"title": "no text"}', ":2: missing field 'text'"),
        ('{"text": 5}', ":2: field 'text' must be a string, got int"),
        ('{"text": "   "}', ":2: empty article"),
        ("[1, 2]", ":2: expected an object, got list"),
        ('{"text": "x", "title": ["a"]}', ":2: field 'title' must be a string, got list"),
    ],
)
def test_bad_jsonl_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "in.jsonl"
    path.write_text('{"text": "fine"}\n' + line + "\n")
    with pytest.raises(InputError) as raised:
        list(read_articles([path]))
    assert f"{path}{message}" in str(raised.value)


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
    assert "--on-error skip" in raised.value.hint


def test_json_array_with_field_mapping_and_dates(tmp_path):
    path = tmp_path / "reut2-000.json"
    rows = [
        {
            "attrs": {"newid": "1"},
            "title": "BAHIA COCOA REVIEW",
            "body": "Showers continued in Bahia.\r\n",
            "date": "26-FEB-1987 15:01:01.79",
        },
        {"attrs": {"newid": "2"}, "title": "T", "body": "Second.", "date": "sometime in 1987"},
        {"attrs": {"newid": "3"}, "body": "Third.", "date": "1987-03-01T10:00:00"},
    ]
    path.write_text(json.dumps(rows))
    stats = ReadStats()
    first, second, third = read_articles([path], stats, options=REUTERS_FIELDS)
    assert (first.id, first.title, first.text) == ("1", "BAHIA COCOA REVIEW", "Showers continued in Bahia.")
    assert (first.date, first.date_original) == ("1987-02-26T15:01:01.790", "26-FEB-1987 15:01:01.79")
    assert (second.date, second.date_original) == (None, "sometime in 1987")
    assert (third.date, third.date_original) == ("1987-03-01T10:00:00", None)
    assert first.source == f"{path} record 1"
    assert stats.dates_not_parsed == 1


def test_json_array_errors(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('[\n{"text": "a"},\n{"text": }\n]')
    with pytest.raises(InputError, match=r"broken.json:3: broken JSON"):
        list(read_articles([broken]))
    empty = tmp_path / "empty.json"
    empty.write_text("[]")
    with pytest.raises(InputError, match=r"empty.json: empty file"):
        list(read_articles([empty]))
    missing = tmp_path / "missing.json"
    missing.write_text(json.dumps([{"text": "a"}, {"body": "b"}]))
    with pytest.raises(InputError, match=r"missing.json record 2: missing field 'text'"):
        list(read_articles([missing]))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-27", "2024-04-27"),
        ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01.790"),
        ("1-MAR-1987 09:00:00.00", "1987-03-01T09:00:00"),
        ("27 April 2024", "2024-04-27"),
        ("2024-04-27T10:11:12+02:00", "2024-04-27T10:11:12+02:00"),
        ("2024-02-30", None),
        ("yesterday", None),
    ],
)
def test_normalise_date(value, expected):
    assert normalise_date(value, InputConfig().date_formats) == expected


def test_csv(tmp_path):
    path = tmp_path / "a.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "headline", "content", "published"])
        writer.writerow(["a1", "First", "Angela Merkel visited Paris.\nOn Monday.", "2024-01-02"])
        writer.writerow(["a2", "Second", "", "2024-01-03"])
        writer.writerow(["a3", "Third", "Third text.", ""])
    options = InputConfig(fields=InputFields(text="content", id="id", title="headline", date="published"))
    stats = ReadStats()
    articles = list(read_articles([path], stats, options=options, on_error="skip"))
    assert [(a.id, a.title, a.text, a.date) for a in articles] == [
        ("a1", "First", "Angela Merkel visited Paris.\nOn Monday.", "2024-01-02"),
        ("a3", "Third", "Third text.", None),
    ]
    assert articles[0].source == f"{path}:2"
    # The quoted text of row 1 spans two lines, so the empty row starts on line 4.
    assert stats.skipped_examples == [f"{path}:4: empty article (field 'content' holds no text)"]


def test_csv_header_only_is_empty(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,text\n")
    with pytest.raises(InputError, match=r"a.csv: empty file \(no rows under the header\)"):
        list(read_articles([path]))


def test_parquet(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "a.parquet"
    table = pa.table({"id": ["p1", "p2", "p3"], "text": ["One.", None, "Three."], "meta": [{"day": "2024-01-02"}] * 3})
    pq.write_table(table, path)
    options = InputConfig(fields=InputFields(date="meta.day"))
    stats = ReadStats()
    articles = list(read_articles([path], stats, options=options, on_error="skip"))
    assert [(a.id, a.text, a.date) for a in articles] == [("p1", "One.", "2024-01-02"), ("p3", "Three.", "2024-01-02")]
    assert stats.skipped_examples == [f"{path} row 2: empty article (field 'text' holds no text)"]
    corrupt = tmp_path / "b.parquet"
    corrupt.write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"b.parquet: not a readable Parquet file"):
        list(read_articles([corrupt]))


def test_hugging_face_dataset_on_disk(tmp_path):
    import datasets

    folder = tmp_path / "saved"
    datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["One.", "Two."], "title": ["A", "B"]}),
            "test": datasets.Dataset.from_dict({"text": ["Three."], "title": ["C"]}),
        }
    ).save_to_disk(str(folder))
    articles = list(read_articles([tmp_path]))  # found inside a folder, read as one input
    assert sorted(a.text for a in articles) == ["One.", "Three.", "Two."]
    assert {a.source for a in articles} == {
        f"{folder} [train] row 1",
        f"{folder} [train] row 2",
        f"{folder} [test] row 1",
    }


def test_globs_and_recursive_folders(tmp_path):
    (tmp_path / "x" / "y").mkdir(parents=True)
    (tmp_path / "x" / "a.txt").write_text("First.")
    (tmp_path / "x" / "y" / "b.txt").write_text("Second.")
    (tmp_path / "x" / "y" / "notes.md").write_text("not an article")
    (tmp_path / "x" / "y" / "c.jsonl").write_text('{"text": "Third."}\n')
    assert [a.text for a in read_articles([tmp_path / "x"])] == ["First.", "Second.", "Third."]
    assert [a.text for a in read_articles([f"{tmp_path}/**/*.txt"])] == ["First.", "Second."]
    with pytest.raises(InputError, match=r"\*.csv: the pattern matches no file"):
        list(read_articles([f"{tmp_path}/*.csv"]))


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


def test_missing_and_unsupported_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        list(read_articles([tmp_path / "nope.txt"]))
    (tmp_path / "a.docx").write_text("x")
    with pytest.raises(InputError, match="unsupported file type '.docx'"):
        list(read_articles([tmp_path / "a.docx"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no .txt, .jsonl, .json, .csv, .parquet"):
        list(read_articles([tmp_path / "empty"]))


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


def test_input_config_is_checked_key_by_key():
    from toolkit.config import parse_config
    from toolkit.errors import ConfigError

    data = {
        "project": {"title": "T"},
        "labels": ["PERSON"],
        "input": {"txt_format": "title", "on_error": "ignore", "fields": {"txt": "body"}},
        "spacy": {"beam_width": 1},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    lines = raised.value.errors
    assert any(line.startswith("[input.txt_format] Input should be 'seed' or 'headline'") for line in lines)
    assert any(line.startswith("[input.on_error] Input should be 'fail' or 'skip'") for line in lines)
    assert any(line.startswith("[input.fields.txt] unknown key") for line in lines)
    assert any(line.startswith("[spacy.beam_width] Input should be greater than or equal to 2") for line in lines)
