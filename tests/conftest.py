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
