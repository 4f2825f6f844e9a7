"""A real browser shows a review task: the box of disputed and agreed spans, the starting answer highlighted.

Two annotators disagree on one article (a boundary and a missing span); ``adjudicate``
makes its review task. Headless Chromium logs in to the local test server, opens the
review task and finds the agreed span pre-filled and the box naming both annotators'
anonymous ids. The screenshot (``build/artifacts/browser/review-task.png``) is the one
in docs/adjudicate.md.
"""

from __future__ import annotations

import uuid

import pytest
import yaml

from tests.integration.conftest import SERVER_HOME
from tests.integration.test_browser import ARTIFACTS, CHROMIUM_ARGS, ROOT, chromium_path, open_task
from tests.integration.test_pull_real import span
from toolkit.adjudicate import adjudicate
from toolkit.config import parse_config
from toolkit.labelstudio import localserver
from toolkit.labelstudio.review import review_title
from toolkit.push import push
from toolkit.records import ModelInfo, PredictedArticle

pytestmark = [pytest.mark.integration, pytest.mark.browser]

TEXT = "Angela Merkel met Kofi Annan in Geneva.\n\nThe United Nations said talks went well."


@pytest.fixture
def review_task(server, client, monkeypatch):
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("the browser check logs in to the local test server; LABEL_STUDIO_URL names another one")
    monkeypatch.setenv("TOOLKIT_ANNOTATOR_SECRET", "browser-check")
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = f"toolkit review browser {uuid.uuid4().hex[:8]}"
    config = parse_config(data)
    article = PredictedArticle(
        id="review-1",
        text=TEXT,
        title="Leaders meet in Geneva",
        date="2025-04-01",
        model=ModelInfo(name="browser-model", version="1.0"),
        spans=[],
    )
    pushed = push([article], config=config, settings=server)
    (task,) = list(client.tasks.list(project=pushed.project_id, fields="task_only"))
    second = client.users.create(username=f"second-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
    first_answer = [
        span(TEXT, "Angela Merkel", "PERSON"),
        span(TEXT, "Kofi Annan", "PERSON"),
        span(TEXT, "Geneva", "GPE"),
    ]
    second_answer = [
        span(TEXT, "Angela Merkel", "PERSON"),
        span(TEXT, "Kofi", "PERSON"),
        span(TEXT, "Geneva", "GPE"),
        span(TEXT, "The United Nations", "ORG"),
    ]
    client.annotations.create(id=task.id, result=first_answer, was_cancelled=False)
    client.annotations.create(id=task.id, result=second_answer, was_cancelled=False, completed_by=second.id)
    result = adjudicate(config=config, settings=server)
    assert result.sent == 1
    (review,) = list(client.tasks.list(project=result.review_project_id, fields="task_only"))
    yield credentials, result.review_project_id, review.id
    for project in client.projects.list(title=review_title(config)):
        if project.title == review_title(config):
            client.projects.delete(id=project.id)
    client.projects.delete(id=pushed.project_id)


def test_a_review_task_shows_the_disputes_and_starts_from_the_agreed_spans(review_task):
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is in the test extra")
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium; .ci/run does it)")
    credentials, project_id, task_id = review_task
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "review-task.png"
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 950})
            open_task(page, credentials, project_id, task_id)
            page.wait_for_function("document.querySelectorAll('.htx-highlight').length >= 2", timeout=30_000)
            page.wait_for_timeout(1000)
            page.screenshot(path=str(screenshot))
            shown = page.evaluate(
                "() => Array.from(document.querySelectorAll('.htx-highlight'))"
                ".map(e => [e.innerText, (e.getAttribute('data-label') || '').replace(/^\\d+:/, '')])"
            )
            body = page.inner_text("body")
        finally:
            browser.close()
    # The starting answer: the spans both annotators have.
    assert sorted(tuple(item) for item in shown) == [("Angela Merkel", "PERSON"), ("Geneva", "GPE")]
    assert "Disagreements" in body and "Disputed (3)" in body and "Agreed (2)" in body
    assert body.count("ann-") >= 2
    assert screenshot.stat().st_size > 10_000
