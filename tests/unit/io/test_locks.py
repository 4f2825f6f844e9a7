"""The output lock: a second run is refused at once, naming the holder; a dead holder frees it."""

from __future__ import annotations

import os
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


def test_the_holder_may_take_it_again_inside_and_keeps_it_to_the_outer_end(tmp_path):
    out = tmp_path / "x.jsonl"
    with output_lock(out):
        with output_lock(out):  # a command's early lock, then the library's
            pass
        # Still held after the inner block: another process is refused.
        refused = subprocess.run([sys.executable, "-c", HOLD, str(out)], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and "OutputLockedError" in refused.stderr
    holder = _holder(out)  # free after the outer block
    holder.kill()
    holder.wait()


def test_no_lock_file_is_left_beside_the_output_after_the_run(tmp_path):
    out = tmp_path / "predictions.jsonl"
    with output_lock(out) as path:
        assert path.is_file() and f'"pid": {os.getpid()}' in path.read_text()
    assert list(tmp_path.iterdir()) == []


def test_a_run_that_opened_the_lock_file_just_before_its_removal_takes_the_new_one(tmp_path, monkeypatch):
    """The race of removing lock files: between this run's open and its flock, the holder before
    released and removed the file, and a third run made a new one. This run must end up holding
    the file at the path (which the third run would then fail to lock), not the removed one."""
    import toolkit.io.locks as locks

    out = tmp_path / "x.jsonl"
    real_flock = locks.fcntl.flock
    swapped = []

    def flock(descriptor, operation):
        if not swapped:
            swapped.append(True)
            lock_path(out).unlink()  # the holder before removed it ...
            lock_path(out).write_text("")  # ... and a third run opened a new one
        return real_flock(descriptor, operation)

    monkeypatch.setattr(locks.fcntl, "flock", flock)
    with output_lock(out):
        monkeypatch.setattr(locks.fcntl, "flock", real_flock)
        refused = subprocess.run([sys.executable, "-c", HOLD, str(out)], capture_output=True, text=True, timeout=30)
        assert refused.returncode != 0 and "OutputLockedError" in refused.stderr
    assert swapped
