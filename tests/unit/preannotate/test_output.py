"""The predictions file: what a rerun resumes from, and what it refuses."""

from __future__ import annotations

import json

import pytest

from toolkit.errors import OutputError
from toolkit.preannotate.output import ANOTHER_OUTPUT, START_OVER, read_resume
from toolkit.records import ModelInfo

MODEL = ModelInfo(name="m", version="1")


def _line(article_id: str, text: str, model: ModelInfo = MODEL) -> str:
    return json.dumps({"id": article_id, "text": text, "model": model.model_dump(), "spans": []}) + "\n"


def test_no_output_nothing_done(tmp_path):
    resume = read_resume(tmp_path / "none.jsonl", MODEL)
    assert (resume.done, resume.truncated_tail) == ({}, False)


def test_a_half_written_last_line_is_cut_off(tmp_path):
    out = tmp_path / "out.jsonl"
    whole = _line("a", "One.") + "\n" + _line("b", "Two.")
    out.write_text(whole + '{"id": "c", "te')
    resume = read_resume(out, MODEL)
    assert resume.done == {"a": hash("One."), "b": hash("Two.")}
    assert resume.truncated_tail
    assert out.read_text() == whole


@pytest.mark.parametrize(
    ("line", "message", "hint"),
    [
        ('{"id": "a"}\n', r"out.jsonl:2: not a prediction record", START_OVER),
        ("not json\n", r"out.jsonl:2: not a prediction record", START_OVER),
        (
            _line("b", "Two.", ModelInfo(name="other", version="2")),
            r"written by model other 2, this run uses m 1",
            None,
        ),
    ],
)
def test_refused_outputs_name_the_line_and_the_parameter(tmp_path, line, message, hint):
    out = tmp_path / "out.jsonl"
    out.write_text(_line("a", "One.") + line)
    with pytest.raises(OutputError, match=message) as raised:
        read_resume(out, MODEL)
    assert raised.value.hint == (hint.said() if hint else f"{START_OVER.said()}, or {ANOTHER_OUTPUT.said()}")
    assert "--" not in raised.value.hint  # flags are the command line's to add
