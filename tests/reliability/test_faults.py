"""Faults during real commands against real Label Studio servers: nothing duplicated, nothing lost.

- the server is stopped in the middle of a push and of a pull (the spare server, via a
  proxy that stops it at an exact request), then restarted and the command rerun;
- a slow server answering 500s to a seeded share of requests (the proxy);
- a 500 answered after the server created the project (a retry would create a second);
- ``toolkit export`` killed with SIGKILL half-way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.reliability import tally
from tests.reliability.conftest import (
    article_ids_of_tasks,
    delete_project,
    project_by_title,
    run,
    title_of,
    write_config,
)
from tests.reliability.data import annotate_all, lost_spans, read_jsonl, spans_by_id, write_predictions
from tests.reliability.proxy import PASS, Fault, FaultProxy, SeededFaults

pytestmark = pytest.mark.integration


def _is_import(request) -> bool:
    return request.method == "POST" and request.path.split("?")[0].endswith("/import")


def _is_export(request) -> bool:
    return request.method == "GET" and "/export" in request.path


def test_server_stopped_mid_push_then_rerun_imports_each_article_once(spare, tmp_path):
    config = write_config(tmp_path / "config.yaml", push={"batch_size": 5})
    write_predictions(tmp_path / "predictions.jsonl", 30, prefix="midpush")
    imports = []

    def plan(request):
        if _is_import(request):
            imports.append(request)
            if len(imports) == 3:  # the third batch lands on the server, its answer never arrives
                return Fault("drop_after")
        return PASS

    def stop_after_third_import(request):
        if imports and request is imports[-1] and len(imports) == 3:
            spare.stop()

    try:
        with FaultProxy(spare.url, plan, on_forwarded=stop_after_third_import) as proxy:
            failed = run(
                "push",
                "predictions.jsonl",
                "--config",
                str(config),
                cwd=tmp_path,
                url=proxy.url,
                key=spare.key,
                expect=1,
            )
        assert "cannot reach Label Studio" in failed.stderr
        assert not spare.running()
        # While it is down, a push says so at once.
        down = run(
            "push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=spare.url, key=spare.key, expect=1
        )
        assert "cannot reach Label Studio" in down.stderr and "log in" in down.stderr
    finally:
        spare.start()

    rerun = run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=spare.url, key=spare.key)
    assert "15 new tasks" in rerun.stdout
    client = spare.client()
    project = project_by_title(client, title_of(config))
    ids = article_ids_of_tasks(client, project.id)
    assert sorted(ids) == sorted(f"midpush-{n:04d}" for n in range(30))  # none missing, none twice
    tally.add("faults")


def test_server_stopped_mid_pull_keeps_the_last_pull_and_rerun_is_exact(spare, tmp_path):
    config = write_config(tmp_path / "config.yaml")
    records = write_predictions(tmp_path / "predictions.jsonl", 20, prefix="midpull")
    run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=spare.url, key=spare.key)
    client = spare.client()
    project = project_by_title(client, title_of(config))
    half = {r["id"] for r in records[10:]}
    expected = annotate_all(client, project.id, skip=half)
    run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, url=spare.url, key=spare.key)
    before = (tmp_path / "annotations.jsonl").read_bytes()
    assert set(spans_by_id(read_jsonl(tmp_path / "annotations.jsonl"))) == set(expected)
    expected |= annotate_all(client, project.id)

    def plan(request):
        return Fault("truncate") if _is_export(request) else PASS

    def stop_during_export(request):
        if _is_export(request):
            spare.stop()

    try:
        with FaultProxy(spare.url, plan, on_forwarded=stop_during_export) as proxy:
            failed = run(
                "pull",
                "--config",
                str(config),
                "--out",
                "annotations.jsonl",
                cwd=tmp_path,
                url=proxy.url,
                key=spare.key,
                expect=1,
            )
        assert "Label Studio" in failed.stderr and "export" in failed.stderr
        assert proxy.faults("truncate"), "the export was never cut"
        # The earlier pull is intact and no half-written file lies next to it.
        assert (tmp_path / "annotations.jsonl").read_bytes() == before
        assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".annotations")]
        down = run(
            "pull",
            "--config",
            str(config),
            "--out",
            "annotations.jsonl",
            cwd=tmp_path,
            url=spare.url,
            key=spare.key,
            expect=1,
        )
        assert "cannot reach Label Studio" in down.stderr
    finally:
        spare.start()

    run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, url=spare.url, key=spare.key)
    pulled = read_jsonl(tmp_path / "annotations.jsonl")
    assert len(pulled) == len({r["id"] for r in pulled}) == 20  # nothing twice
    got = spans_by_id(pulled)
    assert got == expected  # nothing missing, nothing changed
    # And on into the dataset: every human span is in its row.
    run("export", "annotations.jsonl", "--config", str(config), "--out", "dataset", cwd=tmp_path)
    exported = {
        row["id"]: sorted((s["start"], s["end"], s["label"]) for s in row["spans"])
        for row in _rows(tmp_path / "dataset")
    }
    assert exported == expected
    tally.add("faults")
    tally.add("spans_checked", sum(len(spans) for spans in expected.values()))
    tally.add("spans_lost", lost_spans(expected, got) + lost_spans(expected, exported))


# Two seeds, two different sequences of faults (both inject at least 3 failures).
@pytest.mark.parametrize("seed", [8, 11])
def test_slow_server_with_500s_bounded_retries_exact_outcome(server, client, tmp_path, seed):
    """A seeded quarter of requests fail with 500 (half of them after the server did the
    work) and a third are slow. Commands fail cleanly or succeed; reruns converge; the
    outcome is exact and the retries are bounded."""
    config = write_config(tmp_path / "config.yaml", push={"batch_size": 4})
    write_predictions(tmp_path / "predictions.jsonl", 24, prefix="faulty")
    key = server.api_key.get_secret_value()
    faults = SeededFaults(seed=seed, fail_share=0.25, delay_share=0.3, delay_range=(0.1, 0.5))
    try:
        with FaultProxy(server.url, faults) as proxy:
            attempts = _until_success(
                proxy, "push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, key=key
            )
            # An import is never sent again after the server may have stored it.
            import_sends = [r for r in proxy.records if _is_import(r.request) and r.fault.kind != "fail_before"]
            stored_batches = [r.request.key for r in import_sends]
            assert len(stored_batches) == len(set(stored_batches)), "an import reached the server twice"
            project = project_by_title(client, title_of(config))
            assert sorted(article_ids_of_tasks(client, project.id)) == [f"faulty-{n:04d}" for n in range(24)]
            expected = annotate_all(client, project.id)
            attempts += _until_success(
                proxy, "pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, key=key
            )
            injected = len(proxy.faults("fail_before", "fail_after", "delay", "drop_after", "truncate"))
            failures = len(proxy.faults("fail_before", "fail_after"))
        assert failures >= 3, "the seed injected too few failures to test anything"
        got = spans_by_id(read_jsonl(tmp_path / "annotations.jsonl"))
        assert got == expected
        tally.add("faults", injected)
        tally.add("spans_checked", sum(len(spans) for spans in expected.values()))
        tally.add("spans_lost", lost_spans(expected, got))
        assert attempts <= 8
    finally:
        delete_project(client, title_of(config))


def _until_success(proxy: FaultProxy, *args: str, cwd: Path, key: str, limit: int = 6) -> int:
    """Rerun a command until it succeeds; each failure must be clean; retries per run bounded."""
    for attempt in range(1, limit + 1):
        first = len(proxy.records)
        done = run(*args, cwd=cwd, url=proxy.url, key=key, expect=None)
        sends: dict[str, int] = {}
        for record in proxy.records[first:]:
            sends[record.request.key] = sends.get(record.request.key, 0) + 1
        # Retries are bounded: the SDK's (2 per read), push's checked re-sends and pull's
        # download attempts (4) keep any one request under 9 sends in a run.
        assert max(sends.values(), default=0) <= 8, sends
        if done.returncode == 0:
            return attempt
        assert done.returncode == 1
        assert "answered 500" in done.stderr or "cannot reach" in done.stderr, done.stderr
    pytest.fail(f"{args[0]} did not succeed in {limit} runs")


def test_500_after_project_creation_creates_one_project(server, client, tmp_path):
    """The server creates the project but the answer is a 500: a retry would create a second."""
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "predictions.jsonl", 3, prefix="create")
    created = []

    def plan(request):
        if (
            request.method == "POST"
            and request.path.split("?")[0].rstrip("/").endswith("/api/projects")
            and not created
        ):
            created.append(request)
            return Fault("fail_after")
        return PASS

    key = server.api_key.get_secret_value()
    try:
        with FaultProxy(server.url, plan) as proxy:
            # Either the push checks that the project landed and goes on, or it stops cleanly.
            first = run(
                "push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=proxy.url, key=key, expect=None
            )
            assert first.returncode in (0, 1)
            if first.returncode:
                assert "create the project" in first.stderr
            assert len([r for r in proxy.records if r.request.key == created[0].key]) == 1, (
                "project creation was re-sent"
            )
        done = run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=key)
        assert "3 new tasks" in done.stdout or "0 new tasks, 3 articles already" in done.stdout
        project = project_by_title(client, title_of(config))  # exactly one
        assert len(article_ids_of_tasks(client, project.id)) == 3
        tally.add("faults")
    finally:
        delete_project(client, title_of(config))


def test_one_500_on_the_export_download_is_retried_by_pull(server, client, tmp_path):
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "predictions.jsonl", 2, prefix="retry")
    key = server.api_key.get_secret_value()
    exports = []

    def plan(request):
        if _is_export(request):
            exports.append(request)
            if len(exports) == 1:
                return Fault("fail_before")
        return PASS

    try:
        run("push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=key)
        annotate_all(client, project_by_title(client, title_of(config)).id)
        with FaultProxy(server.url, plan) as proxy:
            run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, url=proxy.url, key=key)
        assert len(read_jsonl(tmp_path / "annotations.jsonl")) == 2
        assert len(exports) >= 2  # the failed download was sent again
        tally.add("faults")
    finally:
        delete_project(client, title_of(config))


# --- export killed with SIGKILL -------------------------------------------------------


def _annotations(path: Path, count: int, prefix: str) -> set[str]:
    import json

    from tests.reliability.data import article

    lines = []
    for number in range(count):
        record = article(number, prefix)
        record.pop("model")
        record |= {
            "task_id": number + 1,
            "chosen": [number + 1],
            "annotations": [{"id": number + 1, "annotator": "annotator-1", "spans": record["spans"]}],
        }
        lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    path.write_text("".join(lines), encoding="utf-8")
    return {f"{prefix}-{n:04d}" for n in range(count)}


def _latest(root: Path) -> Path:
    """The newest complete version of an export root (``LATEST`` names it)."""
    return root / (root / "LATEST").read_text().strip()


def _rows(root: Path) -> list[dict]:
    import datasets

    dataset = datasets.load_from_disk(str(_latest(root)))
    return [row for split in dataset.values() for row in split]


def _exported_ids(root: Path) -> set[str]:
    return {row["id"] for row in _rows(root)}


def _versions(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture(scope="module")
def killed_export(tmp_path_factory):
    """A first export, then a second one killed half-way at several points."""
    work = tmp_path_factory.mktemp("export-kill")
    config = write_config(work / "config.yaml")
    first_ids = _annotations(work / "first.jsonl", 40, "first")
    second_ids = _annotations(work / "second.jsonl", 4000, "second")
    out = work / "exports" / "news"
    run("export", "first.jsonl", "--config", str(config), "--out", str(out), cwd=work)
    assert _exported_ids(out) == first_ids
    first_version = _versions(out)
    kills = []
    for point in ("while building", "while saving"):
        process = subprocess.Popen(
            [sys.executable, "-m", "toolkit", "export", "second.jsonl", "--config", str(config), "--out", str(out)],
            cwd=work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while process.poll() is None and time.monotonic() < deadline:
            temps = [p for p in out.iterdir() if p.name.startswith(".") and p.is_dir()]
            files = [f for t in temps for f in t.rglob("*") if f.is_file()]
            if point == "while building" and temps:
                break
            if point == "while saving" and any(f.suffix == ".arrow" and "cache" not in f.parts for f in files):
                break
            time.sleep(0.02)
        assert process.poll() is None, f"export finished before it could be killed {point}"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        kills.append(point)
        # The previous version is intact after each kill, and still the latest.
        assert _exported_ids(out) == first_ids
        assert _versions(out) == first_version, "a half-written export looks like a version"
    return {
        "work": work,
        "config": config,
        "out": out,
        "first": first_ids,
        "second": second_ids,
        "kills": kills,
        "first_version": first_version,
    }


def test_export_killed_halfway_leaves_the_previous_version_intact(killed_export):
    out = killed_export["out"]
    assert killed_export["kills"] == ["while building", "while saving"]
    assert _exported_ids(out) == killed_export["first"]
    # Nothing half-written looks like a finished export: leftovers are hidden temp folders.
    for leftover in out.iterdir():
        if leftover.name not in {"LATEST", *killed_export["first_version"]}:
            assert leftover.name.startswith("."), f"{leftover} looks like a version"
    # A rerun completes, becomes the latest version and clears what the killed runs left.
    run(
        "export", "second.jsonl", "--config", str(killed_export["config"]), "--out", str(out), cwd=killed_export["work"]
    )
    assert _exported_ids(out) == killed_export["second"]
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")], "temp folders of killed runs are left"
    assert len(_versions(out)) == len(killed_export["first_version"]) + 1
    tally.add("faults", len(killed_export["kills"]))
