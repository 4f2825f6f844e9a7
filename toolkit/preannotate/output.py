"""The predictions file: appended record by record, and resumed from what an earlier run wrote.

A rerun with the same output skips the articles already in it, so an interrupted run
loses at most its last batch. A record counts as done only when its line is complete.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.errors import OutputError, Remedy
from toolkit.preannotate.readers import text_key
from toolkit.records import UNSCORED, ModelInfo, PredictedArticle

# What the hints of a refused resume suggest, by parameter; the command line names its flags instead.
START_OVER = Remedy("start the output over", "fresh=True")
ANOTHER_OUTPUT = Remedy("write to another output file", "out", in_words="write to another output file")


@dataclass
class Resume:
    """What an earlier run left in the output."""

    # Article id -> ``hash()`` of its text: compared within this process only (``hash``
    # is salted per process), to notice an input whose text changed under the same id.
    done: dict[str, int] = field(default_factory=dict)
    truncated_tail: bool = False  # a half-written last line of an interrupted run was dropped


def _check_record(out: Path, number: int, raw: bytes, model: ModelInfo) -> dict:
    try:
        record = json.loads(raw.decode("utf-8"))
        if not isinstance(record, dict) or not isinstance(record.get("id"), str):
            raise ValueError("no article id")
        if not isinstance(record.get("text"), str):
            raise ValueError("no article text")
    except (UnicodeDecodeError, ValueError):
        raise OutputError(
            f"{out}:{number}: not a prediction record, so the run cannot resume from this file", hint=START_OVER
        ) from None
    check_written_by(f"{out}:{number}", record.get("model"), model)
    return record


def check_written_by(where: str, written_by: object, model: ModelInfo) -> None:
    """Refuse to resume an output record (its ``model`` field, ``written_by``) of another model or
    scored otherwise: scores of two beam widths, calibrations or none at all are not one kind of
    number, and an output holds one (a record without a fingerprint is of its own, unknown, kind)."""
    written = written_by if isinstance(written_by, dict) else {}
    if (written.get("name"), written.get("version")) != (model.name, model.version):
        raise OutputError(
            f"{where}: written by model {written.get('name')} {written.get('version')}, "
            f"this run uses {model.name} {model.version}",
            hint=(START_OVER, ", or ", ANOTHER_OUTPUT),
        )
    scoring = written.get("scoring")
    if scoring != model.scoring:
        said = scoring or "not recorded (written by an earlier toolkit)"
        raise OutputError(
            f"{where}: scored {said}, this run scores {model.scoring}: an output holds one kind of score",
            hint=(*_same_scoring(scoring, model.scoring), START_OVER, ", or ", ANOTHER_OUTPUT),
        )


def _same_scoring(written: str | None, this: str | None) -> tuple[str | Remedy, ...]:
    """The settings that run as the output was written, where they can: scores off, or the beam width."""
    if written == UNSCORED:
        return (Remedy("run with scores off as it was written", "spacy.scores: false", config=True), ", or ")
    beam = re.match(r"beam(\d+)", written or "")
    if beam is None or (this or "").startswith(f"{beam[0]}+") or this == beam[0]:
        return ()  # another calibration (or none recorded): a new output only
    width = Remedy("run with the beam width it was written with", f"spacy.beam_width: {beam[1]}", config=True)
    if this == UNSCORED:
        return (Remedy("run with scores on", "spacy.scores: true", config=True), " and ", width, ", or ")
    return (width, ", or ")


def read_resume(out: Path, model: ModelInfo, *, digests: bool = False) -> Resume:
    """The articles an earlier run already wrote to ``out``.

    ``digests``: ``done`` maps each id to its text's :func:`~.readers.text_key` instead of
    its ``hash()``, for workers in other processes to compare with.

    A last line without its newline (the run was killed while writing it, or a hand
    edit left it so) is cut off, so that the next record starts on a line of its own;
    that article is run again. Any other unreadable line, or records of another model,
    stop the run.
    """
    resume = Resume()
    if not out.exists():
        return resume
    good_end = 0
    with out.open("rb+") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):  # only the last line can lack it
                handle.truncate(good_end)
                resume.truncated_tail = True
                break
            if raw.strip():
                record = _check_record(out, number, raw, model)
                resume.done[record["id"]] = text_key(record["text"]) if digests else hash(record["text"])
            good_end += len(raw)
    return resume


def write_records(out: Path, records: Iterable[PredictedArticle], *, fresh: bool, flush_every: int) -> int:
    """Append ``records`` to ``out`` (``fresh``: write it anew), one JSON line each; returns how many.

    The file is opened before the first record is asked for, so an output that cannot
    be written stops the run before the model starts. Lines are flushed every
    ``flush_every`` records and synced to disk at the end.
    """
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        handle = out.open("w" if fresh or not out.exists() else "a", encoding="utf-8")
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror})") from None
    written = 0
    with handle:
        for record in records:
            handle.write(json.dumps(record.to_json_dict(), ensure_ascii=False) + "\n")
            written += 1
            if written % flush_every == 0:
                handle.flush()
        handle.flush()
        os.fsync(handle.fileno())
    return written
