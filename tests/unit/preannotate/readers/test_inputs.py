"""Inputs as given (files, folders, glob patterns) -> the files read."""

from __future__ import annotations

import pytest

from toolkit.errors import InputError
from toolkit.preannotate.readers import read_articles


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


def test_missing_and_unsupported_inputs(tmp_path):
    with pytest.raises(InputError, match="no such file or folder"):
        list(read_articles([tmp_path / "nope.txt"]))
    (tmp_path / "a.docx").write_text("x")
    with pytest.raises(InputError, match="unsupported file type '.docx'"):
        list(read_articles([tmp_path / "a.docx"]))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="folder holds no .txt, .jsonl, .json, .csv, .parquet"):
        list(read_articles([tmp_path / "empty"]))
