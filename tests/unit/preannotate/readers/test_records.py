"""Structured inputs: JSONL, JSON arrays, CSV, Parquet, saved datasets; the field mapping and dates."""

from __future__ import annotations

import csv
import json

import pytest

from toolkit.config import InputConfig, InputFields
from toolkit.errors import InputError
from toolkit.preannotate.readers import ReadStats, normalise_date, read_articles, text_id

REUTERS_FIELDS = InputConfig(fields=InputFields(text="body", id="attrs.newid", title="title", date="date"))


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
