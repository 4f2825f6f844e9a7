"""A Ray pre-annotation stopped from outside, on a real local Ray cluster and the real model.

- the command SIGKILLed (its forked run and the local cluster must die with it: an orphan
  kept appending to the output while the rerun wrote it too, 3,952 lines for 3,000 ids);
- SIGTERM, as ``timeout`` sends it (to the whole process group), and as ``kill`` sends it
  (to the command alone): one line, exit 143, no Ray stack dump, nothing left running.

Each rerun must end exact: every id once, every line whole. The runs load the light model
(en_core_web_sm): stopping a run does not depend on which model it runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import light_config_path
from tests.reliability import tally

pytest.importorskip("ray", reason="the ray extra is not installed")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the process tree from /proc"),
]

ROOT = Path(__file__).resolve().parents[2]
# Enough short articles that a run left alone would still be writing long after it was stopped.
ARTICLES = 6000
STACK_DUMP = ("SIGTERM received", "PC: @", "logging.cc", "Traceback")


def _command(out: str = "out.jsonl") -> list[str]:
    return [
        *(sys.executable, "-m", "toolkit", "preannotate", "in.jsonl", "--out", out, "--no-scores"),
        *("--config", str(light_config_path()), "--backend", "ray", "--workers", "1"),
        *("--batch-size", "16"),
    ]


def _env() -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name != "TOOLKIT_DEBUG"}
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    return env


def _inputs(folder: Path) -> None:
    lines = (
        json.dumps({"id": f"d{i}", "text": f"Angela Merkel met Siemens in Paris on day {i}."}) for i in range(ARTICLES)
    )
    (folder / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _descendants(pid: int) -> set[int]:
    """Every process under ``pid`` now (its forked run, the local cluster's raylet, GCS, workers...)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":  # a zombie has ended; only its parent has not collected it yet
            alive.add(pid)
    return alive


def _start(folder: Path) -> tuple[subprocess.Popen[str], set[int]]:
    """The command, started in its own session (as a shell starts a job), once it has added
    records to ``out.jsonl``: then its run, its cluster and its worker are up."""
    command = subprocess.Popen(
        _command(), cwd=folder, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    out = folder / "out.jsonl"
    before = out.stat().st_size if out.exists() else 0
    while not (out.exists() and out.stat().st_size > before):
        assert command.poll() is None, command.communicate()
        assert time.monotonic() < deadline, "no record written in 240 s"
        time.sleep(0.2)
    tree = _descendants(command.pid)
    assert tree, "the run is not in a forked child"
    return command, tree


def _gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while (alive := _alive(pids)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return alive


def _ids(out: Path) -> list[str]:
    data = out.read_bytes()
    assert data.endswith(b"\n"), "a broken last line"
    return [json.loads(line)["id"] for line in data.decode("utf-8").splitlines()]


def _rerun_is_exact(folder: Path) -> None:
    again = subprocess.run(_command(), cwd=folder, env=_env(), capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert "Resumed:" in again.stdout, again.stdout
    ids = _ids(folder / "out.jsonl")
    assert len(ids) == len(set(ids)) == ARTICLES
    assert set(ids) == {f"d{i}" for i in range(ARTICLES)}


def test_a_killed_ray_run_takes_its_worker_and_cluster_with_it_and_the_rerun_is_exact(tmp_path):
    _inputs(tmp_path)
    command, tree = _start(tmp_path)
    command.send_signal(signal.SIGKILL)  # the command only: its process group is left alone
    command.communicate()
    # Its forked run and the local cluster it started go too, at once: nothing appends any more.
    left = _gone(tree, 30)
    assert not left, f"still running after the command was killed: {sorted(left)}"
    written = (tmp_path / "out.jsonl").read_bytes()
    time.sleep(2)
    assert (tmp_path / "out.jsonl").read_bytes() == written
    assert written.count(b"\n") < ARTICLES
    _rerun_is_exact(tmp_path)
    tally.add("faults")


def test_sigterm_stops_a_ray_run_with_one_line_and_exit_143_and_the_rerun_is_exact(tmp_path):
    _inputs(tmp_path)
    out = tmp_path / "out.jsonl"
    # As `timeout` stops a command: SIGTERM to its whole process group (its forked run and the
    # local cluster's processes get it too); then as `kill PID` does: to the command alone.
    for stop in (lambda pid: os.killpg(pid, signal.SIGTERM), lambda pid: os.kill(pid, signal.SIGTERM)):
        command, tree = _start(tmp_path)
        stop(command.pid)
        stdout, stderr = command.communicate(timeout=120)
        assert command.returncode == 143, stderr
        for dump in STACK_DUMP:
            assert dump not in stderr, stderr
        errors = [line for line in stderr.splitlines() if line.startswith("Error")]
        holds = out.read_bytes().count(b"\n")
        assert errors == [
            f"Error: stopped (SIGTERM): out.jsonl holds {holds:,} articles; "
            "run the same command again to resume after them"
        ], stderr
        assert "hint:" not in stderr
        assert not (left := _gone(tree, 30)), f"still running after the stop: {sorted(left)}"
        assert 0 < len(set(_ids(out))) == holds < ARTICLES
    _rerun_is_exact(tmp_path)
    tally.add("faults", 2)
