"""The packaging metadata: pip builds the project without setuptools' deprecation warnings."""

from __future__ import annotations

import pytest
from packaging.requirements import Requirement

from tests.conftest import ROOT

tomllib = pytest.importorskip("tomllib")  # Python 3.11+


def test_the_license_is_an_spdx_string_with_a_setuptools_that_reads_it():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # A table (`{text = "MIT"}`) makes pip print "`project.license` as a TOML table is deprecated".
    assert data["project"]["license"] == "MIT"
    (setuptools,) = [Requirement(r) for r in data["build-system"]["requires"] if r.startswith("setuptools")]
    assert "76.9" not in setuptools.specifier and "77.0" in setuptools.specifier  # 77 reads SPDX strings
