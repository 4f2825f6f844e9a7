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


SCORED = ModelInfo(name="m", version="1", scoring="beam8")


@pytest.mark.parametrize(
    ("written", "message", "hint"),
    [
        # The red-team case: a --no-scores output resumed with scores on.
        (
            ModelInfo(name="m", version="1", scoring="unscored"),
            r"out.jsonl:1: scored unscored, this run scores beam8",
            "run with scores off as it was written (spacy.scores: false), or ",
        ),
        (
            ModelInfo(name="m", version="1", scoring="beam2"),
            r"scored beam2, this run scores beam8",
            "run with the beam width it was written with (spacy.beam_width: 2), or ",
        ),
        (ModelInfo(name="m", version="1", scoring="beam8+cal-ab12"), r"scored beam8\+cal-ab12, this run", ""),
        (MODEL, r"scored not recorded \(written by an earlier toolkit\), this run scores beam8", ""),
    ],
)
def test_an_output_scored_otherwise_is_not_resumed(tmp_path, written, message, hint):
    out = tmp_path / "out.jsonl"
    out.write_text(_line("a", "One.", written))
    with pytest.raises(OutputError, match=message) as raised:
        read_resume(out, SCORED)
    assert raised.value.hint == f"{hint}{START_OVER.said()}, or {ANOTHER_OUTPUT.said()}"


def test_an_unscored_run_names_both_settings_of_a_scored_output(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(_line("a", "One.", SCORED))
    with pytest.raises(OutputError) as raised:
        read_resume(out, ModelInfo(name="m", version="1", scoring="unscored"))
    assert raised.value.hint_with(lambda remedy: {"spacy.scores: true": "--scores"}.get(remedy.setting)) == (
        "run with scores on (spacy.scores: true, or --scores) and run with the beam width it was written with "
        f"(spacy.beam_width: 8), or {START_OVER.said()}, or {ANOTHER_OUTPUT.said()}"
    )


def test_an_output_of_the_same_scoring_is_resumed(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text(_line("a", "One.", SCORED))
    assert read_resume(out, SCORED).done == {"a": hash("One.")}
