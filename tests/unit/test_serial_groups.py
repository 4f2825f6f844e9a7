"""The serial groups of tests/conftest.py reach pytest-xdist: a group's tests run on one worker.

pytest 9.2 with pytest-xdist 3.8 silently spread them over every worker (the Ray tests then
started two clusters on two cores, and the bad-input cases' fixture ran once per worker). This
runs a small suite under `-n 3 --dist loadgroup` in a subprocess, as `make test` does, and
checks which worker ran what.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_a_groups_tests_run_on_one_worker(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n\ndef pytest_itemcollected(item):\n"
        "    if 'grouped' in item.nodeid:\n        item.add_marker(pytest.mark.xdist_group('serial'))\n"
    )
    (tmp_path / "test_spread.py").write_text(
        "import os, pytest\n\n\n@pytest.mark.parametrize('n', range(6))\n"
        "def test_grouped(n):\n    print('WORKER', os.environ['PYTEST_XDIST_WORKER'])\n\n\n"
        "@pytest.mark.parametrize('n', range(6))\ndef test_free(n):\n    pass\n"
    )
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "3", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ran = [line for line in done.stdout.splitlines() if "test_grouped[" in line and "PASSED" in line]
    workers = {line.split("]", 1)[0] for line in ran}
    assert len(workers) == 1, done.stdout
