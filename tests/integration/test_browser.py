"""A real browser shows a pushed task with its pre-annotated spans and their labels.

Headless Chromium (the system's, e.g. Debian's ``chromium``; Playwright drives it and
downloads nothing) logs in to the local test server, opens a pushed task in the
labeling view and finds each predicted span highlighted with its label. A
screenshot is saved to ``build/artifacts/browser/`` (git-ignored; override with
TOOLKIT_ARTIFACTS_DIR). ``.ci/run`` installs Chromium when it is missing.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import SERVER_HOME
from toolkit.config import parse_config
from toolkit.labelstudio import localserver
from toolkit.push import push
from toolkit.records import ModelInfo, PredictedArticle, Span

pytestmark = [pytest.mark.integration, pytest.mark.browser]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("TOOLKIT_ARTIFACTS_DIR", ROOT / "build" / "artifacts")) / "browser"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str | None:
    for name in (os.environ.get("TOOLKIT_CHROMIUM", ""), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


def log_in_page(page, url: str, email: str, password: str) -> None:
    """Log in through Label Studio's login form, as a person would."""
    page.goto(f"{url}/user/login/")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "/user/login" not in page.url, f"login as {email} failed"


def open_task(page, credentials, project_id: int, task_id: int, *, timeout: int = 120_000) -> None:
    """Log in as the server's user and open a task in the labeling view, its regions drawn."""
    log_in_page(page, credentials.url, credentials.username, credentials.password.get_secret_value())
    page.goto(f"{credentials.url}/projects/{project_id}/data?task={task_id}")
    page.wait_for_selector(".htx-highlight", timeout=timeout)


@pytest.fixture
def browser_project(server, client):
    """A project with one pushed article whose predicted spans are known."""
    credentials = localserver.read_credentials(SERVER_HOME)
    if credentials is None or credentials.url != server.url:
        pytest.skip("the browser check logs in to the local test server; LABEL_STUDIO_URL names another one")
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = f"toolkit browser test {uuid.uuid4().hex[:10]}"
    config = parse_config(data)
    text = "Angela Merkel met Kofi Annan in Geneva.\n\nThe United Nations said talks went well."
    spans = [
        Span(start=text.index(needle), end=text.index(needle) + len(needle), label=label)
        for needle, label in (
            ("Angela Merkel", "PERSON"),
            ("Kofi Annan", "PERSON"),
            ("Geneva", "GPE"),
            ("The United Nations", "ORG"),
        )
    ]
    article = PredictedArticle(
        id="browser-1",
        text=text,
        title="Leaders meet in Geneva",
        date="2025-04-01",
        model=ModelInfo(name="browser-model", version="1.0"),
        spans=spans,
    )
    result = push([article], config=config, settings=server)
    (task,) = list(client.tasks.list(project=result.project_id, fields="task_only"))
    yield credentials, result.project_id, task.id, article
    client.projects.delete(id=result.project_id)


def test_a_pushed_task_shows_its_pre_annotated_spans_with_labels_in_chromium(browser_project):
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is in the test extra: pip install -e '.[test]'"
    )
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (apt-get install chromium; .ci/run does it)")
    credentials, project_id, task_id, article = browser_project
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    screenshot = ARTIFACTS / "pushed-task.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            open_task(page, credentials, project_id, task_id)
            page.wait_for_function(
                f"document.querySelectorAll('.htx-highlight').length >= {len(article.spans)}", timeout=30_000
            )
            page.screenshot(path=str(screenshot))
            shown = page.evaluate(
                "() => Array.from(document.querySelectorAll('.htx-highlight'))"
                ".map(e => [e.innerText, (e.getAttribute('data-label') || '').replace(/^\\d+:/, '')])"
            )
            body = page.inner_text("body")
        finally:
            browser.close()

    expected = sorted((article.text[s.start : s.end], s.label) for s in article.spans)
    assert sorted(tuple(item) for item in shown) == expected
    assert article.title in body and article.date in body  # the headline and date above the text
    for label in ("PERSON", "GPE", "ORG"):
        assert label in body  # the label buttons and the regions list
    assert screenshot.stat().st_size > 10_000
