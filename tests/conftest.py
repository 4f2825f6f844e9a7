from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = ROOT / "configs" / "news-ner.yaml"
SAMPLES = ROOT / "samples"


@pytest.fixture(scope="session")
def config() -> Config:
    return load_config(CONFIG_PATH)


@pytest.fixture(scope="session")
def pipeline(config):
    from toolkit.nlp.pipeline import load_pipeline

    return load_pipeline(config)


@pytest.fixture(scope="session")
def blank_pipeline():
    """A tokenizer-only pipeline (``spacy.blank("en")``, no trained weights, so no entities):
    for tests about everything around the model, which need no model's predictions."""
    import spacy

    from toolkit.nlp.pipeline import Pipeline
    from toolkit.records import ModelInfo

    return Pipeline(nlp=spacy.blank("en"), model=ModelInfo(name="blank_en", version="0.0.0"), entity_labels=())
