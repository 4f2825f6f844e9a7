"""A real Label Studio server for the integration tests.

``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY``, when both are set, name the server.
Otherwise the test server in ``TOOLKIT_TEST_LABEL_STUDIO_HOME`` (``make test`` starts
it) is used, and started here when it is not running (and then stopped at the end).
"""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def server() -> ServerSettings:
    url, key = os.environ.get("LABEL_STUDIO_URL"), os.environ.get("LABEL_STUDIO_API_KEY")
    if url and key:
        from pydantic import SecretStr

        yield ServerSettings(url=url.rstrip("/"), api_key=SecretStr(key), origin="environment")
        return
    credentials = localserver.read_credentials(TEST_HOME)
    started = credentials is None or not localserver.is_up(credentials)
    if started:
        credentials = localserver.up(home=TEST_HOME, port=TEST_PORT)
    yield ServerSettings(url=credentials.url, api_key=credentials.api_key, origin="test server")
    if started:
        localserver.down(home=TEST_HOME)


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
