from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.report.articles import corrected_articles, overlapping_articles


@pytest.fixture
def corrected():
    return corrected_articles()


@pytest.fixture
def overlapping():
    return overlapping_articles()


@pytest.fixture
def pulled(tmp_path, corrected, overlapping) -> Path:
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(a.model_dump_json() + "\n" for a in corrected + overlapping))
    return source
