"""Push under concurrency, with a human's edits in the project, and on odd inputs.

Real commands against the real test server. Concurrency is made certain, not hoped
for, with the fault proxy: it holds back the creating or importing requests of every
push for a few seconds, so all of them read the project before any of them writes.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from tests.reliability import tally
from tests.reliability.conftest import (
    article_ids_of_tasks,
    delete_project,
    project_by_title,
    run,
    title_of,
    write_config,
)
from tests.reliability.data import write_predictions
from tests.reliability.proxy import PASS, Fault, FaultProxy

pytestmark = pytest.mark.integration


def _path(request) -> str:
    return request.path.split("?")[0].rstrip("/")


def _count(pattern: str, text: str) -> int:
    found = re.search(pattern, text)
    return int(found.group(1).replace(",", "")) if found else 0


def _concurrently(count: int, *args: str, cwd: Path, url: str, key: str) -> list[subprocess.CompletedProcess[str]]:
    with ThreadPoolExecutor(count) as pool:
        runs = [pool.submit(run, *args, cwd=cwd, url=url, key=key, expect=None) for _ in range(count)]
        return [done.result() for done in runs]


def _all_titled(client, title: str) -> list:
    return [project for project in client.projects.list(title=title) if project.title == title]


def _prediction_sets(client, project_id: int) -> dict[int, int]:
    sets: dict[int, int] = {}
    tasks = client.tasks.list(project=project_id, fields="task_only", include="id,total_predictions", page_size=1000)
    for task in tasks:
        sets[task.id] = task.total_predictions
    return sets


# --- concurrency ---------------------------------------------------------------------


def test_two_concurrent_pushes_to_a_new_project_create_one_project(server, client, tmp_path):
    """Both pushes find no project and create one; one project must remain, and later
    pushes and pulls must work."""
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "predictions.jsonl", 12, prefix="race-new")
    push = ("push", "predictions.jsonl", "--config", str(config))

    def hold_creation(request):
        if request.method == "POST" and _path(request).endswith("/api/projects"):
            return Fault("delay", delay=4.0)
        return PASS

    key = server.api_key.get_secret_value()
    try:
        with FaultProxy(server.url, hold_creation) as proxy:
            runs = _concurrently(2, *push, cwd=tmp_path, url=proxy.url, key=key)
            creations = [r for r in proxy.records if hold_creation(r.request).kind == "delay"]
        assert len(creations) == 2, "the proxy did not make both pushes create the project"
        assert [done.returncode for done in runs] == [0, 0], [done.stdout + done.stderr for done in runs]
        projects = _all_titled(client, title_of(config))
        assert len(projects) == 1, f"{len(projects)} projects titled {title_of(config)!r}"
        # The loser's project is renamed, empty, and named in its output. (The title filter is a
        # substring match: a project another test left with this title in its own is not this one.)
        copy = f"[empty copy of {projects[0].id}]"
        listed = list(client.projects.list(title=title_of(config)))
        spares = [p for p in listed if copy in p.title]
        seen = [(p.id, p.title, p.task_number) for p in listed]
        assert len(spares) == 1, (seen, [done.stdout + done.stderr for done in runs], len(proxy.records))
        (spare,) = spares
        assert spare.task_number == 0 and spare.title != title_of(config)
        assert sum(f"own project {spare.id} is empty" in done.stdout for done in runs) == 1, [d.stdout for d in runs]
        assert sorted(article_ids_of_tasks(client, projects[0].id)) == [f"race-new-{n:04d}" for n in range(12)]
        assert set(_prediction_sets(client, projects[0].id).values()) == {1}
        # The counts are this push's: together the two pushes added each article once.
        assert sum(_count(r"([\d,]+) new tasks?", done.stdout) for done in runs) == 12, [d.stdout for d in runs]
        again = run(*push, cwd=tmp_path, url=server.url, key=key)
        assert "0 new tasks, 12 articles already in the project" in again.stdout
        run("pull", "--config", str(config), "--out", "annotations.jsonl", cwd=tmp_path, url=server.url, key=key)
        tally.add("faults")
    finally:
        for project in client.projects.list(title=title_of(config)):
            client.projects.delete(id=project.id)


def test_three_concurrent_pushes_into_an_existing_project_end_exact_with_true_counts(server, client, tmp_path):
    """All three read the project before any imports: each imports every new article,
    then they remove the copies, concurrently. No push fails, and what each says it did
    adds up to what happened."""
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "first.jsonl", 1, prefix="race-old")
    write_predictions(tmp_path / "predictions.jsonl", 30, prefix="race-old")
    key = server.api_key.get_secret_value()

    def hold_imports(request):
        if request.method == "POST" and _path(request).endswith("/import"):
            return Fault("delay", delay=4.0)
        return PASS

    try:
        run("push", "first.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=key)
        with FaultProxy(server.url, hold_imports) as proxy:
            runs = _concurrently(
                3, "push", "predictions.jsonl", "--config", str(config), cwd=tmp_path, url=proxy.url, key=key
            )
            imported = sum(
                len(json.loads(r.request.body))
                for r in proxy.records
                if r.request.method == "POST" and _path(r.request).endswith("/import") and r.status == 201
            )
        assert [done.returncode for done in runs] == [0, 0, 0], [done.stdout + done.stderr for done in runs]
        assert imported > 29, "the proxy did not make the pushes import the same articles"
        project = project_by_title(client, title_of(config))
        assert sorted(article_ids_of_tasks(client, project.id)) == [f"race-old-{n:04d}" for n in range(30)]
        assert set(_prediction_sets(client, project.id).values()) == {1}
        outputs = [done.stdout for done in runs]
        assert sum(_count(r"([\d,]+) new tasks?", out) for out in outputs) == 29, outputs
        # Each copy is reported once, by the push that imported it.
        own_copies = sum(_count(r"([\d,]+) tasks? this push imported duplicated", out) for out in outputs)
        assert own_copies == imported - 29, outputs
        assert not any("interrupted push" in out and "concurrent" not in out for out in outputs), outputs
        tally.add("faults")
    finally:
        delete_project(client, title_of(config))


# --- the server URL is shown without credentials ----------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SECRET_USER, SECRET_PASSWORD, SECRET_QUERY = "urluser9f3", "URLPASSWORD7c1e", "URLQUERYTOKEN5d2a"


@pytest.mark.parametrize("command", ["push", "push --dry-run", "pull"])
@pytest.mark.parametrize("where", ["test server", "nothing listening"])
def test_a_url_with_credentials_is_shown_without_them(server, client, tmp_path, command, where):
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "predictions.jsonl", 2, prefix="url")
    host = server.url.split("://", 1)[1] if where == "test server" else f"127.0.0.1:{_free_port()}"
    url = f"http://{SECRET_USER}:{SECRET_PASSWORD}@{host}/?token={SECRET_QUERY}"
    args = command.split() + (["predictions.jsonl"] if command.startswith("push") else ["--out", "out.jsonl"])
    try:
        key = server.api_key.get_secret_value()
        done = run(*args, "--config", str(config), cwd=tmp_path, url=url, key=key, expect=None)
        output = done.stdout + done.stderr
        for secret in (SECRET_USER, SECRET_PASSWORD, SECRET_QUERY):
            assert secret not in output, output
        assert f"http://{host}" in output, output
        tally.add("secret_checks")
    finally:
        delete_project(client, title_of(config))


# --- a human's edits in the project ------------------------------------------------------


TOPIC = '<Choices name="topic" toName="text"><Choice value="sports"/><Choice value="politics"/></Choices>'


def test_push_does_not_drop_a_control_a_human_added_unless_told(server, client, tmp_path):
    """Someone added a Choices control in Label Studio. Push leaves it while the labels
    fit, refuses to drop it to add a label, and replaces the config only when told."""
    config = write_config(tmp_path / "config.yaml")
    more = yaml.safe_load(config.read_text())
    more["labels"] = [*more["labels"], "PRODUCT"]
    (tmp_path / "more.yaml").write_text(yaml.safe_dump(more))
    write_predictions(tmp_path / "predictions.jsonl", 2, prefix="edit")
    key = server.api_key.get_secret_value()
    push = ("push", "predictions.jsonl", "--config")
    try:
        run(*push, str(config), cwd=tmp_path, url=server.url, key=key)
        project = project_by_title(client, title_of(config))
        edited = project.label_config.replace("</View>", f"  {TOPIC}\n</View>")
        client.projects.update(id=project.id, label_config=edited)

        dry = run(*push, str(config), "--dry-run", cwd=tmp_path, url=server.url, key=key)
        assert "Choices 'topic'" in dry.stdout and "left as it is" in dry.stdout, dry.stdout
        assert "push.replace_labeling_config" in dry.stdout, dry.stdout
        kept = run(*push, str(config), cwd=tmp_path, url=server.url, key=key)
        assert "Choices 'topic'" in kept.stdout and "left as it is" in kept.stdout, kept.stdout
        assert 'name="topic"' in client.projects.get(id=project.id).label_config

        dry = run(*push, "more.yaml", "--dry-run", cwd=tmp_path, url=server.url, key=key)
        assert "adds PRODUCT" in dry.stdout and "would remove Choices 'topic'" in dry.stdout, dry.stdout
        refused = run(*push, "more.yaml", cwd=tmp_path, url=server.url, key=key, expect=1)
        assert "Choices 'topic'" in refused.stderr and "push.replace_labeling_config" in refused.stderr, refused.stderr
        assert "--replace-labeling-config" in refused.stderr, refused.stderr
        assert 'name="topic"' in client.projects.get(id=project.id).label_config

        replaced = run(*push, "more.yaml", "--replace-labeling-config", cwd=tmp_path, url=server.url, key=key)
        assert "added PRODUCT" in replaced.stdout and "removed Choices 'topic'" in replaced.stdout, replaced.stdout
        label_config = client.projects.get(id=project.id).label_config
        assert 'name="topic"' not in label_config and 'value="PRODUCT"' in label_config
        tally.add("bad_inputs", 2)
        tally.add("bad_input_errors")
        tally.add("bad_input_read")
    finally:
        delete_project(client, title_of(config))


def test_a_task_whose_text_was_edited_does_not_block_the_other_articles(server, client, tmp_path):
    config = write_config(tmp_path / "config.yaml")
    write_predictions(tmp_path / "first.jsonl", 3, prefix="textedit")
    write_predictions(tmp_path / "predictions.jsonl", 5, prefix="textedit")
    key = server.api_key.get_secret_value()
    try:
        run("push", "first.jsonl", "--config", str(config), cwd=tmp_path, url=server.url, key=key)
        project = project_by_title(client, title_of(config))
        tasks = client.tasks.list(project=project.id, fields="all")
        (task,) = [t for t in tasks if t.data["article_id"] == "textedit-0001"]
        client.tasks.update(id=task.id, data={**task.data, "text": task.data["text"] + " Edited by a human."})

        push = ("push", "predictions.jsonl", "--config", str(config))
        dry = run(*push, "--dry-run", cwd=tmp_path, url=server.url, key=key)
        assert "new tasks:           2" in dry.stdout and "textedit-0001" in dry.stdout, dry.stdout
        done = run(*push, cwd=tmp_path, url=server.url, key=key)
        assert "2 new tasks" in done.stdout, done.stdout
        assert "1 article skipped" in done.stdout and "'textedit-0001'" in done.stdout, done.stdout
        assert sorted(article_ids_of_tasks(client, project.id)) == [f"textedit-{n:04d}" for n in range(5)]
        assert client.tasks.get(id=task.id).data["text"].endswith("Edited by a human.")
        tally.add("bad_inputs")
        tally.add("bad_input_skips")
    finally:
        delete_project(client, title_of(config))


# --- odd inputs ----------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n\n"], ids=["empty", "blank lines"])
@pytest.mark.parametrize("dry_run", [False, True], ids=["push", "dry-run"])
def test_a_push_of_no_articles_creates_no_project(server, client, tmp_path, content, dry_run):
    config = write_config(tmp_path / "config.yaml")
    (tmp_path / "predictions.jsonl").write_bytes(content)
    try:
        done = run(
            "push",
            "predictions.jsonl",
            "--config",
            str(config),
            *(["--dry-run"] if dry_run else []),
            cwd=tmp_path,
            url=server.url,
            key=server.api_key.get_secret_value(),
            expect=1,
        )
        assert "predictions.jsonl: no articles" in done.stderr, done.stderr
        assert _all_titled(client, title_of(config)) == []
        tally.add("bad_inputs")
        tally.add("bad_input_errors")
    finally:
        delete_project(client, title_of(config))


def test_dry_run_on_many_small_articles_does_not_hold_every_encoded_task(server, tmp_path):
    """The payloads are encoded batch by batch: peak memory grows with the articles, not
    with the articles plus all their JSON at once.

    Measured as growth, between 20,000 and 80,000 articles, over the growth of a process
    that only reads and groups them: a process's floor (libraries, thread buffers) differs
    between environments by hundreds of MB, its growth per article does not. Near-duplicate
    grouping is off on both sides: its memory is a question of its own (and most of this
    test's time when on)."""
    config = write_config(tmp_path / "config.yaml", push={"near_duplicates": None})
    for count in (20_000, 80_000):
        with (tmp_path / f"predictions-{count}.jsonl").open("w") as handle:
            for n in range(count):
                record = {
                    "id": f"tiny-{n:06d}",
                    "text": f"Anna met Bob {n}.",
                    "model": {"name": "en_core_web_sm", "version": "3.8.0"},
                    "spans": [{"start": 0, "end": 4, "label": "PERSON", "text": "Anna"}],
                }
                handle.write(json.dumps(record) + "\n")

    def peak_mb(*args: str) -> float:
        env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key.get_secret_value()}
        process = subprocess.Popen(
            [sys.executable, "-m", "toolkit", *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        assert process.returncode == 0, process.stderr.read()
        return usage.ru_maxrss / 1024

    def reading_mb(name: str) -> float:
        # The floor: the same modules loaded (the SDK alone is ~140 MB), the articles read and
        # grouped, nothing encoded.
        reading = subprocess.run(
            [
                sys.executable,
                "-c",
                "import resource\nfrom pathlib import Path\nfrom label_studio_sdk import LabelStudio\n"
                "import toolkit.cli\nfrom toolkit.io.jsonl import read_records\n"
                "from toolkit.records import PredictedArticle\n"
                "from toolkit.push.plan import check_articles\n"
                f"articles = list(read_records(Path({name!r}), PredictedArticle))\n"
                "groups, _ = check_articles(articles)\n"
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=True,
        )
        return float(reading.stdout)

    dry, floor = {}, {}
    for count in (20_000, 80_000):
        name = f"predictions-{count}.jsonl"
        floor[count] = reading_mb(name)
        dry[count] = peak_mb("push", name, "--config", str(config), "--dry-run")
    # Every encoded task held at once costs ~0.4 KB per article here (~24 MB more for the
    # 60,000 more articles); batch by batch it is a few MB.
    growth = (dry[80_000] - dry[20_000]) - (floor[80_000] - floor[20_000])
    assert growth < 12, (dry, floor)
