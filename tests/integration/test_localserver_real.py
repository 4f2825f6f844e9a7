"""The local server the tests run on: bound to loopback only, secrets kept private."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest

from toolkit.labelstudio import localserver

from .conftest import SERVER_HOME

pytestmark = pytest.mark.integration


def test_server_listens_on_loopback_only_and_credentials_are_private(server):
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("the tests run against a server named by LABEL_STUDIO_URL, not the local one")
    assert localserver.listening_addresses(credentials.port) == {"127.0.0.1"}
    assert stat.S_IMODE((SERVER_HOME / "credentials.json").stat().st_mode) == 0o600
    log = (SERVER_HOME / "server.log").read_text(errors="replace")
    assert credentials.api_key.get_secret_value() not in log
    assert credentials.password.get_secret_value() not in log


def test_status_command_reports_the_server_without_secrets(server):
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("the tests run against a server named by LABEL_STUDIO_URL, not the local one")
    done = subprocess.run(
        [sys.executable, "-m", "toolkit", "labelstudio", "status", "--home", str(SERVER_HOME)],
        capture_output=True,
        text=True,
        env={**os.environ},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"is running at {credentials.url}" in done.stdout
    assert f"log in at {credentials.url}/user/login/" in done.stdout
    assert credentials.api_key.get_secret_value() not in done.stdout + done.stderr
    assert credentials.password.get_secret_value() not in done.stdout + done.stderr


def test_the_server_counts_an_annotation_as_it_is_created(client, project_config):
    """Push and the stream read a task's annotation counters. Under Django 5.2.20, Label Studio
    1.23.2 left them at 0 after an annotation was created (the install pins Django for that)."""
    import yaml

    title = yaml.safe_load(project_config.read_text())["project"]["title"]
    labels = (
        '<View><Text name="text" value="$text"/><Labels name="label" toName="text"><Label value="PER"/></Labels></View>'
    )
    project = client.projects.create(title=title, label_config=labels)
    client.projects.import_tasks(id=project.id, request=[{"text": "Bob ran."}, {"text": "Al ran."}])
    first, second = sorted(task.id for task in client.tasks.list(project=project.id))
    result = [
        {"from_name": "label", "to_name": "text", "type": "labels", "value": {"start": 0, "end": 3, "labels": ["PER"]}}
    ]
    client.annotations.create(id=first, result=result, was_cancelled=False)
    counted = {task.id: task.total_annotations for task in client.tasks.list(project=project.id)}
    assert counted == {first: 1, second: 0}
