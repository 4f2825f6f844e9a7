"""The hook points: do-nothing by default, installed for a block, inherited by a forked child."""

from __future__ import annotations

import os

import pytest

from toolkit import hooks
from toolkit.hooks import Hooks, installed


def test_hooks_do_nothing_unless_installed_and_only_inside_the_block():
    steps = []
    assert hooks.current() == Hooks()
    with installed(Hooks(export_step=steps.append)) as chosen:
        assert hooks.current() is chosen
        hooks.current().export_step("after-save")
    assert hooks.current() == Hooks()
    hooks.current().export_step("before-rename")
    assert steps == ["after-save"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork here")
def test_a_forked_child_has_the_hooks_its_parent_installed(tmp_path):
    # The supervised Ray run is such a child: the driver-side hooks must reach it.
    marker = tmp_path / "called"
    with installed(Hooks(cluster_results=marker.touch)):
        pid = os.fork()
        if pid == 0:  # the child: never returns into pytest, whatever happens
            try:
                hooks.current().cluster_results()
            finally:
                os._exit(0)
    os.waitpid(pid, 0)
    assert marker.exists()
