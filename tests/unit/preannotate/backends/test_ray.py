"""The Ray backend without a cluster: the missing extra, the settings, and the driver's side of a
planned run (a stand-in backend reads the plan the way the cluster's workers do)."""

from __future__ import annotations

import sys

import pytest

from toolkit.config import parse_config
from toolkit.errors import ClusterError
from toolkit.preannotate import PreannotateStats, ReadStats, preannotate_to_file
from toolkit.preannotate.backends import PlannedBackend
from toolkit.preannotate.backends.local import LocalBackend
from toolkit.preannotate.readers.plan import read_planned


def test_missing_ray_names_the_extra(monkeypatch):
    from toolkit.preannotate.backends.ray import import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray raises
    with pytest.raises(ClusterError, match=r"\[spacy.backend\] ray needs Ray Data") as raised:
        import_ray()
    assert "pip install 'toolkit[ray]'" in raised.value.hint


def test_settings_from_the_config_and_their_overrides(config):
    from toolkit.preannotate.backends.ray import RayBackend
    from toolkit.records import ModelInfo

    data = config.model_dump()
    data["spacy"]["backend"] = "ray"
    data["ray"] = {"address": "head:6379", "num_workers": 8, "batch_size": 16}
    configured = parse_config(data)
    backend = RayBackend(configured, ModelInfo(name="m", version="1"))
    assert (backend.address, backend.num_workers, backend.batch_size) == ("head:6379", 8, 16)
    backend = RayBackend(configured, ModelInfo(name="m", version="1"), address="auto", num_workers=2, batch_size=4)
    assert (backend.address, backend.num_workers, backend.batch_size) == ("auto", 2, 4)
    data["ray"] = {"workers": 2}
    with pytest.raises(Exception, match=r"\[ray.workers\] unknown key"):
        parse_config(data)


def test_a_ray_client_address_is_refused_before_anything_runs(config):
    from toolkit.preannotate.backends.ray import RayBackend
    from toolkit.records import ModelInfo

    # Ray Data needs the driver's own core worker, which a Ray Client driver lacks.
    with pytest.raises(ClusterError, match=r"^\[ray.address\] ray://head:10001 is a Ray Client address") as raised:
        RayBackend(config, ModelInfo(name="m", version="1"), address="ray://head:10001")
    assert "--address auto" in raised.value.hint and "HOST:6379" in raised.value.hint


def test_a_worker_scoring_otherwise_than_the_driver_is_told_apart_from_another_model(
    config, blank_pipeline, monkeypatch
):
    """A pull refits the model folder's calibration while a Ray run starts (or a node holds
    another calibration.json): the worker's scores would be another kind of number than the
    driver's. The error names both scorings, not the same model version twice."""
    import toolkit.nlp.pipeline
    from toolkit.errors import ModelError
    from toolkit.preannotate.backends.ray import _Annotator

    worker = blank_pipeline.model.model_copy(update={"scoring": "beam8+cal-0123456789ab"})
    driver = blank_pipeline.model.model_copy(update={"scoring": "beam8+cal-ba9876543210"})
    loaded = blank_pipeline.__class__(**{**blank_pipeline.__dict__, "model": worker, "scores": True})
    monkeypatch.setattr(toolkit.nlp.pipeline, "load_pipeline", lambda *args, **kwargs: loaded)
    with pytest.raises(ModelError) as raised:
        _Annotator(config, driver, scores=True)
    assert raised.value.message == (
        "[spacy.model] a Ray worker scores blank_en 0.0.0 with beam8+cal-0123456789ab, the driver with "
        "beam8+cal-ba9876543210: the model folder's calibration changed since the run began (a `toolkit pull` "
        "refits it) or differs between nodes"
    )
    assert "toolkit preannotate" in raised.value.hint
    # Another model version altogether is still said as before.
    other = driver.model_copy(update={"version": "9.9.9"})
    with pytest.raises(ModelError, match=r"a Ray worker loaded blank_en 0.0.0, the driver blank_en 9.9.9$"):
        _Annotator(config, other, scores=True)


class _PlannedStandIn:
    """Reads each planned file again, as a worker does, and runs the local backend over it."""

    def __init__(self, pipeline, config):
        self.local = LocalBackend(pipeline, config)
        self.plans = []

    def predict(self, articles):
        raise AssertionError("a planned backend is given the plan, not the articles")

    def predict_planned(self, plan, options):
        self.plans.append(plan)
        for file in plan.files:
            yield from self.local.predict(read_planned(file, options))


def test_a_planned_backend_writes_what_the_local_one_writes(config, blank_pipeline, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(6):
        (folder / f"{i}.txt").write_text(f"Article number {i} about Paris.")
    (folder / "bad.txt").write_bytes(b"\xff\xfe\x00bad")
    (folder / "more.jsonl").write_text('{"id": "j1", "text": "One more."}\n{nope\n{"id": "j2", "text": "Two."}\n')
    local_out, planned_out = tmp_path / "local.jsonl", tmp_path / "planned.jsonl"
    outcomes = []
    for out, backend in ((local_out, None), (planned_out, _PlannedStandIn(blank_pipeline, config))):
        stats, read_stats, events = PreannotateStats(), ReadStats(), []
        written = preannotate_to_file(
            [folder], out=out, config=config, pipeline=blank_pipeline, on_error="skip",
            backend=backend, stats=stats, read_stats=read_stats, on_progress=events.append,
        )  # fmt: skip
        outcomes.append((written, stats, read_stats, events))
    assert isinstance(backend, PlannedBackend)
    assert planned_out.read_bytes() == local_out.read_bytes()
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == 8 and sum(outcomes[1][2].skipped.values()) == 2
    (plan,) = backend.plans
    assert plan.articles == 8 and [file.runs for file in plan.files][-1] == [(0, 1), (2, 3)]
    # Resumed: a second run plans nothing and does not call the backend.
    assert preannotate_to_file([folder], out=planned_out, config=config, pipeline=blank_pipeline,
                               on_error="skip", backend=backend) == 0  # fmt: skip
    assert len(backend.plans) == 1


class _RowStandIn:
    """Reads each input as the cluster does (rows cut from a stream, then turned into articles by
    :func:`annotate_rows`), a few rows per batch, with the local backend as the model."""

    def __init__(self, pipeline, config, rows_per_batch=3, die_after=None):
        self.local = LocalBackend(pipeline, config)
        self.rows_per_batch = rows_per_batch
        self.die_after = die_after

    def predict(self, articles):
        raise AssertionError("a row backend reads the inputs itself")

    def predict_rows(self, inputs, options, *, done, parts=None, run_id=None):
        from toolkit.preannotate.backends.rows import annotate_rows, write_pending
        from toolkit.preannotate.readers.rows import jsonl_rows, parquet_rows

        names = [file.name for file in inputs.files]
        rows = []
        for number, file in enumerate(inputs.files):
            with open(file.path, "rb") as handle:
                reader = parquet_rows if file.path.endswith(".parquet") else jsonl_rows
                rows += [(number, *row) for row in reader(handle, file.name, file.size)]

        def batches():
            for start in range(0, len(rows), self.rows_per_batch):
                if self.die_after is not None and start >= self.die_after:
                    raise ClusterError("the Ray cluster failed: the node died")
                batch = rows[start : start + self.rows_per_batch]
                annotated = annotate_rows(batch, names=names, options=options, done=done, backend=self.local)
                yield write_pending(annotated, parts, run_id) if parts is not None else annotated

        return batches()


def _jsonl_inputs(folder):
    import json

    folder.mkdir()
    lines = [json.dumps({"id": f"j{i}", "text": f"Article {i} about Paris."}) for i in range(10)]
    lines[3] = "{nope"
    lines.append(lines[1])  # a duplicate
    lines.append(json.dumps({"id": "j2", "text": "Another text."}))  # an id reused
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "b.jsonl").write_text('{"text": "No id."}\n\n{"id": "b", "title": "no text"}\n')
    return folder


def test_a_row_backend_writes_what_the_local_one_writes(config, blank_pipeline, tmp_path):
    from toolkit.preannotate.backends import RowBackend

    folder = _jsonl_inputs(tmp_path / "in")
    outcomes = []
    for out, backend in (
        (tmp_path / "local.jsonl", None),
        (tmp_path / "rows.jsonl", _RowStandIn(blank_pipeline, config)),
    ):
        stats, read_stats, events = PreannotateStats(), ReadStats(), []
        written = preannotate_to_file(
            [folder], out=out, config=config, pipeline=blank_pipeline, on_error="skip",
            backend=backend, stats=stats, read_stats=read_stats, on_progress=events.append,
        )  # fmt: skip
        outcomes.append((written, stats, read_stats, [event for event in events if event.advance]))
        outcomes[-1] += ([event.total for event in events if event.total is not None][-1],)
    assert isinstance(backend, RowBackend)
    assert (tmp_path / "rows.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][0] == 10 and outcomes[1][2].skipped == {
        "broken JSON": 1,
        "id reused": 1,
        "missing text field": 1,
    }


def _ids(out):
    import json

    return [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]


def test_a_row_backend_that_fails_or_dies_keeps_what_it_wrote_and_the_rerun_resumes(config, blank_pipeline, tmp_path):
    from toolkit.errors import InputError

    folder = _jsonl_inputs(tmp_path / "in")
    out = tmp_path / "out.jsonl"
    preannotate_to_file([folder / "b.jsonl"], out=out, config=config, pipeline=blank_pipeline, on_error="skip")
    before = out.read_bytes()
    (first,) = _ids(out)
    # Nothing is read before the workers meet the bad line: the articles before it are appended.
    with pytest.raises(InputError, match=r"a\.jsonl:4: broken JSON") as failed:
        preannotate_to_file([folder], out=out, config=config, pipeline=blank_pipeline, on_error="fail",
                            backend=_RowStandIn(blank_pipeline, config))  # fmt: skip
    assert _ids(out) == [first, "j0", "j1", "j2"]
    assert f"the 3 articles before it are in {out}" in failed.value.hint
    with pytest.raises(ClusterError, match="the node died"):
        preannotate_to_file([folder], out=out, config=config, pipeline=blank_pipeline, on_error="skip",
                            backend=_RowStandIn(blank_pipeline, config, die_after=6))  # fmt: skip
    kept = _ids(out)
    assert out.read_bytes().startswith(before) and len(kept) == len(set(kept)) > 4
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in", "out.jsonl"]  # no temporary file
    # Resumed: what the two runs wrote is not predicted again, the rest is appended.
    stats = PreannotateStats()
    written = preannotate_to_file([folder], out=out, config=config, pipeline=blank_pipeline, on_error="skip",
                                  backend=_RowStandIn(blank_pipeline, config), stats=stats)  # fmt: skip
    assert (written, stats.resumed) == (10 - len(kept), len(kept))
    assert _ids(out)[: len(kept)] == kept and len(set(_ids(out))) == len(_ids(out)) == 10


def test_a_row_backend_writes_a_parquet_folder_of_the_local_records_and_resumes(config, blank_pipeline, tmp_path):
    import json

    from toolkit.errors import InputError
    from toolkit.io.predictions import parts, read_predictions

    folder = _jsonl_inputs(tmp_path / "in")
    preannotate_to_file([folder], out=tmp_path / "local.jsonl", config=config, pipeline=blank_pipeline,
                        on_error="skip")  # fmt: skip
    expected = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    out = tmp_path / "in" / "preds"  # inside an input folder: its parts are never read as inputs
    # Bad input stops the run where it is met: the parts decided before it stay (the batch of the
    # bad line keeps the records before it), the pending parts of the batches after it go.
    with pytest.raises(InputError, match=r"a\.jsonl:4: broken JSON") as failed:
        preannotate_to_file([folder], out=out, config=config, pipeline=blank_pipeline, on_error="fail",
                            backend=_RowStandIn(blank_pipeline, config), output_format="parquet")  # fmt: skip
    assert [record.id for record in read_predictions(out)] == ["j0", "j1", "j2"]
    assert f"the 3 articles before it are in {out}" in failed.value.hint
    assert [path.name for path in out.iterdir() if path.name.startswith(".")] == []
    stats = PreannotateStats()
    written = preannotate_to_file([folder], out=out, config=config, pipeline=blank_pipeline, on_error="skip",
                                  backend=_RowStandIn(blank_pipeline, config), stats=stats,
                                  output_format="parquet")  # fmt: skip
    assert (written, stats.resumed) == (7, 3)
    # The duplicate and the id reused were dropped from their batches' parts, which the driver
    # rewrote; every other batch's part was renamed into place whole.
    assert [record.to_json_dict() for record in read_predictions(out)] == expected
    assert len(parts(out)) >= 3 and [path.name for path in out.iterdir() if path.name.startswith(".")] == []
