"""The pull's two output files, and the records written to them.

``out`` gets one ``AnnotatedArticle`` per task a human submitted (per annotator with
``policy: all``), the ledger next to it (``records.ledger_path``) one ``LedgerEntry`` per
decision that did not reach the output as it was. Both are written atomically: a pull
that fails leaves the previous ones as they were.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from toolkit.io.atomic import atomic_output
from toolkit.records import LedgerEntry, ledger_path

if TYPE_CHECKING:
    from toolkit.annotations.spans import PulledSpan


@dataclass
class OutputFiles:
    records_file: IO[str]
    ledger_file: IO[str]
    ledger_entries: int = 0

    def write(self, records: Iterable[dict[str, Any]], ledger: Iterable[LedgerEntry]) -> None:
        for one in records:
            self.records_file.write(json.dumps(one, ensure_ascii=False) + "\n")
        for entry in ledger:
            self.ledger_file.write(entry.model_dump_json(exclude_none=True) + "\n")
            self.ledger_entries += 1


@contextmanager
def open_output(out: Path) -> Iterator[OutputFiles]:
    """The output and its ledger, each put in place when the block ends without an error."""
    with atomic_output(out) as records_file, atomic_output(ledger_path(out)) as ledger_file:
        yield OutputFiles(records_file, ledger_file)


def record(base: dict[str, Any], spans: list[PulledSpan], chosen: list[int]) -> dict[str, Any]:
    """One ``AnnotatedArticle`` as JSON-ready data, fields in the record's order, no None values."""
    data = {
        key: base[key]
        for key in ("id", "text", "title", "date", "source", "group", "task_id")
        if base.get(key) is not None
    }
    data["spans"] = [span.as_dict() for span in spans]
    data["chosen"] = chosen
    for key in ("annotations", "policy", "predictions", "skipped_by", "drafts"):
        data[key] = base[key]
    if base.get("decision"):
        data["decision"] = base["decision"]
    return data


def record_annotation(
    annotation: dict[str, Any], annotator: str, spans: list[PulledSpan], predictions: dict[int, dict[str, Any]]
) -> dict[str, Any]:
    """One annotation of a record as JSON-ready data (no None values)."""
    lead_time = annotation.get("lead_time")
    data = {
        "id": annotation["id"],
        "annotator": annotator,
        "spans": [span.as_dict() for span in spans],
        "created_at": annotation.get("created_at"),
        "updated_at": annotation.get("updated_at"),
        "lead_time": lead_time if isinstance(lead_time, (int, float)) else None,
        "ground_truth": bool(annotation.get("ground_truth")),
        "model_version": started_from(annotation, predictions),
    }
    return {key: value for key, value in data.items() if value is not None}


def started_from(annotation: dict[str, Any], predictions: dict[int, dict[str, Any]]) -> str | None:
    """The model version of the prediction the annotator started from, if the server knows it."""
    parent = annotation.get("parent_prediction")
    if isinstance(parent, int) and parent in predictions:
        return predictions[parent].get("model_version") or None
    # Without a known parent (annotations made through the API), the prediction the
    # server showed with the task, which it records on the annotation.
    shown = annotation.get("prediction")
    if isinstance(shown, dict) and shown.get("result"):
        return shown.get("model_version") or None
    return None


def text_or_none(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None
