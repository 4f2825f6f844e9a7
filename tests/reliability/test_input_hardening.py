"""Inputs that used to crash pre-annotation or corrupt its output, through the real command line.

Each case runs ``toolkit preannotate`` in a subprocess with the real spaCy model (no
Label Studio server is needed: pre-annotation is local). Each bad input gets its
clear error (exit 1, the file and line or record named, nothing written) or its
counted skip; never a traceback (``run`` checks), never a silent drop.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.reliability import tally
from tests.reliability.conftest import run, write_config

pytestmark = pytest.mark.integration

GOOD = {"id": "good-1", "text": "Anna Smith flew to Paris on Monday.", "title": "Flight"}


def _jsonl(*records: object) -> bytes:
    return "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in records).encode(
        "utf-8"
    )


def _lines(path: Path) -> list[dict]:
    """Every line of a JSONL file as an object: any line that is not one fails the test."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), data[-200:]
    return [json.loads(line) for line in data.split(b"\n")[:-1]]


def _preannotate(
    folder: Path, *inputs: str, expect: int | None = 0, extra: tuple[str, ...] = (), config: Path | None = None
):
    config = config or (
        folder / "config.yaml" if (folder / "config.yaml").exists() else write_config(folder / "config.yaml")
    )
    return run(
        "preannotate",
        *inputs,
        "--out",
        "predictions.jsonl",
        "--config",
        str(config),
        "--no-scores",
        *extra,
        cwd=folder,
        expect=expect,
        timeout=240,
    )


# --- resume --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cut",
    ["newline", "mid-record"],
    ids=["last record complete but its newline missing", "last record cut mid-way"],
)
def test_resume_repairs_a_last_line_without_its_newline(tmp_path, cut):
    """A run killed just before the last newline (or mid-record), or a hand edit: the
    rerun redoes that article on its own line, and every line of the output is a record."""
    from toolkit.io.jsonl import read_records
    from toolkit.records import PredictedArticle

    articles = [{"id": f"a{n}", "text": f"Report {n}: Anna Smith met Tom Ellis in Osaka."} for n in range(3)]
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(*articles))
    _preannotate(tmp_path, "articles.jsonl")
    out = tmp_path / "predictions.jsonl"
    data = out.read_bytes()
    out.write_bytes(data[:-1] if cut == "newline" else data[:-40])
    # New articles arrive before the rerun.
    articles.append({"id": "a3", "text": "Report 3: Mei Tanaka visited Lisbon."})
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(*articles))

    done = _preannotate(tmp_path, "articles.jsonl")
    assert "dropped the half-written last line" in done.stdout, done.stdout
    records = _lines(out)
    assert sorted(record["id"] for record in records) == ["a0", "a1", "a2", "a3"]
    # What push reads: every record valid.
    assert [record.id for record in read_records(out, PredictedArticle)] == [record["id"] for record in records]
    # And the next rerun resumes from it.
    again = _preannotate(tmp_path, "articles.jsonl")
    assert "4 articles are already in" in again.stdout, again.stdout
    assert len(_lines(out)) == 4
    tally.add("faults")


def test_changed_text_under_the_same_id_is_refused_on_resume(tmp_path):
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(GOOD, {"id": "b", "text": "Tom Ellis stayed in Osaka."}))
    _preannotate(tmp_path, "articles.jsonl")
    out = tmp_path / "predictions.jsonl"
    before = out.read_bytes()
    changed = {"id": "b", "text": "Tom Ellis stayed in Kyoto instead."}
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(GOOD, changed))
    for extra in ((), ("--on-error", "skip")):
        refused = _preannotate(tmp_path, "articles.jsonl", expect=1, extra=extra)
        assert "articles.jsonl:2: article 'b' has another text than in predictions.jsonl" in refused.stderr, (
            refused.stderr
        )
        assert "--fresh" in refused.stderr
        assert out.read_bytes() == before
    _preannotate(tmp_path, "articles.jsonl", extra=("--fresh",))
    assert {record["id"]: record["text"] for record in _lines(out)}["b"] == changed["text"]
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


def test_rerun_with_nothing_new_says_so(tmp_path):
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(GOOD))
    _preannotate(tmp_path, "articles.jsonl")
    again = _preannotate(tmp_path, "articles.jsonl")
    assert "Nothing new: all 1 article is already in predictions.jsonl" in again.stdout, again.stdout
    assert "articles/s" not in again.stdout and "Wrote 0" not in again.stdout


# --- characters JSON can carry but UTF-8 cannot ------------------------------------

SURROGATE_CASES = {
    # name: (file, content, message naming the record)
    "jsonl text with an id": (
        "scraped.jsonl",
        _jsonl(GOOD, '{"id": "s1", "text": "Half an emoji \\udc80 here."}'),
        "scraped.jsonl:2: field 'text' holds a lone surrogate",
    ),
    "jsonl text without an id": (
        "noid.jsonl",
        _jsonl(GOOD, '{"text": "Cut emoji \\ud83d"}'),
        "noid.jsonl:2: field 'text' holds a lone surrogate",
    ),
    "json array title": (
        "array.json",
        json.dumps([GOOD, {"id": "t", "text": "Fine text.", "title": "Bad \udc80 title"}]).encode(),
        "array.json record 2: field 'title' holds a lone surrogate",
    ),
    "json id": (
        "id.jsonl",
        _jsonl(GOOD, '{"id": "x\\udfff", "text": "Fine text."}'),
        "id.jsonl:2: field 'id' holds a lone surrogate",
    ),
}


@pytest.mark.parametrize("name", list(SURROGATE_CASES))
def test_lone_surrogate_is_bad_input(tmp_path, name):
    file, content, message = SURROGATE_CASES[name]
    (tmp_path / file).write_bytes(content)
    failed = _preannotate(tmp_path, file, expect=1)
    assert message in failed.stderr, failed.stderr
    assert not (tmp_path / "predictions.jsonl").exists()
    skipped = _preannotate(tmp_path, file, extra=("--on-error", "skip"))
    assert "Skipped 1 bad input: lone surrogate 1" in skipped.stdout, skipped.stdout
    assert message in skipped.stdout
    assert [record["id"] for record in _lines(tmp_path / "predictions.jsonl")] == ["good-1"]
    tally.add("bad_inputs", 2)
    tally.add("bad_input_errors")
    tally.add("bad_input_skips")


def test_surrogate_bytes_in_csv_are_invalid_utf8(tmp_path):
    """CSV (like .txt) is decoded as strict UTF-8: an encoded surrogate is invalid UTF-8, named by line."""
    (tmp_path / "rows.csv").write_bytes(b"id,text\ngood-1,Anna Smith flew to Paris.\nb,Half \xed\xb2\x80 emoji\n")
    failed = _preannotate(tmp_path, "rows.csv", expect=1)
    assert "rows.csv:3: not valid UTF-8" in failed.stderr, failed.stderr
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


# --- what a folder holds besides files --------------------------------------------

ODD_ENTRIES = {
    # name: (make it, message)
    "symlink loop": (lambda folder: os.symlink("self.txt", folder / "self.txt"), "self.txt: a symlink loop"),
    "dangling symlink": (
        lambda folder: os.symlink("gone.txt", folder / "dangling.txt"),
        "dangling.txt: a symlink to a missing file",
    ),
    "fifo": (lambda folder: os.mkfifo(folder / "pipe.jsonl"), "pipe.jsonl: not a regular file"),
}


@pytest.mark.parametrize("name", list(ODD_ENTRIES))
def test_odd_folder_entry_fails_clearly(tmp_path, name):
    make, message = ODD_ENTRIES[name]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Anna Smith flew to Paris.")
    make(corpus)
    failed = _preannotate(tmp_path, "corpus", expect=1)
    assert message in failed.stderr, failed.stderr
    assert not (tmp_path / "predictions.jsonl").exists()
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


@pytest.mark.parametrize("given", ["corpus", "corpus/**/*"], ids=["folder", "recursive glob"])
def test_odd_folder_entries_are_counted_skips(tmp_path, given):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "good.txt").write_text("Anna Smith flew to Paris.")
    for make, _ in ODD_ENTRIES.values():
        make(corpus)
    done = _preannotate(tmp_path, given, extra=("--on-error", "skip"))
    assert "Skipped 3 bad inputs: unreadable 3" in done.stdout, done.stdout
    for _, message in ODD_ENTRIES.values():
        assert message in done.stdout
    assert len(_lines(tmp_path / "predictions.jsonl")) == 1
    tally.add("bad_inputs", 3)
    tally.add("bad_input_skips", 3)


# --- limits and encodings -------------------------------------------------------------


def test_max_chars_above_spacys_default_limit(tmp_path):
    """input.max_chars raised above 1,000,000: the long article and the one before it are written.
    (Scores off: greedy decoding of the 1.1 M characters takes half the beam's time, and scores
    are not what this is about.)"""
    config = write_config(tmp_path / "config.yaml", input={"max_chars": 1_500_000}, spacy={"scores": False})
    long_text = "Anna Smith met Tom Ellis in Osaka. " * 32_000  # 1,120,000 characters
    (tmp_path / "articles.jsonl").write_bytes(_jsonl(GOOD, {"id": "long", "text": long_text}))
    _preannotate(tmp_path, "articles.jsonl", config=config)
    records = {record["id"]: record for record in _lines(tmp_path / "predictions.jsonl")}
    assert set(records) == {"good-1", "long"}
    assert len(records["long"]["text"]) == len(long_text.rstrip()) and records["long"]["spans"]
    tally.add("bad_inputs")
    tally.add("bad_input_read")


def test_patterns_and_articles_holding_unicode_line_separators(tmp_path):
    """Raw U+2028 and U+0085 are valid inside JSON strings: only \\n ends a JSONL line."""
    patterns = tmp_path / "patterns.jsonl"
    patterns.write_bytes(
        _jsonl(
            {"label": "ORG", "pattern": "Acme\u2028Rail"},
            {"label": "ORG", "pattern": "Delta\u0085Mills"},
            {"label": "ORG", "pattern": "Northwind Bank"},
        )
    )
    config = write_config(tmp_path / "config.yaml", spacy={"patterns": str(patterns)})
    text = "Jonas Brandt of Northwind Bank spoke.\u2028Mei Tanaka\u0085listened in Lisbon."
    (tmp_path / "articles.jsonl").write_bytes(_jsonl({"id": "sep", "text": text}))
    _preannotate(tmp_path, "articles.jsonl", config=config)
    (record,) = _lines(tmp_path / "predictions.jsonl")
    assert record["text"] == text
    assert {"label": "ORG", "text": "Northwind Bank"}.items() <= next(
        span for span in record["spans"] if span["text"] == "Northwind Bank"
    ).items()
    tally.add("bad_inputs", 2)
    tally.add("bad_input_read", 2)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
@pytest.mark.parametrize("file", ["article.txt", "articles.jsonl"])
def test_utf16_and_utf32_with_a_bom_get_an_encoding_hint(tmp_path, encoding, file):
    content = "Anna Smith flew to Paris." if file.endswith(".txt") else json.dumps(GOOD) + "\n"
    (tmp_path / file).write_bytes(content.encode(encoding))  # Python's utf-16/utf-32 write a BOM
    name = encoding.upper()
    failed = _preannotate(tmp_path, file, expect=1)
    assert f"{file}: {name} text (it starts with a {name} byte-order mark); save it as UTF-8" in failed.stderr, (
        failed.stderr
    )
    tally.add("bad_inputs")
    tally.add("bad_input_errors")


def test_all_bad_input_with_skip_is_an_error(tmp_path):
    """Nothing to pre-annotate: exit 1 and no output, rather than an empty file to push."""
    (tmp_path / "photo.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (tmp_path / "broken.jsonl").write_bytes(b'{"id": "x", "text": "Anna\n')
    failed = _preannotate(tmp_path, "photo.txt", "broken.jsonl", expect=1, extra=("--on-error", "skip"))
    assert "every input was bad (2 skipped: binary file 1, broken JSON 1)" in failed.stderr, failed.stderr
    assert "nothing to pre-annotate" in failed.stderr
    assert "photo.txt: looks like a binary file" in failed.stdout + failed.stderr
    assert "toolkit push" not in failed.stdout
    assert not (tmp_path / "predictions.jsonl").exists()
    tally.add("bad_inputs")
    tally.add("bad_input_errors")
