"""The plan of what to run (per file, runs of positions) and a worker's second read of it."""

from __future__ import annotations

import json

import pytest

from toolkit.config import InputConfig
from toolkit.errors import InputError
from toolkit.preannotate.readers import ReadStats, read_articles, read_positioned
from toolkit.preannotate.readers.plan import FilePlan, InputPlan, read_planned


def _jsonl(path, texts):
    lines = [json.dumps({"id": f"{path.stem}{i}", "text": text}) if text else "{broken" for i, text in enumerate(texts)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_runs_of_positions_file_by_file():
    plan = InputPlan()
    for position in (0, 1, 2, 5, 6, 9):
        plan.add("a.jsonl", position)
    plan.add("b.txt", 0)
    assert plan.files == [FilePlan("a.jsonl", [(0, 3), (5, 7), (9, 10)], 0), FilePlan("b.txt", [(0, 1)], 6)]
    assert plan.articles == 7
    assert [file.articles for file in plan.files] == [6, 1]


def test_the_second_read_finds_what_the_first_kept(tmp_path):
    # A broken line, a duplicate and a reused id are left out of the plan (the driver's read
    # decides them); the worker re-reads the file and keeps exactly the planned articles.
    a = _jsonl(tmp_path / "a.jsonl", ["Anna in Paris.", None, "Ben in Rome.", "Anna in Paris.", "Cleo in Oslo."])
    b = _jsonl(tmp_path / "b.jsonl", ["Dora in Lima.", "Eli in Kyiv."])
    stats = ReadStats()
    plan = InputPlan()
    kept = []
    for path, position, article in read_positioned([a, b], stats, on_error="skip"):
        if article.id != "b1":  # resumed: already in the output
            plan.add(path, position)
            kept.append(article)
    assert stats.skipped == {"broken JSON": 1} and len(stats.duplicates) == 1
    again = [article for file in plan.files for article in read_planned(file, InputConfig())]
    assert again == kept
    assert [article.id for article in again] == ["a0", "a2", "a4", "b0"]
    assert [file.first for file in plan.files] == [0, 3]
    assert list(read_articles([a, b], on_error="skip")) == [*kept[:3], *list(read_articles([b]))]


def test_a_file_changed_since_the_plan_is_refused(tmp_path):
    a = _jsonl(tmp_path / "a.jsonl", ["Anna in Paris.", "Ben in Rome.", "Cleo in Oslo."])
    plan = InputPlan()
    for path, position, _ in read_positioned([a]):
        plan.add(path, position)
    _jsonl(a, ["Anna in Paris.", None])
    with pytest.raises(InputError, match="the file changed"):
        list(read_planned(plan.files[0], InputConfig()))
    _jsonl(a, ["Anna in Paris."])
    with pytest.raises(InputError, match="fewer articles than when the run started"):
        list(read_planned(plan.files[0], InputConfig()))
