"""The Ray backend on a real local Ray cluster (2 CPUs, one for the module) and the real model:
the same output file as the local backend, the same skips, resume, and an actor killed mid-run.

Reuters-21578 bodies come from the development corpus next to the repository
(``../shared/corpus``, or ``TOOLKIT_TEST_CORPUS``); that test is skipped without it,
the generated set always runs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import faults
from tests.conftest import light_config_path
from toolkit.config import load_config
from toolkit.hooks import Hooks, installed
from toolkit.nlp.pipeline import load_pipeline
from toolkit.preannotate import PreannotateStats, ReadStats, preannotate_to_file
from toolkit.preannotate.backends.ray import RayBackend

ray = pytest.importorskip("ray", reason="the ray extra is not installed")

pytestmark = [
    pytest.mark.integration,
    # Ray Data's own: its deprecated settings, and that these small inputs do not fill the pool.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.*"),
    pytest.mark.filterwarnings("ignore:The (maximum|minimum) number of concurrent:UserWarning"),
]

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(os.environ.get("TOOLKIT_TEST_CORPUS", ROOT.parent / "shared" / "corpus"))
REUTERS = CORPUS / "reuters-21578" / "reut2-000.json"


@pytest.fixture(scope="module")
def cluster():
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


# The backend's behaviour, not the model's: the light model (each Ray actor loads it again).
LIGHT_CONFIG = light_config_path()


@pytest.fixture(scope="module")
def config():
    return load_config(LIGHT_CONFIG)


@pytest.fixture(scope="module")
def pipeline(config):
    return load_pipeline(config)


@pytest.fixture(scope="module")
def greedy(config):
    return load_pipeline(config, scores=False)


def _generated(folder: Path) -> Path:
    """Forty short articles in JSONL and .txt, with bad input, a duplicate and an id reused."""
    folder.mkdir()
    people = ["Angela Merkel", "Emmanuel Macron", "Joe Biden", "Xi Jinping", "Olaf Scholz"]
    places = ["Paris", "Berlin", "Tokyo", "Nairobi", "Lima", "Oslo"]
    lines = []
    for i in range(36):
        text = f"{people[i % 5]} met officials of Siemens in {places[i % 6]} on day {i}, the agency said."
        lines.append(json.dumps({"id": f"g{i}", "text": text, "title": f"Meeting {i}"}))
    lines[7] = "{broken json"
    lines[12] = json.dumps({"id": "g12", "title": "no text"})
    lines.append(lines[3])  # an exact duplicate: kept once
    lines.append(json.dumps({"id": "g5", "text": "Another text under a used id."}))  # id reused
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for i in range(4):
        (folder / f"t{i}.txt").write_text(f"date 2024-03-0{i + 1} Olaf Scholz visited Warsaw, story {i}.\n")
    (folder / "empty.txt").write_text("")
    return folder


def _run(inputs, out, config, pipeline, *, backend=None, on_error="skip"):
    stats, read_stats = PreannotateStats(), ReadStats()
    events = []
    written = preannotate_to_file(
        inputs,
        out=out,
        config=config,
        pipeline=pipeline,
        on_error=on_error,
        backend=backend,
        stats=stats,
        read_stats=read_stats,
        on_progress=events.append,
    )
    return written, stats, read_stats, events


def _command_env() -> dict[str, str]:
    """The environment of a ``toolkit`` subprocess: this repository's package, no usage stats."""
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env.pop("TOOLKIT_DEBUG", None)
    return env


def _ray(config, pipeline, **options):
    return RayBackend(config, pipeline.model, scores=pipeline.scores, num_workers=2, **options)


def test_same_file_counts_and_progress_as_the_local_backend(cluster, config, pipeline, tmp_path):
    inputs = [_generated(tmp_path / "in")]
    local = _run(inputs, tmp_path / "local.jsonl", config, pipeline)
    with _ray(config, pipeline, batch_size=4) as backend:
        remote = _run(inputs, tmp_path / "ray.jsonl", config, pipeline, backend=backend)
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    written, stats, read_stats, events = remote
    assert written == local[0] == 38  # 34 good JSONL lines (the duplicate kept once) and 4 .txt
    assert stats == local[1] and stats.spans.kept > 0
    assert read_stats == local[2]
    assert read_stats.skipped == {"broken JSON": 1, "missing text field": 1, "id reused": 1, "empty file": 1}
    assert len(read_stats.duplicates) == 1
    # The same events: the total first, then one per article with its words.
    assert events[0].total == written
    assert sum(event.advance for event in events) == written
    assert sum(event.amounts.get("words", 0) for event in events) == stats.words
    assert [event.amounts for event in events] == [event.amounts for event in local[3]]


@pytest.fixture(scope="module")
def calibrated(config, greedy, tmp_path_factory):
    """The light model saved as a folder with a calibration.json beside it, fitted on the model's own
    decisions on short news texts whose annotators rejected every ORG: calibrated scores differ
    from the beam's, by span text, label, context and rivals."""
    from toolkit.nlp import calibration
    from toolkit.nlp.pipeline import with_model

    folder = tmp_path_factory.mktemp("calibrated") / "model"
    greedy.nlp.to_disk(folder)  # its entity components, greedy: what a pipeline folder holds
    model_config = with_model(config, folder)
    scored = load_pipeline(model_config, scores=True)
    texts = [
        f"{person} of Siemens met {other} in {place} on day {i}; Reuters and Toyota said nothing."
        for i, (person, other, place) in enumerate(
            zip(["Joe Biden", "Ada Okafor", "Li Wei", "Mary Smith"] * 5, ["Olaf Scholz", "John Baker"] * 10,
                ["Paris", "Lagos", "Madrid", "Tokyo", "Kenya"] * 4)
        )
    ]  # fmt: skip
    pairs, spans, candidates = [], [], []
    for doc in scored.nlp.pipe(texts):
        gold = {
            (ent.start_char, ent.end_char, label)
            for ent in doc.ents
            if (label := model_config.project_label(ent.label_)) not in (None, "ORG")
        }
        pairs.append((doc.text, sorted(gold)))
        found, missed = calibration.doc_decisions(doc, model_config, gold)
        spans += found
        candidates += missed
    fitted = calibration.fit(list(config.labels), calibration.Lexicon.from_articles(pairs), spans, candidates)
    assert fitted is not None, "the decisions are not all alike"
    calibration.save(fitted, folder)
    return model_config, fitted.calibration_id


def test_a_calibrated_model_gives_the_local_records_to_the_float(cluster, config, pipeline, calibrated, tmp_path):
    """Issue 29: the Ray backend's scores are the local backend's when the model folder carries a
    calibration: every span and task score the same, and the same scoring fingerprint."""
    model_config, calibration_id = calibrated
    scored = load_pipeline(model_config, scores=True)
    assert scored.model.scoring == f"beam{config.spacy.beam_width}+{calibration_id}"
    inputs = [_generated(tmp_path / "in")]
    _run(inputs, tmp_path / "local.jsonl", model_config, scored)
    with _ray(model_config, scored, batch_size=4) as backend:
        _run(inputs, tmp_path / "ray.jsonl", model_config, scored, backend=backend)
    local = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text().splitlines()]
    remote = [json.loads(line) for line in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert [(r["id"], r["model"], r["score"], r["spans"]) for r in remote] == [
        (r["id"], r["model"], r["score"], r["spans"]) for r in local
    ]
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    # The calibration did apply: the raw beam scores the same articles otherwise.
    _run(inputs, tmp_path / "raw.jsonl", config, pipeline)
    raw = [json.loads(line) for line in (tmp_path / "raw.jsonl").read_text().splitlines()]
    assert [r["score"] for r in raw] != [r["score"] for r in local]
    assert {r["model"]["scoring"] for r in local} == {scored.model.scoring}


def test_resume_sends_only_what_the_output_lacks(cluster, config, greedy, tmp_path):
    inputs = [_generated(tmp_path / "in")]
    full = tmp_path / "full.jsonl"
    _run(inputs, full, config, greedy)
    lines = full.read_bytes().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(lines[:20]) + lines[20][:15])  # killed while writing record 21
    with _ray(config, greedy, batch_size=3) as backend:
        written, stats, _, events = _run(inputs, part, config, greedy, backend=backend)
    assert part.read_bytes() == full.read_bytes()
    assert (written, stats.resumed, stats.truncated_tail) == (len(lines) - 20, 20, True)
    assert events[0].total == len(lines) - 20
    # Nothing left: the cluster is not even joined.
    with _ray(config, greedy) as backend:
        assert _run(inputs, part, config, greedy, backend=backend)[0] == 0
        assert backend.startup_seconds is None
    assert part.read_bytes() == full.read_bytes()


def test_an_actor_killed_mid_run_is_replaced_and_its_batch_run_again(cluster, config, greedy, tmp_path):
    inputs = [_generated(tmp_path / "in")]
    _run(inputs, tmp_path / "local.jsonl", config, greedy)
    marker = tmp_path / "killed"
    with installed(Hooks(actor_batch=faults.KillActorOnce(str(marker)))), _ray(config, greedy, batch_size=2) as backend:
        written, stats, _, _ = _run(inputs, tmp_path / "ray.jsonl", config, greedy, backend=backend)
    assert marker.exists()  # an actor did die
    ids = [json.loads(line)["id"] for line in (tmp_path / "ray.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids)) == written == stats.articles
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_bad_input_fails_before_the_cluster_runs_anything(cluster, config, greedy, tmp_path):
    from toolkit.errors import InputError

    inputs = [_generated(tmp_path / "in")]
    with _ray(config, greedy) as backend, pytest.raises(InputError, match=r"a\.jsonl:8: broken JSON"):
        _run(inputs, tmp_path / "ray.jsonl", config, greedy, backend=backend, on_error="fail")
    assert not (tmp_path / "ray.jsonl").exists()
    assert backend.startup_seconds is None  # stopped before the cluster was joined


@pytest.mark.skipif(not REUTERS.is_file(), reason=f"Reuters-21578 is not at {REUTERS}")
def test_reuters_bodies_same_records_as_the_local_backend(cluster, tmp_path):
    # Greedy decoding keeps this test short; the scored records are compared on the generated set.
    config = load_config(ROOT / "configs" / "reuters-21578.yaml")
    pipeline = load_pipeline(config, scores=False)
    # A few hundred bodies: the first file holds 1,000 records, about 900 with a body.
    records = json.loads(REUTERS.read_text(encoding="utf-8"))[:330]
    source = tmp_path / "reuters.json"
    source.write_text(json.dumps(records), encoding="utf-8")
    local = _run([source], tmp_path / "local.jsonl", config, pipeline)
    with _ray(config, pipeline) as backend:
        remote = _run([source], tmp_path / "ray.jsonl", config, pipeline, backend=backend)
    assert remote[0] == local[0] > 250
    assert remote[1] == local[1] and remote[2] == local[2]
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_a_refused_address_is_one_line_and_exit_1(tmp_path):
    (tmp_path / "a.txt").write_text("Olaf Scholz visited Warsaw.")
    env = _command_env()
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "preannotate", "a.txt", "--out", "out.jsonl", "--no-scores"]
        + ["--config", str(LIGHT_CONFIG), "--backend", "ray", "--address", "127.0.0.1:9"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "127.0.0.1:9" in errors[0], done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.jsonl").exists()


def test_parquet_folder_written_by_the_workers_resumes_and_reads_back(cluster, config, greedy, tmp_path):
    import pyarrow.parquet as pq

    from toolkit.io.predictions import parts, read_predictions

    inputs = [_generated(tmp_path / "in")]
    local = tmp_path / "local.jsonl"
    _run(inputs, local, config, greedy)
    expected = [json.loads(line) for line in local.read_text().splitlines()]
    folder = tmp_path / "preds"
    with _ray(config, greedy, batch_size=10) as backend:
        stats = PreannotateStats()
        written = preannotate_to_file(
            inputs, out=folder, config=config, pipeline=greedy, on_error="skip", backend=backend,
            stats=stats, output_format="parquet",
        )  # fmt: skip
        assert written == len(expected) == stats.articles
        sizes = [pq.ParquetFile(part).metadata.num_rows for part in parts(folder)]
        assert len(sizes) >= 4 and max(sizes) <= 10 and sum(sizes) == written  # a part per batch of <= 10
        assert [record.to_json_dict() for record in read_predictions(folder)] == expected
        # An interrupted run's last part is missing: the rerun runs only its articles.
        parts(folder)[-1].unlink()
        stats = PreannotateStats()
        written = preannotate_to_file(
            inputs, out=folder, config=config, pipeline=greedy, on_error="skip", backend=backend,
            stats=stats, output_format="parquet",
        )  # fmt: skip
    assert (written, stats.resumed) == (sizes[-1], len(expected) - sizes[-1])
    assert [record.to_json_dict() for record in read_predictions(folder)] == expected


def test_the_command_starts_a_local_cluster_and_writes_what_the_local_backend_writes(config, greedy, tmp_path):
    samples = ROOT / "samples"
    _run([samples], tmp_path / "local.jsonl", config, greedy)
    env = _command_env()
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "preannotate", str(samples), "--out", "ray.jsonl", "--no-scores"]
        + ["--config", str(LIGHT_CONFIG), "--backend", "ray", "--workers", "1"]
        + ["--on-error", "skip"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Ray: 1 worker on a local cluster of 1 CPU," in done.stdout
    assert "Wrote 7 articles" in done.stdout
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()


def test_articles_given_as_values_are_predicted_as_locally(cluster, config, greedy):
    from toolkit.preannotate.backends.local import LocalBackend
    from toolkit.records import Article

    articles = [Article(id=str(i), text=f"Joe Biden called Olaf Scholz from Boston, call {i}.") for i in range(30)]
    local = [tuple(item) for item in LocalBackend(greedy, config).predict(articles)]
    with _ray(config, greedy, batch_size=4) as backend:
        assert [tuple(item) for item in backend.predict(articles)] == local


# --- JSONL and Parquet inputs read by Ray Data on the workers -------------------------------


def _row_inputs(folder: Path) -> Path:
    """JSONL and Parquet only (so the workers read them, nothing is read in the driver first), with
    bad input of every kind the workers count and the driver decides: broken JSON, a missing text
    field, an empty article, an empty file, a blank line, a duplicate and an id reused."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    _generated(folder)
    for text_file in folder.glob("*.txt"):
        text_file.unlink()
    lines = (folder / "a.jsonl").read_text(encoding="utf-8").splitlines()
    lines.insert(20, "   ")  # a blank line: no article, not bad input
    (folder / "a.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    texts = [f"Olaf Scholz visited Warsaw and met Donald Tusk, report {i}." for i in range(12)]
    texts[4] = "  "  # an empty article
    texts[9] = texts[2]  # a duplicate inside the Parquet file
    ids = [f"p{i}" for i in range(12)]
    ids[10] = "g1"  # an id of the JSONL file, for another text
    pq.write_table(pa.table({"id": ids, "text": texts, "date": ["2024-03-01"] * 12}), folder / "b.parquet")
    (folder / "c.jsonl").write_text("")
    return folder


def _no_driver_read(monkeypatch) -> None:
    import toolkit.preannotate.preannotation as preannotation

    def refuse(*args, **kwargs):
        raise AssertionError("the driver read the inputs")

    monkeypatch.setattr(preannotation, "scan_inputs", refuse)
    monkeypatch.setattr(preannotation, "read_articles", refuse)


def test_jsonl_and_parquet_read_by_the_workers_give_the_local_records_and_skips(
    cluster, config, pipeline, tmp_path, monkeypatch
):
    inputs = [_row_inputs(tmp_path / "in")]
    local = _run(inputs, tmp_path / "local.jsonl", config, pipeline)
    _no_driver_read(monkeypatch)
    # An actor dies at its second batch: it is replaced and the batch read and run again.
    kill = Hooks(actor_batch=faults.KillActorOnce(str(tmp_path / "killed")))
    with installed(kill), _ray(config, pipeline, batch_size=4) as backend:
        remote = _run(inputs, tmp_path / "ray.jsonl", config, pipeline, backend=backend)
    assert (tmp_path / "killed").exists()
    assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
    written, stats, read_stats, events = remote
    assert written == local[0] == 34 + 9
    assert stats == local[1] and stats.spans.kept > 0
    # Counted on the workers (bad lines and records) and where the results arrive (duplicates,
    # ids reused): the local reader's counts, messages and examples, in the same order.
    assert read_stats == local[2]
    assert read_stats.skipped == {
        "broken JSON": 1, "missing text field": 1, "empty article": 1, "empty file": 1, "id reused": 2,
    }  # fmt: skip
    assert len(read_stats.duplicates) == 2
    # The total is estimated from the bytes read so far, and exact at the end.
    assert [event.total for event in events if event.total is not None][-1] == written
    assert sum(event.advance for event in events) == written
    assert [event.amounts for event in events if event.advance] == [e.amounts for e in local[3] if e.advance]
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_a_file_url_is_read_through_rays_filesystems_and_resumes(cluster, config, greedy, tmp_path, monkeypatch):
    folder = _row_inputs(tmp_path / "in")
    full = tmp_path / "full.jsonl"
    local = _run([folder], full, config, greedy)
    lines = full.read_bytes().splitlines(keepends=True)
    part = tmp_path / "part.jsonl"
    part.write_bytes(b"".join(lines[:20]) + lines[20][:15])  # killed while writing record 21
    _no_driver_read(monkeypatch)
    url = folder.as_uri()  # file:///...: the same code path as s3://, through pyarrow's filesystems
    with _ray(config, greedy, batch_size=3) as backend:
        written, stats, read_stats, _ = _run([url], part, config, greedy, backend=backend)
    assert (written, stats.resumed, stats.truncated_tail) == (len(lines) - 20, 20, True)
    got = part.read_bytes().splitlines(keepends=True)
    assert got[:20] == lines[:20]
    # The articles run now are named by the URL, as the user gave it.
    assert [json.loads(line) for line in got[20:]] == [
        {**record, "source": record["source"].replace(str(folder), url)} for record in map(json.loads, lines[20:])
    ]
    assert read_stats.skipped == local[2].skipped and read_stats.articles == local[2].articles
    assert read_stats.skipped_examples[0] == local[2].skipped_examples[0].replace(str(folder), url)


def test_on_error_fail_stops_at_the_first_bad_line_keeping_the_records_before_it(cluster, config, greedy, tmp_path):
    from toolkit.errors import InputError

    inputs = [_row_inputs(tmp_path / "in")]
    local = tmp_path / "local.jsonl"
    _run(inputs, local, config, greedy)
    expected = local.read_bytes().splitlines(keepends=True)
    out = tmp_path / "ray.jsonl"
    with _ray(config, greedy, batch_size=2) as backend:
        with pytest.raises(InputError, match=r"a\.jsonl:8: broken JSON") as failed:
            _run(inputs, out, config, greedy, backend=backend, on_error="fail")
        kept = out.read_bytes().splitlines(keepends=True)
        # Nothing was read before the workers met it: the articles before it are kept, whole,
        # and the error says so.
        assert 0 < len(kept) < len(expected) and kept == expected[: len(kept)]
        assert f"the {len(kept)} articles before it are in {out}" in failed.value.hint
        # The rerun (bad input now skipped) resumes after them, to the local backend's file.
        _run(inputs, out, config, greedy, backend=backend)
    assert out.read_bytes() == local.read_bytes()
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".tmp")]


def test_a_cluster_that_dies_mid_run_is_one_line_exit_1_and_the_rerun_resumes(tmp_path):
    # Enough articles that the cluster dies with most of them still to run.
    lines = [
        json.dumps({"id": f"d{i}", "text": f"Angela Merkel met Siemens in Paris on day {i}."}) for i in range(3000)
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = _command_env()
    # Ray gives up on its GCS after this many seconds (60 by default).
    env["RAY_gcs_rpc_server_reconnect_timeout_s"] = "5"
    args = ["preannotate", "in.jsonl", "--out", "out.jsonl", "--no-scores"]
    args += ["--config", str(LIGHT_CONFIG), "--backend", "ray", "--workers", "1"]
    args += ["--batch-size", "16"]
    # Once the driver has its first results, the hook SIGKILLs the local cluster's raylet, GCS and
    # the rest (the fault launcher installs it).
    faulty, faulty_env = faults.command({**env, faults.RAY_STOP_CLUSTER: str(tmp_path / "stopped")})
    done = subprocess.run([*faulty, *args], cwd=tmp_path, env=faulty_env, capture_output=True, text=True, timeout=300)
    assert (tmp_path / "stopped").exists()
    assert done.returncode == 1, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "the Ray cluster went away mid-run" in errors[0], done.stderr
    assert "the articles finished before are in out.jsonl" in errors[0]
    assert "Traceback" not in done.stderr
    assert sorted(os.listdir(tmp_path)) == ["in.jsonl", "out.jsonl", "stopped"]  # no temporary file
    # What the dead run wrote is whole records (a torn last line is cut off by the rerun),
    # and the rerun, on a new local cluster, finishes the job: every article exactly once.
    command = [sys.executable, "-m", "toolkit", *args]
    again = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    ids = [json.loads(line)["id"] for line in (tmp_path / "out.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sorted(ids) == sorted(f"d{i}" for i in range(3000))


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_running_cluster_with_token_authentication_is_joined_by_its_gcs_address(greedy, config, tmp_path):
    import secrets
    import signal
    import time

    samples = ROOT / "samples"
    _run([samples], tmp_path / "local.jsonl", config, greedy)
    env = _command_env()
    env.update(
        RAY_AUTH_MODE="token",
        RAY_AUTH_TOKEN=secrets.token_hex(32),
        RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S="0",  # SIGTERM ends the head at once
    )
    port = _free_port()
    head = subprocess.Popen(
        [str(Path(sys.executable).parent / "ray"), "start", "--head", "--port", str(port), "--num-cpus", "1"]
        + ["--include-dashboard", "false", "--block"],
        env=env,
        stdout=(tmp_path / "head.log").open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        command = [sys.executable, "-m", "toolkit", "preannotate", str(samples), "--out", "ray.jsonl", "--no-scores"]
        command += ["--config", str(LIGHT_CONFIG), "--backend", "ray", "--workers", "1"]
        command += ["--on-error", "skip", "--address", f"127.0.0.1:{port}"]
        deadline = time.monotonic() + 120
        while True:  # the head takes a few seconds to listen
            done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
            if done.returncode == 0 or time.monotonic() > deadline or "cannot reach" not in done.stderr:
                break
            time.sleep(2)
        assert done.returncode == 0, done.stderr + (tmp_path / "head.log").read_text()[-2000:]
        assert f"Ray: 1 worker on a cluster at 127.0.0.1:{port} of 1 CPU," in done.stdout
        assert (tmp_path / "ray.jsonl").read_bytes() == (tmp_path / "local.jsonl").read_bytes()
        assert env["RAY_AUTH_TOKEN"] not in done.stdout + done.stderr
        # Without the token mode, Ray only says it cannot connect: the hint says what is missing.
        del env["RAY_AUTH_MODE"], env["RAY_AUTH_TOKEN"]
        command[command.index("ray.jsonl")] = "again.jsonl"  # something to run, so the cluster is joined
        refused = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
        assert refused.returncode == 1, refused.stderr
        errors = [line for line in refused.stderr.splitlines() if line.startswith("Error")]
        assert len(errors) == 1, refused.stderr
        assert errors[0].startswith(f"Error: [ray.address] cannot reach the Ray cluster at 127.0.0.1:{port}: ")
        assert "RAY_AUTH_MODE=token" in refused.stderr and "Traceback" not in refused.stderr
        assert not (tmp_path / "again.jsonl").exists()
    finally:
        head.send_signal(signal.SIGTERM)
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
            head.wait()


def test_an_s3_folder_is_read_by_the_workers_and_its_keys_are_never_shown(config, greedy, tmp_path):
    """``s3://`` through pyarrow's S3 client against a local S3 endpoint (moto's server on 127.0.0.1):
    the S3 protocol is spoken for real, no cloud account needed."""
    boto3 = pytest.importorskip("boto3", reason="moto[server] (the test extra) is not installed")
    moto_server = pytest.importorskip("moto.server", reason="moto[server] (the test extra) is not installed")

    folder = _row_inputs(tmp_path / "in")
    local_reads = _run([folder], tmp_path / "local.jsonl", config, greedy)[2]
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        secret = "s3-secret-" + os.urandom(8).hex()
        s3 = boto3.client(
            "s3", endpoint_url=f"http://{host}:{port}", region_name="us-east-1",
            aws_access_key_id="toolkit-test", aws_secret_access_key=secret,
        )  # fmt: skip
        s3.create_bucket(Bucket="newsroom")
        for path in sorted(folder.iterdir()):
            s3.upload_file(str(path), "newsroom", f"2024/{path.name}")
        # The keys before the bucket, the endpoint in the query: as pyarrow reads an S3 URL.
        url = f"s3://toolkit-test:{secret}@newsroom/2024/?endpoint_override={host}:{port}&scheme=http&region=us-east-1"
        command = [sys.executable, "-m", "toolkit", "preannotate", url, "--out", "s3.jsonl", "--no-scores"]
        command += ["--config", str(LIGHT_CONFIG), "--backend", "ray", "--workers", "1"]
        command += ["--on-error", "skip"]
        done = subprocess.run(command, cwd=tmp_path, env=_command_env(), capture_output=True, text=True, timeout=300)
    finally:
        server.stop()
    assert done.returncode == 0, done.stderr
    written = (tmp_path / "s3.jsonl").read_text(encoding="utf-8")
    assert secret not in done.stdout + done.stderr + written and "endpoint_override" not in written
    # The local backend's records, named by the URL without its query.
    expected = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text(encoding="utf-8").splitlines()]
    for record in expected:
        record["source"] = record["source"].replace(str(folder), "s3://newsroom/2024")
    assert [json.loads(line) for line in written.splitlines()] == expected
    # The same skips, counted on the workers, and their examples named by the URL.
    assert f"Skipped {local_reads.skipped_total} bad input" in done.stdout
    assert local_reads.skipped_examples[0].replace(str(folder), "s3://newsroom/2024") in done.stdout


def test_jsonl_and_parquet_read_by_the_workers_into_a_parquet_folder_they_write(
    cluster, config, greedy, tmp_path, monkeypatch
):
    from toolkit.io.predictions import parts, read_predictions

    inputs = [_row_inputs(tmp_path / "in")]
    local = _run(inputs, tmp_path / "local.jsonl", config, greedy)
    expected = [json.loads(line) for line in (tmp_path / "local.jsonl").read_text(encoding="utf-8").splitlines()]
    _no_driver_read(monkeypatch)
    # An actor dies at its second batch: replaced, its batch read, run and written again.
    kill = Hooks(actor_batch=faults.KillActorOnce(str(tmp_path / "killed")))
    folder = tmp_path / "preds"
    with _ray(config, greedy, batch_size=4) as backend:
        stats, read_stats = PreannotateStats(), ReadStats()
        with installed(kill):
            written = preannotate_to_file(
                inputs, out=folder, config=config, pipeline=greedy, on_error="skip", backend=backend,
                stats=stats, read_stats=read_stats, output_format="parquet",
            )  # fmt: skip
        assert (tmp_path / "killed").exists()
        assert written == local[0] == stats.articles and stats == local[1]
        assert read_stats.skipped == local[2].skipped and read_stats.duplicates == local[2].duplicates
        # The local backend's records, in its order; no hidden leftover in the folder.
        assert [record.to_json_dict() for record in read_predictions(folder)] == expected
        assert sorted(path.name for path in folder.iterdir() if path.name.startswith(".")) == []
        # An interrupted run's last part is missing: the rerun runs only its articles.
        last = parts(folder)[-1]
        import pyarrow.parquet as pq

        missing = pq.ParquetFile(last).metadata.num_rows
        last.unlink()
        stats = PreannotateStats()
        written = preannotate_to_file(
            inputs, out=folder, config=config, pipeline=greedy, on_error="skip", backend=backend,
            stats=stats, output_format="parquet",
        )  # fmt: skip
    assert (written, stats.resumed) == (missing, len(expected) - missing)
    assert [record.to_json_dict() for record in read_predictions(folder)] == expected
