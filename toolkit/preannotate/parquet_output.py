"""The Parquet predictions folder (``--format parquet``): resumed from the parts earlier runs wrote.

The parts are written by the cluster's workers (:mod:`.backends.ray`, through
:func:`toolkit.io.predictions.write_part`); here the driver reads which articles they
hold, as :func:`.output.read_resume` does for the JSONL file, and removes the hidden
leftovers of parts that an interrupted run did not finish.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from toolkit.errors import OutputError
from toolkit.io.predictions import parts, read_part_columns
from toolkit.preannotate.output import ANOTHER_OUTPUT, START_OVER, Resume
from toolkit.records import ModelInfo


def prepare_folder(out: Path, *, fresh: bool) -> None:
    """Create the folder (``fresh``: empty it of parts first); a file in its place is refused."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a Parquet predictions folder", hint=ANOTHER_OUTPUT)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for leftover in out.glob(".tmp-*"):
            leftover.unlink(missing_ok=True) if leftover.is_file() else shutil.rmtree(leftover, ignore_errors=True)
        if fresh:
            for part in parts(out):
                part.unlink()
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror or error})") from None


def read_resume_folder(out: Path, model: ModelInfo) -> Resume:
    """The articles the folder's complete parts hold; parts of another model stop the run."""
    resume = Resume()
    if not out.is_dir():
        return resume
    for part, row, values in read_part_columns(out, ["id", "text", "model"]):
        written_by = values.get("model") or {}
        if (written_by.get("name"), written_by.get("version")) != (model.name, model.version):
            raise OutputError(
                f"{part} row {row}: written by model {written_by.get('name')} {written_by.get('version')}, "
                f"this run uses {model.name} {model.version}",
                hint=f"{START_OVER}, or {ANOTHER_OUTPUT}",
            )
        resume.done[values["id"]] = hash(values["text"])
    return resume
