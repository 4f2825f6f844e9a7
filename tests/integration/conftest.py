"""A real Label Studio server for the integration tests.

``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``, when both are set, name the server.
Otherwise the test server in ``TOOLKIT_TEST_LABEL_STUDIO_HOME`` (``make test`` starts
it) is used, and started here when it is not running (and then stopped at the end).

Under pytest-xdist (``make test``), the first worker uses that server and every other
worker a server of its own (``SERVER_HOME``, on port ``TEST_PORT + 100 + N``), started
from a copy of the test server's database: Label Studio 1.23.2 keeps its data in SQLite,
and under requests from several test processes at once it loses writes ("database is
locked"; a task's annotation counters left at 0), which one process's tests never cause.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

from toolkit.labelstudio import localserver
from toolkit.labelstudio.client import ServerSettings, connect

ROOT = Path(__file__).resolve().parents[2]
TEST_HOME = Path(os.environ.get("TOOLKIT_TEST_LABEL_STUDIO_HOME", ROOT / ".labelstudio" / "test-server"))
TEST_PORT = int(os.environ.get("TOOLKIT_TEST_LABEL_STUDIO_PORT", "8081"))
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
OWN_SERVER = WORKER not in ("", "gw0")
# The data folder of the server this process's tests use.
SERVER_HOME = TEST_HOME.with_name(f"{TEST_HOME.name}-{WORKER}") if OWN_SERVER else TEST_HOME


def _copy_test_server(home: Path) -> None:
    """A fresh data folder at ``home`` holding a copy of the test server's database (its admin
    and API key included), so that the server started there needs no migrations."""
    localserver.down(home=home)
    shutil.rmtree(home, ignore_errors=True)
    (home / "data").mkdir(parents=True)
    shutil.copy2(TEST_HOME / "credentials.json", home / "credentials.json")
    source = sqlite3.connect(TEST_HOME / "data" / "label_studio.sqlite3")
    target = sqlite3.connect(home / "data" / "label_studio.sqlite3")
    with target:
        source.backup(target)  # consistent while the test server runs
    source.close()
    target.close()


@pytest.fixture(scope="session")
def server() -> ServerSettings:
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if url and key:
        from pydantic import SecretStr

        yield ServerSettings(url=url.rstrip("/"), api_key=SecretStr(key), origin="environment")
        return
    credentials = localserver.read_credentials(TEST_HOME)
    started = credentials is None or not localserver.is_up(credentials)
    if started and not OWN_SERVER:
        credentials = localserver.up(home=TEST_HOME, port=TEST_PORT)
    if OWN_SERVER:
        if started:
            pytest.fail(f"the test server in {TEST_HOME} is not running (`make test` starts it)")
        _copy_test_server(SERVER_HOME)
        credentials = localserver.up(home=SERVER_HOME, port=TEST_PORT + 100 + int(WORKER.removeprefix("gw")))
        started = True
    yield ServerSettings(url=credentials.url, api_key=credentials.api_key, origin="test server")
    if started:
        localserver.down(home=SERVER_HOME)


@pytest.fixture(scope="session")
def client(server):
    return connect(server)


@pytest.fixture
def project_config(tmp_path, client):
    """The bundled config with a unique project title; the project is deleted afterwards."""
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = f"toolkit test {uuid.uuid4().hex[:10]}"
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    yield path
    for project in client.projects.list(title=data["project"]["title"]):
        if project.title == data["project"]["title"]:
            client.projects.delete(id=project.id)


@pytest.fixture
def run_toolkit(server, tmp_path):
    """Run the real ``toolkit`` command line in a subprocess, as a user would."""
    env = {**os.environ, "LABEL_STUDIO_URL": server.url, "LABEL_STUDIO_API_KEY": server.api_key.get_secret_value()}
    env.pop("TOOLKIT_DEBUG", None)

    def run(*args: str, expect: int = 0) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [sys.executable, "-m", "toolkit", *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
        )
        assert done.returncode == expect, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
        assert server.api_key.get_secret_value() not in done.stdout + done.stderr
        return done

    return run
