"""Fixtures of the reliability suite: real servers, a faulty proxy, real commands, totals.

Every fault goes through the real command line (``python -m toolkit ...`` in a
subprocess) against a real Label Studio server:

- ``server``/``client``: the test server of the integration tests (``make test`` starts it);
- ``spare``: a second real server on ``TOOLKIT_TEST_LABEL_STUDIO_SPARE_PORT`` (default
  8118), started once per session from a fresh data folder, whose API key is a
  recognisable canary; tests stop and restart it mid-command;
- ``FaultProxy`` (``proxy.py``): delays, 500s and dropped connections in front of either.

The suite prints one line of totals at the end (faults survived, bad inputs tried,
spans lost), from ``tally``.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from tests.conftest import LIGHT_MODEL
from tests.integration.conftest import client, server  # noqa: F401  (the test server fixtures)
from toolkit.labelstudio import localserver

ROOT = Path(__file__).resolve().parents[2]
# One spare server per pytest-xdist worker, each on its own port (gw0: the port set, gw1: the
# next...): the tests that use it are grouped on one worker, and should a test ever land on
# another, its server does not collide with the first.
SPARE_PORT = int(os.environ.get("TOOLKIT_TEST_LABEL_STUDIO_SPARE_PORT", "8118")) + int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0
)
# Recognisable in any output, and a valid legacy token (at most 40 characters).
CANARY = "CANARY" + secrets.token_hex(17)


@dataclass
class Spare:
    """A real Label Studio server the tests may stop and restart."""

    home: Path
    port: int

    @property
    def credentials(self) -> localserver.Credentials:
        credentials = localserver.read_credentials(self.home)
        assert credentials is not None
        return credentials

    @property
    def url(self) -> str:
        return f"http://{localserver.HOST}:{self.port}"

    @property
    def key(self) -> str:
        return self.credentials.api_key.get_secret_value()

    def start(self) -> None:
        localserver.up(home=self.home, port=self.port, timeout=600)

    def stop(self) -> None:
        localserver.down(home=self.home)

    def running(self) -> bool:
        return localserver.is_up(self.credentials)

    def client(self):
        from toolkit.labelstudio.client import ServerSettings, connect

        return connect(ServerSettings(url=self.url, api_key=SecretStr(self.key), origin="spare test server"))


class _SpareStarter:
    """Starts the spare server once, in the background, and hands it over when it is up."""

    def __init__(self, tmp_path_factory) -> None:
        self.tmp_path_factory = tmp_path_factory
        self.spare: Spare | None = None
        self.thread: threading.Thread | None = None
        self.failure: list[BaseException] = []

    def begin(self) -> None:
        if self.thread is not None:
            return
        home = self.tmp_path_factory.mktemp("spare-server")
        # The admin's token is the canary: credentials written before the first start are
        # the ones the server creates its user with.
        credentials = {
            "url": f"http://{localserver.HOST}:{SPARE_PORT}",
            "username": localserver.USERNAME,
            "password": secrets.token_urlsafe(18),
            "api_key": CANARY,
        }
        descriptor = os.open(home / "credentials.json", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(credentials, handle)
        self.spare = Spare(home=home, port=SPARE_PORT)

        def start() -> None:
            try:
                self.spare.start()
            except BaseException as error:  # noqa: BLE001 - handed to the tests that need the server
                self.failure.append(error)

        self.thread = threading.Thread(target=start, daemon=True)
        self.thread.start()

    def ready(self) -> Spare:
        self.begin()
        self.thread.join()
        if self.failure:
            raise self.failure[0]
        return self.spare

    def close(self) -> None:
        if self.thread is not None:
            self.thread.join()
            self.spare.stop()


@pytest.fixture(scope="session", autouse=True)
def _spare_starting(request, tmp_path_factory):
    """Start the spare server in the background as soon as the suite starts: its first
    start migrates a fresh database (tens of seconds), which overlaps the first tests.

    Under pytest-xdist every worker collects every test, but only the worker running the
    "spare" group (tests/conftest.py) runs those: there the server starts when a test
    first asks for it, so that one server, on one port, is ever started."""
    if os.environ.get("LABEL_STUDIO_URL"):
        yield None
        return
    starter = _SpareStarter(tmp_path_factory)
    wanted = any("spare" in getattr(item, "fixturenames", ()) for item in request.session.items)
    if wanted and not os.environ.get("PYTEST_XDIST_WORKER"):
        starter.begin()
    yield starter
    starter.close()


@pytest.fixture(scope="session")
def spare(_spare_starting) -> Spare:
    if _spare_starting is None:
        pytest.skip("the tests run against a server named by LABEL_STUDIO_URL; no local spare server to stop")
    return _spare_starting.ready()


def write_config(path: Path, *, title: str | None = None, **sections: dict) -> Path:
    """The bundled config with a unique project title, the light model, and some sections changed.

    The reliability suite is about faults, bad inputs and secrets, not about the model's
    predictions: its many commands load en_core_web_sm (the config's light choice, about 2 s
    less to load than the default en_core_web_md, per command). The default model is loaded
    by the unit tests of toolkit.nlp.models, the integration loop tests and `make run`."""
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = title or f"reliability {uuid.uuid4().hex[:10]}"
    data["spacy"]["model"] = LIGHT_MODEL
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    path.write_text(yaml.safe_dump(data))
    return path


def title_of(config: Path) -> str:
    return yaml.safe_load(config.read_text())["project"]["title"]


def run(
    *args: str,
    cwd: Path,
    url: str | None = None,
    key: str | None = None,
    expect: int | None = 0,
    timeout: float = 300,
    extra_env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the real command line as a user would; never a traceback, whatever the exit."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"TOOLKIT_DEBUG", "LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY"}
    }
    if url is not None:
        env["LABEL_STUDIO_URL"] = url
    if key is not None:
        env["LABEL_STUDIO_API_KEY"] = key
    env.update(extra_env or {})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    done.seconds = time.monotonic() - started  # type: ignore[attr-defined]
    output = f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    if expect is not None:
        assert done.returncode == expect, output
    if "--debug" not in args:
        assert "Traceback" not in done.stderr + done.stdout, output
    if done.returncode != 0 and "--debug" not in args:
        assert done.stderr.lstrip().startswith("Error: "), output
    return done


def project_by_title(client, title: str):
    matches = [project for project in client.projects.list(title=title) if project.title == title]
    assert len(matches) <= 1, f"{len(matches)} projects titled {title!r}"
    return matches[0] if matches else None


def delete_project(client, title: str) -> None:
    for project in client.projects.list(title=title):
        if project.title == title:
            client.projects.delete(id=project.id)


def article_ids_of_tasks(client, project_id: int) -> list[str]:
    tasks = client.tasks.list(project=project_id, fields="task_only", include="id,data", page_size=1000)
    return [str(task.data["article_id"]) for task in tasks]
