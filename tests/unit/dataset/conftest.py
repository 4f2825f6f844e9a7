from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.dataset.builders import GPE, PERSON, annotated, write_jsonl


@pytest.fixture(scope="session")
def make_doc():
    """The export uses only the tokenizer: a blank English one tokenizes these texts as en_core_web_sm does."""
    import spacy

    return spacy.blank("en").make_doc


@pytest.fixture
def source(tmp_path) -> Path:
    """12 annotated articles that started from a prediction, and one with a span inside a token."""
    records = [annotated(f"a{i}", [PERSON, GPE], task_id=i, predicted=[PERSON]) for i in range(12)]
    records.append(annotated("planted", [{"start": 9, "end": 12, "label": "ORG"}], task_id=99))
    return write_jsonl(tmp_path / "annotations.jsonl", records)
