"""Annotators as a team, against the real server: ``toolkit annotators add`` makes accounts that
log in with the printed password and show only their anonymous ids as names; ``list`` pairs
emails with those ids; ``project.overlap`` makes the labeling stream serve an annotated task
to a second annotator (with the default, one annotation per task, it does not).

The accounts get passwords through the local test server's own ``label-studio reset_password``
(a few seconds each: it loads Label Studio's Django), so these tests need the test server's
home folder (``--home``); against another server (LABEL_STUDIO_URL) they are skipped.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import httpx
import pytest
import yaml
from pydantic import SecretStr

from tests.integration.conftest import SERVER_HOME
from toolkit.annotations.identities import AnnotatorIds
from toolkit.config import load_config
from toolkit.errors import AccountError
from toolkit.labelstudio import localserver
from toolkit.labelstudio.client import ServerSettings
from toolkit.team import add_annotators, list_annotators

pytestmark = pytest.mark.integration

MODEL = {"name": "spacy-team-test", "version": "1"}


@pytest.fixture
def local(server):
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("accounts get passwords on the toolkit's own server; LABEL_STUDIO_URL names another one")
    return SERVER_HOME.resolve()  # the toolkit runs in the test's own folder


def add(run_toolkit, config: Path, home: Path, *emails: str, options: tuple[str, ...] = ()) -> dict[str, tuple]:
    """``toolkit annotators add``: each email -> (anonymous id, password or None), as printed."""
    done = run_toolkit("annotators", "add", *emails, "--config", str(config), "--home", str(home), *options)
    said = " ".join(done.stdout.split())  # the console wraps long lines
    found = {}
    for email in emails:
        match = re.search(rf"{re.escape(email)}: (?:account created|has an account)[^:]*?as (ann-[0-9a-f]{{12}})", said)
        assert match, done.stdout
        password = re.search(rf"{re.escape(email)}: [^;]*; logs in with password (\S+)", said)
        found[email] = (match.group(1), password.group(1) if password else None)
    return found


def log_in(url: str, email: str, password: str) -> httpx.Client:
    """A browser-like session logged in through the login form (a 302 means the login took)."""
    session = httpx.Client(base_url=url, timeout=30)
    session.get("/user/login/")
    answer = session.post(
        "/user/login/",
        data={"email": email, "password": password, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        headers={"Referer": f"{url}/user/login/"},
    )
    assert answer.status_code == 302, f"login as {email} failed ({answer.status_code})"
    return session


def token_client(url: str, session: httpx.Client) -> httpx.Client:
    """The API as that user, with a token of their own (a personal access token, refreshed)."""
    made = session.post("/api/token/", headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": url})
    made.raise_for_status()
    refreshed = httpx.post(f"{url}/api/token/refresh/", json={"refresh": made.json()["token"]}, timeout=30)
    refreshed.raise_for_status()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {refreshed.json()['access']}"}, timeout=30)


def user_of(client, email: str):
    (user,) = [user for user in client.users.list() if user.email == email]
    return user


def test_annotators_add_creates_accounts_that_log_in_named_by_anonymous_ids(
    run_toolkit, server, client, project_config, local, tmp_path
):
    email = f"team-{uuid.uuid4().hex[:10]}@example.com"
    ((annotator, password),) = add(run_toolkit, project_config, local, email).values()
    assert password, "a new account on the toolkit's own server gets a password"
    log_in(server.url, email, password).close()
    user = user_of(client, email)
    # The id pull gives this person's annotations: the install's secret, under the run's folder.
    secret = (tmp_path / load_config(project_config).pull.secret_file).read_text().strip().encode()
    assert annotator == AnnotatorIds(secret)(user.id)
    assert (user.username, user.first_name, user.last_name) == (annotator, annotator, "")

    again = run_toolkit("annotators", "add", email, "--config", str(project_config), "--home", str(local))
    assert "has an account" in again.stdout and "password" in again.stdout and "logs in with" not in again.stdout
    assert len([user for user in client.users.list() if user.email == email]) == 1
    log_in(server.url, email, password).close()  # the password was left as it was

    listed = run_toolkit("annotators", "list", "--config", str(project_config), "--home", str(local))
    row = next(line for line in listed.stdout.splitlines() if email in line)
    assert annotator in row


def predicted(article_id: str, score: float) -> dict:
    text = f"Paris report {article_id}: the council met in Berlin on Monday."
    spans = [{"start": 0, "end": 5, "label": "GPE", "text": "Paris", "score": score}]
    return {"id": article_id, "text": text, "model": MODEL, "score": score, "spans": spans}


def test_overlap_from_the_config_serves_an_annotated_task_to_a_second_annotator(
    run_toolkit, server, client, project_config, local, tmp_path
):
    emails = [f"overlap-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in (1, 2)]
    accounts = add(run_toolkit, project_config, local, *emails)
    first, second = (token_client(server.url, log_in(server.url, e, accounts[e][1])) for e in emails)
    predictions = tmp_path / "predictions.jsonl"
    predictions.write_text("".join(json.dumps(predicted(f"a{n}", 0.1 * (n + 1))) + "\n" for n in range(4)))

    # The default (no project.overlap): one annotation per task, so nobody is served another's task.
    run_toolkit("push", str(predictions), "--config", str(project_config))
    title = load_config(project_config).project.title
    (project,) = [p for p in client.projects.list(title=title) if p.title == title]
    task = first.get(f"/api/projects/{project.id}/next/").json()
    first.post(f"/api/tasks/{task['id']}/annotations/", json={"result": [], "lead_time": 1.0}).raise_for_status()
    other = second.get(f"/api/projects/{project.id}/next/").json()
    assert other["id"] != task["id"]
    second.post(f"/api/tasks/{other['id']}/annotations/", json={"result": [], "lead_time": 1.0}).raise_for_status()

    data = yaml.safe_load(project_config.read_text())
    data["project"]["overlap"] = {"annotators": 2, "share": 1.0}
    overlapping = tmp_path / "overlap.yaml"
    overlapping.write_text(yaml.safe_dump(data))
    done = run_toolkit("push", str(predictions), "--config", str(overlapping))
    said = " ".join(done.stdout.split())
    assert "overlap: the stream serves every task to 2 annotators each (set now; was each task to 1 annotator)" in said
    project = client.projects.get(id=project.id)
    assert (project.maximum_annotations, project.overlap_cohort_percentage) == (2, 100)

    served = second.get(f"/api/projects/{project.id}/next/").json()
    assert served["id"] == task["id"], "the second annotator is served the task the first one annotated"
    # It comes with the model's suggestions, as the first annotator's did.
    assert [p["model_version"] for p in served["predictions"]] == ["spacy-team-test-1"]

    # What the toolkit cannot hide (docs/team.md): Community lists every member's email to every member.
    assert emails[0] in {user["email"] for user in second.get("/api/users/").json()}

    kept = run_toolkit("push", str(predictions), "--config", str(overlapping))
    assert "overlap: the stream serves every task to 2 annotators each (project.overlap)" in " ".join(
        kept.stdout.split()
    )
    for api in (first, second):
        api.close()


def test_only_the_organisations_owner_may_list_or_add_annotators(run_toolkit, server, project_config, local):
    email = f"member-{uuid.uuid4().hex[:10]}@example.com"
    ((_, password),) = add(run_toolkit, project_config, local, email).values()
    session = log_in(server.url, email, password)
    # A personal access token (the member's legacy token exists only once something asked for it).
    made = session.post("/api/token/", headers={"X-CSRFToken": session.cookies["csrftoken"], "Referer": server.url})
    made.raise_for_status()
    token = made.json()["token"]
    session.close()
    member = ServerSettings(url=server.url, api_key=SecretStr(token), origin="a member's key")
    config = load_config(project_config)
    with pytest.raises(AccountError, match="did not create its organisation: only the owner may list annotators"):
        list_annotators(config=config, settings=member)
    with pytest.raises(AccountError, match="only the owner may add annotators"):
        add_annotators([f"x-{email}"], config=config, settings=member, home=local)
