from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import Config, load_config

ROOT = Path(__file__).resolve().parent.parent
CONFIG_PATH = ROOT / "configs" / "news-ner.yaml"
SAMPLES = ROOT / "samples"


# Tests about a command or a stage rather than the model load en_core_web_sm, the config's
# light choice: about 1 s less per load than the default en_core_web_md, whose loading the
# toolkit.nlp.models tests, the md fine-tuning test, the integration loop and `make run` cover.
LIGHT_MODEL = "en_core_web_sm"


def light_config_path() -> Path:
    """The bundled config with the light model, as a file (commands take a path): written once
    under build/, atomically, since several test workers may ask for it at once."""
    import os

    import yaml

    data = yaml.safe_load(CONFIG_PATH.read_text())
    data["spacy"]["model"] = LIGHT_MODEL
    text = yaml.safe_dump(data, sort_keys=False)
    path = ROOT / "build" / "tests" / "news-ner-light.yaml"
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(text)
        os.replace(temporary, path)
    return path


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


# --- Running the suite on several workers (pytest-xdist, `make test`) ---------------------
#
# Tests that share something only one of them can hold at a time, or an expensive module
# fixture, run on one worker, in order (`--dist loadgroup`): the Ray tests (each starts or
# joins a local cluster, and two clusters on two cores starve each other), the tests that
# stop and restart the spare Label Studio server (one server, one port) and the bad-input
# cases. Everything else spreads over the workers.

SERIAL_GROUPS = {
    "ray": ("tests/integration/test_ray_backend.py", "tests/reliability/test_ray_stops.py"),
    # One module fixture runs every bad input through the real command; spread over the
    # workers, each would run them all again.
    "bad-inputs": ("tests/reliability/test_bad_inputs.py",),
}


# As each test is collected, so before xdist's worker reads the groups (in its own
# pytest_collection_modifyitems), whatever the order of the hooks. The groups hold only with
# pytest below 9.2 (pyproject.toml says why); tests/unit/test_serial_groups.py checks that.
def pytest_itemcollected(item) -> None:
    group = serial_group(item)
    if group is not None:
        item.add_marker(pytest.mark.xdist_group(group))


def serial_group(item) -> str | None:
    """The serial group a test belongs to (SERIAL_GROUPS, or "spare"), or None."""
    path = item.nodeid.split("::", 1)[0]
    group = next((name for name, files in SERIAL_GROUPS.items() if path in files), None)
    if group is None and "spare" in getattr(item, "fixturenames", ()):
        group = "spare"
    return group


# The reliability suite's totals (tests/reliability/tally.py) are counted where the tests
# run: each worker hands its totals back when it ends, and they are added up here.
def pytest_sessionfinish(session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is None:
        return
    from tests.reliability import tally

    if tally.touched():
        workeroutput["reliability_tally"] = dict(tally.totals)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    counted = getattr(node, "workeroutput", {}).get("reliability_tally")
    if counted:
        from tests.reliability import tally

        for name, count in counted.items():
            tally.add(name, count)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    from tests.reliability import tally

    if tally.touched() and getattr(config, "workerinput", None) is None:
        terminalreporter.write_line(tally.summary_line())
