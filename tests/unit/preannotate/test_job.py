"""The job ``toolkit preannotate`` runs: in this process, or supervised (as on Ray), the backend
closed either way, with the model's seconds timed from the end of the scan."""

from __future__ import annotations

import os
from contextlib import contextmanager

from toolkit.preannotate.backends.local import LocalBackend
from toolkit.preannotate.job import PreannotateJob


def _job(tmp_path, config, pipeline, backend=None):
    source = tmp_path / "a.txt"
    source.write_text("Angela Merkel visited Paris.")
    return PreannotateJob(
        [source], out=tmp_path / "out.jsonl", config=config, pipeline=pipeline, backend=backend, n_process=1,
        batch_size=None, on_error=None, fresh=False, output_format="jsonl",
    )  # fmt: skip


def test_a_local_job_runs_here_through_the_display_it_is_given(config, blank_pipeline, tmp_path):
    events, opened = [], []

    @contextmanager
    def display():
        opened.append(os.getpid())
        yield events.append

    outcome = _job(tmp_path, config, blank_pipeline).run(display)
    assert outcome.code == 0 and opened == [os.getpid()]
    assert (outcome.result.written, outcome.result.stats.articles) == (1, 1)
    assert outcome.result.seconds is not None and outcome.result.seconds > 0
    assert [event.total for event in events if event.total is not None] == [1]
    # Nothing new: still timed (the scan's event starts the phase), nothing written.
    again = _job(tmp_path, config, blank_pipeline).run()
    assert (again.result.written, again.result.stats.resumed) == (0, 1)


class _Closing(LocalBackend):
    closed = 0

    def close(self):
        self.closed += 1


def test_a_cluster_job_is_supervised_and_its_backend_closed(monkeypatch, config, blank_pipeline, tmp_path):
    from toolkit.preannotate.backends import _ray_supervise

    supervised = []

    def run_here(run, *, out):
        supervised.append(out)
        run()
        return 0

    monkeypatch.setattr(_ray_supervise, "supervised", run_here)
    backend = _Closing(blank_pipeline, config)
    outcome = _job(tmp_path, config, blank_pipeline, backend).run()
    assert supervised == [tmp_path / "out.jsonl"] and backend.closed == 1
    assert outcome.code == 0 and outcome.result.written == 1


def test_the_parent_of_a_supervised_job_gets_only_the_childs_exit_code(monkeypatch, config, blank_pipeline, tmp_path):
    from toolkit.preannotate.backends import _ray_supervise

    monkeypatch.setattr(_ray_supervise, "supervised", lambda run, *, out: 3)  # the child ran, said, exited 3
    outcome = _job(tmp_path, config, blank_pipeline, _Closing(blank_pipeline, config)).run()
    assert (outcome.result, outcome.code) == (None, 3)
