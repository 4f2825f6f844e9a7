"""The documentation (issue 32): the README is the entrance, the manual is docs/, and the
config reference is generated from the config model, so it names every key the code takes.

`make docs` (`mkdocs build --strict`, in CI) checks every link and anchor; these tests check
what mkdocs cannot: that the reference follows the model, and what the README must hold."""

from __future__ import annotations

import re
import typing
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

import docs_hooks
from tests.conftest import ROOT
from toolkit.config import Config

README = (ROOT / "README.md").read_text()
PAGES = sorted(p.name for p in (ROOT / "docs").glob("*.md"))


def leaf_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        # A section that may be left out (``OverlapConfig | None``) has its keys documented too.
        inner = [arg for arg in typing.get_args(field.annotation) if arg is not type(None)]
        section = inner[0] if len(inner) == 1 and type(None) in typing.get_args(field.annotation) else field.annotation
        if isinstance(section, type) and issubclass(section, BaseModel):
            keys += leaf_keys(section, f"{prefix}{name}.")
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_the_config_reference_names_every_key_of_the_model_with_its_type_and_default():
    reference = docs_hooks.config_reference()
    keys = leaf_keys(Config)
    assert len(keys) > 60
    for key in keys:
        assert f"| `{key}` |" in reference, key
    assert "| `push.batch_size` | int (>= 1, <= 10000) | `500` | Tasks per import request" in reference
    assert "| `labels` | list[str] (length >= 1) | required |" in reference
    assert "| `pull.policy` | `ground_truth` \\| `latest` \\| `majority` \\| `all` | `latest` |" in reference
    assert "| `export.splits` | dict[str, float] | `{train: 0.8, validation: 0.1, test: 0.1}` |" in reference
    # The comment written above a field in the model comes with it.
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE" in reference


class Inner(BaseModel):
    """A section's docstring."""

    model_config = ConfigDict(extra="forbid")
    # Why it is 3.
    depth: int = Field(default=3, ge=1, title="How deep")


class Outer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["a", "b"] = Field(default="a", title="Which | mode")
    inner: Inner = Field(default_factory=Inner)


def test_a_key_of_the_model_is_in_the_reference_as_the_model_says_it():
    reference = docs_hooks.config_reference(Outer)
    assert "| `mode` | `a` \\| `b` | `a` | Which \\| mode |" in reference
    assert "## `inner`\n\nA section's docstring." in reference
    assert "| `inner.depth` | int (>= 1) | `3` | How deep. *Why it is 3.* |" in reference


def test_the_config_page_is_where_the_reference_goes():
    assert docs_hooks.MARKER in (ROOT / "docs" / "config.md").read_text()


def test_links_work_on_github_and_on_the_site():
    readme = "[push](docs/push.md#idempotent) ![x](docs/a.png) [b](BENCHMARKS.md) [c](BENCHMARKS.md#push)"
    assert docs_hooks.root_page_links(readme) == (
        "[push](push.md#idempotent) ![x](a.png) [b](benchmarks.md) [c](benchmarks.md#push)"
    )
    page = "[home](../README.md#the-two-commands) [figures](../BENCHMARKS.md) [pull](pull.md)"
    site = "[home](index.md#the-two-commands) [figures](benchmarks.md) [pull](pull.md)"
    assert docs_hooks.docs_page_links(page) == site


def test_the_readme_is_the_entrance_and_links_every_page():
    assert len(README.splitlines()) <= 400
    for command in ("make run", "make test", "make docs"):
        assert f"{command}" in README
    for page in PAGES:
        assert f"](docs/{page}" in README, f"the README does not link docs/{page}"
    nav = yaml.safe_load((ROOT / "mkdocs.yml").read_text())["nav"]
    in_nav = set(re.findall(r"[\w-]+\.md", str(nav)))
    assert set(PAGES) | {"index.md", "benchmarks.md"} == in_nav


def test_the_tour_runs_the_commands_make_run_runs():
    makefile = (ROOT / "Makefile").read_text()
    run = makefile.split("\nrun: setup\n", 1)[1].split("\n\n", 1)[0]
    for line in run.splitlines():
        command = line.strip().removeprefix("$(TOOLKIT) ").split(" --config")[0]
        if line.strip().startswith("$(TOOLKIT)"):
            command = command.replace("$(BUILD)", "build").replace("samples", "samples/")
            assert f"toolkit {command}" in README, command


def test_benchmarks_open_with_one_table_of_current_figures():
    text = (ROOT / "BENCHMARKS.md").read_text()
    tables = [block for block in text.split("\n\n") if block.lstrip().startswith("| stage |")]
    assert len(tables) == 1
    rows = tables[0].splitlines()[2:]
    stages = [row.split("|")[1].strip() for row in rows]
    for stage in ("pre-annotate", "push", "pull", "export", "train, speed", "train, F1 at 200 articles"):
        assert stage in stages
    assert {"Ray backend", "active learning"} <= set(stages)
    for row in rows:
        assert re.search(r"20\d\d-\d\d-\d\d", row), row  # when it was measured
    assert "## " not in text.split("| stage |", 1)[0]  # no round before the table
