"""Predictions as a Parquet folder of parts: the same records as the JSONL file, whole parts only."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import InputError, OutputError
from toolkit.io.predictions import read_predictions, write_part
from toolkit.preannotate.parquet_output import prepare_folder, read_resume_folder
from toolkit.records import ModelInfo, PredictedArticle, Span

MODEL = ModelInfo(name="en_core_web_sm", version="3.8.0")


def _records(first: int, count: int) -> list[PredictedArticle]:
    return [
        PredictedArticle(
            id=f"a{i}",
            text=f"Anna Smith flew to Paris {i} times.",
            title="Travel" if i % 2 else None,
            date="2024-01-02" if i % 3 == 0 else None,
            model=MODEL,
            spans=[Span(start=0, end=10, label="PERSON", text="Anna Smith", score=0.875 + i / 1e9)]
            + ([Span(start=19, end=24, label="GPE")] if i % 2 else []),
            score=0.5 if i % 2 else None,
        )
        for i in range(first, first + count)
    ]


def test_parts_read_back_as_the_jsonl_records(tmp_path):
    folder = tmp_path / "preds"
    prepare_folder(folder, fresh=False)
    records = _records(0, 5) + _records(5, 3)
    # Written out of order, as workers finish; read in the order of their names.
    write_part(folder, "part-run1-000000005.parquet", records[5:])
    write_part(folder, "part-run1-000000000.parquet", records[:5])
    (folder / ".tmp-123-abcd-part-run1-000000008.parquet").write_bytes(b"half a part")
    again = list(read_predictions(folder))
    assert [json.dumps(r.to_json_dict()) for r in again] == [json.dumps(r.to_json_dict()) for r in records]
    jsonl = tmp_path / "preds.jsonl"
    jsonl.write_text("".join(json.dumps(r.to_json_dict()) + "\n" for r in records))
    assert list(read_predictions(jsonl)) == again
    # A rewritten part (a batch run again) replaces the first copy: no article twice.
    write_part(folder, "part-run1-000000005.parquet", records[5:])
    assert len(list(read_predictions(folder))) == 8
    prepare_folder(folder, fresh=False)  # the next run clears the hidden leftovers
    assert not list(folder.glob(".tmp-*"))


def test_resume_from_the_parts_and_refusals(tmp_path):
    folder = tmp_path / "preds"
    prepare_folder(folder, fresh=False)
    write_part(folder, "part-run1-000000000.parquet", _records(0, 4))
    resume = read_resume_folder(folder, MODEL)
    assert resume.done == {f"a{i}": hash(f"Anna Smith flew to Paris {i} times.") for i in range(4)}
    with pytest.raises(OutputError, match="written by model en_core_web_sm 3.8.0, this run uses other 1"):
        read_resume_folder(folder, ModelInfo(name="other", version="1"))
    prepare_folder(folder, fresh=True)
    assert read_resume_folder(folder, MODEL).done == {}
    with pytest.raises(InputError, match="a folder without predictions parts"):
        list(read_predictions(folder))
    (folder / "part-x-000000000.parquet").write_text("not parquet")
    with pytest.raises(InputError, match="not a predictions part"):
        list(read_predictions(folder))
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(OutputError, match="is a file, not a Parquet predictions folder"):
        prepare_folder(afile, fresh=False)


def test_parts_keep_the_scoring_and_a_folder_scored_otherwise_is_not_resumed(tmp_path):
    folder = tmp_path / "preds"
    prepare_folder(folder, fresh=False)
    beam8 = MODEL.model_copy(update={"scoring": "beam8"})
    write_part(folder, "part-run1-000000000.parquet", [r.model_copy(update={"model": beam8}) for r in _records(0, 2)])
    assert {record.model.model_version for record in read_predictions(folder)} == {"en_core_web_sm-3.8.0 beam8"}
    assert len(read_resume_folder(folder, beam8).done) == 2
    with pytest.raises(OutputError, match=r"part-run1-000000000.parquet row 1: scored beam8, this run scores beam2"):
        read_resume_folder(folder, MODEL.model_copy(update={"scoring": "beam2"}))
