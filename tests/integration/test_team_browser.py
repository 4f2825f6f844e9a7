"""What a second annotator sees of a task another annotator already submitted (``project.overlap``).

Two accounts from ``annotators add`` (named by their anonymous ids); the first annotator
submits an answer to the one task of a project with overlap ``{annotators: 2}``; headless
Chromium logs in as the second. In "Label All Tasks" the second is served that task with
the model's suggestions only: the first one's answer is not shown. Opened from the data
manager's table, the same task shows the first annotator's answer in a tab named by their
anonymous id (with an Update button), not by their email: what docs/team.md describes.
Screenshots: ``build/artifacts/browser/team-stream.png`` and ``team-table.png``.

About 30 s: a push, two passwords set by the server's own command (Label Studio's Django
loads each time, ~4 s), and Chromium loading the labeling view twice.
"""

from __future__ import annotations

import uuid

import pytest
import yaml

from tests.integration.conftest import SERVER_HOME
from tests.integration.test_browser import ARTIFACTS, CHROMIUM_ARGS, ROOT, chromium_path, log_in_page
from tests.integration.test_team_real import log_in, token_client
from toolkit.config import parse_config
from toolkit.labelstudio import localserver
from toolkit.push import push
from toolkit.records import ModelInfo, PredictedArticle, Span
from toolkit.team import add_annotators

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TEXT = "Angela Merkel met Kofi Annan in Geneva.\n\nThe United Nations said talks went well."
HIGHLIGHTS = (
    "() => Array.from(document.querySelectorAll('.htx-highlight'))"
    ".map(e => [e.innerText, (e.getAttribute('data-label') || '').replace(/^\\d+:/, '')])"
)


def span(needle: str, label: str) -> dict:
    start = TEXT.index(needle)
    value = {"start": start, "end": start + len(needle), "text": needle, "labels": [label]}
    return {"from_name": "label", "to_name": "text", "type": "labels", "value": value}


@pytest.fixture
def submitted_once(server, client, tmp_path):
    """A project with overlap 2 whose one task the first annotator submitted; the second's login."""
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("the browser check logs in to the local test server; LABEL_STUDIO_URL names another one")
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = f"toolkit team browser {uuid.uuid4().hex[:8]}"
    data["project"]["overlap"] = {"annotators": 2, "share": 1.0}
    data["pull"] = {"secret_file": str(tmp_path / "annotator-secret")}
    config = parse_config(data)
    spans = [
        Span(start=TEXT.index(needle), end=TEXT.index(needle) + len(needle), label=label)
        for needle, label in (("Angela Merkel", "PERSON"), ("Geneva", "GPE"))
    ]
    article = PredictedArticle(id="team-1", text=TEXT, model=ModelInfo(name="team-model", version="1"), spans=spans)
    pushed = push([article], config=config, settings=server)
    emails = [f"browser-{n}-{uuid.uuid4().hex[:8]}@example.com" for n in (1, 2)]
    first, second = add_annotators(emails, config=config, settings=server, home=SERVER_HOME).accounts
    api = token_client(server.url, log_in(server.url, first.email, first.password.get_secret_value()))
    task = api.get(f"/api/projects/{pushed.project_id}/next/").json()
    api.post(
        f"/api/tasks/{task['id']}/annotations/", json={"result": [span("Kofi Annan", "PERSON")]}
    ).raise_for_status()
    api.close()
    yield server.url, pushed.project_id, task["id"], first, second
    client.projects.delete(id=pushed.project_id)


def test_the_second_annotator_starts_from_the_model_in_the_stream_and_sees_the_first_by_id_in_the_table(
    submitted_once,
):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium; .ci/run does it)")
    url, project_id, task_id, first, second = submitted_once
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            log_in_page(page, url, second.email, second.password.get_secret_value())
            page.goto(f"{url}/projects/{project_id}/data")
            page.get_by_text("Label All Tasks").first.click()
            page.wait_for_selector(".htx-highlight", timeout=120_000)
            page.wait_for_timeout(1500)
            page.keyboard.press("Escape")  # the instructions shown on entering the stream
            page.wait_for_timeout(500)
            page.screenshot(path=str(ARTIFACTS / "team-stream.png"))
            stream = page.evaluate(HIGHLIGHTS)
            stream_html = page.content()
            page.goto(f"{url}/projects/{project_id}/data?task={task_id}")
            page.wait_for_selector(".htx-highlight", timeout=120_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(ARTIFACTS / "team-table.png"))
            table = page.evaluate(HIGHLIGHTS)
            table_body, table_html = page.inner_text("body"), page.content()
        finally:
            browser.close()
    # The stream: the model's suggestions, a fresh answer; nothing of the first annotator's.
    assert sorted(map(tuple, stream)) == [("Angela Merkel", "PERSON"), ("Geneva", "GPE")]
    assert f"#{task_id}" in stream_html or str(task_id) in stream_html
    # The table: the first annotator's answer, in a tab named by their anonymous id (shortened), never their email.
    assert sorted(map(tuple, table)) == [("Kofi Annan", "PERSON")]
    assert first.annotator[:8] in table_body and "Update" in table_body
    assert first.email not in table_html
