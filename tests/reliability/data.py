"""Generated inputs for the reliability tests: predicted articles, human annotations, pulled files.

Texts are made up here (no corpus text), with spans whose offsets are computed from
the text, so every expected span is known exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

PEOPLE = ["Ada Okafor", "Jonas Brandt", "Mei Tanaka", "Luis Ortega", "Priya Nair", "Tom Ellis"]
ORGS = ["Harbor Freight Union", "Northwind Bank", "Acme Rail", "Delta Mills"]
PLACES = ["Lisbon", "Nairobi", "Osaka", "Quebec", "Tromsø", "Cusco"]


def article(number: int, prefix: str = "rel") -> dict:
    """One predicted article with three spans, id ``{prefix}-{number}``."""
    person, org, place = PEOPLE[number % len(PEOPLE)], ORGS[number % len(ORGS)], PLACES[number % len(PLACES)]
    parts = [
        ("Report ", None),
        (f"{number}: ", None),
        (person, "PERSON"),
        (" of ", None),
        (org, "ORG"),
        (" spoke in ", None),
        (place, "GPE"),
        (" on Monday about the harbour and the 🚢 trade.\n\nMore later.", None),
    ]
    text, spans = "", []
    for piece, label in parts:
        if label:
            spans.append({"start": len(text), "end": len(text) + len(piece), "label": label, "text": piece})
        text += piece
    return {
        "id": f"{prefix}-{number:04d}",
        "text": text,
        "title": f"Report {number}",
        "date": "2024-05-01",
        "source": f"generated/{prefix}-{number:04d}",
        "model": {"name": "en_core_web_sm", "version": "3.8.0"},
        "spans": spans,
    }


def write_predictions(path: Path, count: int, prefix: str = "rel") -> list[dict]:
    records = [article(number, prefix) for number in range(count)]
    path.write_text("".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records), encoding="utf-8")
    return records


def annotate_all(client, project_id: int, *, skip: set[str] = frozenset()) -> dict[str, list[tuple[int, int, str]]]:
    """Submit, as a human would, an annotation accepting each task's prediction.

    Returns the expected spans per article id (the tasks in ``skip`` are left alone).
    """
    expected = {}
    for task in client.tasks.list(project=project_id, fields="all", page_size=1000):
        article_id = str(task.data["article_id"])
        if article_id in skip or task.annotations:
            continue
        (prediction,) = task.predictions
        client.annotations.create(id=task.id, result=prediction.result, was_cancelled=False, lead_time=3.0)
        expected[article_id] = sorted(
            (item["value"]["start"], item["value"]["end"], item["value"]["labels"][0]) for item in prediction.result
        )
    return expected


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def spans_by_id(records: list[dict]) -> dict[str, list[tuple[int, int, str]]]:
    return {r["id"]: sorted((s["start"], s["end"], s["label"]) for s in r["spans"]) for r in records}


def lost_spans(expected: dict[str, list[tuple[int, int, str]]], got: dict[str, list[tuple[int, int, str]]]) -> int:
    """Spans that went in and did not come out (a missing article loses all of its spans)."""
    lost = 0
    for article_id, spans in expected.items():
        lost += len(set(spans) - set(got.get(article_id, [])))
    return lost
