"""The output lock: a second run is refused at once, naming the holder; a dead holder frees it."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from toolkit.io.locks import OutputLockedError, lock_path, output_lock

HOLD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from toolkit.io.locks import output_lock
    with output_lock(Path(sys.argv[1]), what="output"):
        print("held", flush=True)
        time.sleep(60)
    """
)


def _holder(out):
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(out)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_run_is_refused_naming_the_holder(tmp_path):
    out = tmp_path / "predictions.jsonl"
    holder = _holder(out)
    try:
        with pytest.raises(OutputLockedError) as refused:
            with output_lock(out, what="output"):
                pass
        assert f"pid {holder.pid}" in refused.value.message
        assert str(out) in refused.value.message
    finally:
        holder.kill()
        holder.wait()
    # The kernel released the killed holder's lock: the next run takes it.
    with output_lock(out) as path:
        assert path == lock_path(out)


def test_the_lock_is_beside_the_output_and_shared_through_a_symlink(tmp_path):
    target = tmp_path / "models" / "v1"
    target.mkdir(parents=True)
    link = tmp_path / "current"
    link.symlink_to(target)
    assert lock_path(target) == tmp_path / "models" / ".v1.lock"
    assert lock_path(link) == lock_path(target)


def test_the_same_process_can_take_it_again_after_release(tmp_path):
    out = tmp_path / "x.jsonl"
    with output_lock(out):
        pass
    with output_lock(out):
        pass
