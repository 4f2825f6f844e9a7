"""The supervised child dies with its parent, by either mechanism, without Ray: a parent process
runs ``supervised`` over a run that writes its pid and then a line every few milliseconds, and
is SIGKILLed; the child must be gone at once and the file stop growing. (On a real cluster:
tests/reliability/test_ray_stops.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the run is supervised only where there is fork")

PARENT = """
import os, sys, time
from pathlib import Path
from toolkit.preannotate.backends import _ray_supervise

if sys.argv[2] == "pipe":  # the mechanism where there is no prctl (macOS)
    _ray_supervise.sys.platform = "darwin"
out = Path(sys.argv[1])

def run():
    with out.open("a") as handle:
        handle.write(f"{os.getpid()}\\n")
        handle.flush()
        while True:
            handle.write("line\\n")
            handle.flush()
            time.sleep(0.01)

_ray_supervise.supervised(run, out=out)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("mechanism", ["prctl", "pipe"])
def test_the_child_dies_with_its_killed_parent(tmp_path, mechanism):
    out = tmp_path / "out.txt"
    root = Path(__file__).resolve().parents[4]
    env = {**os.environ, "PYTHONPATH": str(root)}
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(out), mechanism], env=env)
    child = None
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.read_text().count("\n") > 3):
            assert parent.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        child = int(out.read_text().splitlines()[0])
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        deadline = time.monotonic() + 10
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child), "the child outlived its parent"
        written = out.read_text()
        time.sleep(0.3)
        assert out.read_text() == written
    finally:
        if parent.poll() is None:
            parent.kill()
        if child is not None and _alive(child):  # an orphan would write forever
            os.kill(child, signal.SIGKILL)
