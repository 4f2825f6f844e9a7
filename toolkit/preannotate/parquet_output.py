"""The Parquet predictions folder (``--format parquet``): resumed from the parts earlier runs wrote.

The parts are written by the cluster's workers (:mod:`.backends.ray`, through
:func:`toolkit.io.predictions.write_part`); here the driver reads which articles they
hold, as :func:`.output.read_resume` does for the JSONL file, and removes the hidden
leftovers of parts that an interrupted run did not finish. For inputs the workers read
themselves, a worker's part waits under a hidden name until the driver has decided its
batch (duplicates, ids reused, bad input): :class:`PendingParts` then makes it a part,
whole or without the records the driver dropped.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from toolkit.errors import OutputError
from toolkit.io.predictions import PENDING_PREFIX, TEMPORARY_PREFIX, part_name, parts, read_part_columns, write_table
from toolkit.preannotate.output import ANOTHER_OUTPUT, Resume, check_written_by
from toolkit.preannotate.readers import text_key
from toolkit.records import ModelInfo


def prepare_folder(out: Path, *, fresh: bool) -> None:
    """Create the folder (``fresh``: empty it of parts first); a file in its place is refused."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: is a file, not a Parquet predictions folder", hint=ANOTHER_OUTPUT)
    try:
        out.mkdir(parents=True, exist_ok=True)
        for leftover in out.glob(f"{TEMPORARY_PREFIX}*"):
            leftover.unlink(missing_ok=True) if leftover.is_file() else shutil.rmtree(leftover, ignore_errors=True)
        if fresh:
            for part in parts(out):
                part.unlink()
    except OSError as error:
        raise OutputError(f"{out}: cannot write ({error.strerror or error})") from None


def read_resume_folder(out: Path, model: ModelInfo, *, digests: bool = False) -> Resume:
    """The articles the folder's complete parts hold; parts of another model stop the run.
    ``digests``: as for :func:`~.output.read_resume`, each text's ``text_key`` instead of its ``hash()``."""
    resume = Resume()
    if not out.is_dir():
        return resume
    for part, row, values in read_part_columns(out, ["id", "text", "model"]):
        check_written_by(f"{part} row {row}", values.get("model"), model)
        resume.done[values["id"]] = text_key(values["text"]) if digests else hash(values["text"])
    return resume


class PendingParts:
    """The driver's side of parts that workers write before their batch is decided.

    For each batch, in input order: :meth:`write` each record the output keeps (by its
    index among the batch's predicted records), then :meth:`commit` the batch: its pending
    part is renamed into place when every record is kept, rewritten with only those kept
    otherwise, removed when none is. :attr:`written` counts the records in parts.
    """

    def __init__(self, out: Path, run_id: str) -> None:
        self.out = out
        self.run_id = run_id
        self.written = 0
        self._kept: list[int] = []

    def write(self, record: object, index: int) -> None:
        """Keep the batch's record ``index`` (``record`` is None: the worker wrote it)."""
        self._kept.append(index)

    def commit(self, pending: str | None, predicted: int) -> None:
        """End the batch whose worker wrote ``pending`` (None: it predicted nothing) with ``predicted``
        records; called also for a batch cut short (bad input), with what was kept of it so far."""
        kept, self._kept = self._kept, []
        if pending is None:
            return
        source = self.out / pending
        target = part_name(self.run_id, self.written)
        try:
            if len(kept) == predicted:
                os.replace(source, self.out / target)
            elif kept:
                import pyarrow.parquet as pq

                write_table(self.out, target, pq.read_table(source).take(kept))
                source.unlink()
            else:
                source.unlink()
        except OSError as error:
            raise OutputError(f"{self.out / target}: cannot write ({error.strerror or error})") from None
        self.written += len(kept)

    def close(self) -> None:
        """Remove this run's pending parts that no batch result named (a run stopped early, a
        batch written twice); the next run's :func:`prepare_folder` removes any a worker adds later."""
        for leftover in self.out.glob(f"{PENDING_PREFIX}{self.run_id}-*"):
            leftover.unlink(missing_ok=True)
