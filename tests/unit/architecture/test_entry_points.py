"""The common way in: each stage package exports its entry point and result types
(``from toolkit.pull import pull``), and importing a package loads none of its modules."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import subprocess
import sys

import pytest

ENTRY_POINTS = {
    "adjudicate": ["adjudicate", "AdjudicateResult"],
    "dataset": ["export", "ExportResult", "diff_exports", "push_to_hub"],
    "evaluate": ["evaluate", "EvaluateResult"],
    "preannotate": ["preannotate", "preannotate_to_file", "PreannotateStats"],
    "pull": ["pull", "PullSummary"],
    "push": ["push", "PushResult"],
    "report": ["report", "Report"],
    "train": ["train", "TrainResult"],
}


@pytest.mark.parametrize("stage", sorted(ENTRY_POINTS))
def test_each_stage_exports_its_entry_points(stage):
    package = importlib.import_module(f"toolkit.{stage}")
    assert set(ENTRY_POINTS[stage]) <= set(package.__all__)
    for name in package.__all__:
        value = getattr(package, name)
        # A name that is also a module of the package would be the module once that is imported.
        assert not inspect.ismodule(value) and importlib.util.find_spec(f"toolkit.{stage}.{name}") is None, name
        assert value.__module__.startswith(f"toolkit.{stage}.")
        assert name in dir(package)
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        getattr(package, "nothing")


def test_importing_a_stage_package_or_the_cli_loads_no_stage_and_nothing_heavy():
    code = (
        "import sys, json\n"
        "import toolkit.cli\n"
        f"for stage in {sorted(ENTRY_POINTS)!r}:\n"
        "    __import__('toolkit.' + stage)\n"
        "heavy = ('spacy', 'ray', 'datasets', 'pyarrow', 'label_studio_sdk', 'matplotlib')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m in heavy or m.count('.') >= 2 and m.split('.')[1] in "
        f"{sorted(ENTRY_POINTS)!r})))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert json.loads(loaded) == []
