"""The dataset's view (what `toolkit export` and `export-diff` say), from results built in memory."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from toolkit.dataset import ExportResult, ExportStats, view
from toolkit.dataset.diff import ArticleChange, ExportDiff
from toolkit.nlp.alignment import LostSpan


def said(sections) -> list[str]:
    return [block.text for section in sections for block in section.blocks]


def result(tmp_path: Path, *, lost: int = 0, **fields) -> ExportResult:
    stats = ExportStats(articles=1, human_rows=1, spans=lost + 1, aligned_strict=1, rows_per_split=Counter(train=1))
    stats.lost = [LostSpan(f"a{i}", i, 0, 3, "PERSON", "Ann", "inside a token") for i in range(lost)]
    return ExportResult(
        version="v1",
        path=tmp_path / "v1",
        root=tmp_path,
        stats=stats,
        manifest={},
        splits=("train", "test"),
        alignment_fallback="expand",
        **fields,
    )


def test_an_export_names_its_splits_fallback_losses_and_attached_files(tmp_path):
    lines = said([view.exported(result(tmp_path, lost=22, attached=(("annotation report", tmp_path / "r.html"),)))])
    assert lines[0] == f"Wrote 1 article (1 human) to {tmp_path / 'v1'} (train 1, test 0)"
    assert lines[1] == "  23 spans: 1 on token boundaries, 0 snapped (expand), 22 lost"
    assert lines[2] == "    lost: article a0 (task 0): PERSON 0-3 'Ann': inside a token"
    assert lines[22] == f"    ... and 2 more in {tmp_path / 'v1' / 'loss_report.jsonl'}"
    assert f"  annotation report: {tmp_path / 'r.html'}" in lines
    assert lines[-1] == f"Load it with: datasets.load_from_disk({str(tmp_path / 'v1')!r})"
    with_model = said([view.exported(result(tmp_path, with_predictions=True))])
    assert with_model[0].startswith("Wrote 1 article (1 human + 0 model-only) to ")


def test_an_unchanged_export_says_which_version_stays(tmp_path):
    unchanged = result(tmp_path, unchanged=True)
    lines = said([view.exported(ExportResult(**{**unchanged.__dict__, "manifest": {"counts": {"rows": 1}}}))])
    assert lines[0].startswith("Nothing changed since v1 (same pull, ledger, config and toolkit version)")
    assert lines[0].endswith(f"{tmp_path / 'LATEST'} stays v1 (1 row)")


def test_a_diff_names_at_most_twenty_of_each_kind_and_counts_the_rest(tmp_path):
    diff = ExportDiff(
        old=tmp_path / "v1",
        new=tmp_path / "v2",
        added=[f"n{i}" for i in range(21)],
        removed=["gone"],
        changed=[ArticleChange("c", added=[(0, 3, "PERSON")], split=("train", "test"))],
        unchanged=1,
    )
    lines = said(view.difference(diff))
    assert lines[:3] == [
        f"{tmp_path / 'v1'} -> {tmp_path / 'v2'}",
        "  articles: 21 added, 1 removed, 1 changed, 1 unchanged",
        "  spans in changed articles: 1 added, 0 removed",
    ]
    assert "    + n19" in lines and "    + n20" not in lines and "    - gone" in lines
    assert "    ~ c: +0-3 PERSON, split train -> test" in lines
    assert lines[-1] == "    ... and 1 more (--json lists them all)"
    assert diff.to_json()["articles_added"] == diff.added
