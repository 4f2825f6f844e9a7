"""A real browser shows a review task a reviewer can read (issue 30 item 3).

Two annotators label one news article: they agree on seven spans and disagree on three
(a "GB" one of them lacks while the other "GB" is agreed, a boundary, a label);
``adjudicate`` makes its review task. Headless Chromium logs in to the local test
server and opens the review task at 1280x800, as a reviewer's laptop shows it:

- from the table: the article's first words are on screen without scrolling, the
  starting answer (the agreed spans) is highlighted, and the list under the article
  holds exactly the three disputed spans, each naming who has it and who lacks it;
- from "Label All Tasks" (the labeling stream): each annotator's version can be opened
  (the folded "Each annotator's version") and no Skip is offered.

The screenshot (``build/artifacts/browser/review-task.png``) is the one in docs/adjudicate.md.
About 15 s (two page loads of the Label Studio frontend); about 35 s when the table view must be loaded again
(see ``open_review_task``).
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

# An invented article, long enough to fill the screen.
TEXT = (
    "Retail sales in GB rose by 2 percent in March, the Office for National Statistics said on Friday, "
    "a stronger rise than economists at Barclays had expected.\n\n"
    "Shops in Scotland and Wales reported flat sales, while London department stores had their best month "
    "since 2019. Kofi Annan, a spokesman for the British Retail Consortium, said warm weather and Easter "
    "spending had helped.\n\n"
    "The Bank of England meets in May. Its governor has said inflation in GB is still too high, and traders "
    "now expect rates to stay where they are until the summer. "
    + "Analysts said the figures would be revised next month as more returns arrive from smaller shops. "
    * 6
)
AGREED = [
    ("GB", "GPE", 0),
    ("Office for National Statistics", "ORG", 0),
    ("Barclays", "ORG", 0),
    ("Scotland", "GPE", 0),
    ("Wales", "GPE", 0),
    ("London", "GPE", 0),
    ("Bank of England", "ORG", 0),
]
FIRST_ONLY = [("Kofi Annan", "PERSON", 0), ("British Retail Consortium", "ORG", 0), ("GB", "GPE", 1)]
SECOND_ONLY = [("Kofi", "PERSON", 0), ("British Retail Consortium", "NORP", 0)]


def items(spans):
    return [span(TEXT, needle, label, occurrence=occurrence) for needle, label, occurrence in spans]


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
        title="Retail sales rise in March",
        date="2025-04-11",
        model=ModelInfo(name="browser-model", version="1.0"),
        spans=[],
    )
    pushed = push([article], config=config, settings=server)
    (task,) = list(client.tasks.list(project=pushed.project_id, fields="task_only"))
    second = client.users.create(username=f"second-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
    client.annotations.create(id=task.id, result=items(AGREED + FIRST_ONLY), was_cancelled=False)
    client.annotations.create(
        id=task.id, result=items(AGREED + SECOND_ONLY), was_cancelled=False, completed_by=second.id
    )
    result = adjudicate(config=config, settings=server)
    assert result.sent == 1
    (review,) = list(client.tasks.list(project=result.review_project_id, fields="task_only"))
    yield credentials, result.review_project_id, review.id
    for project in client.projects.list(title=review_title(config)):
        if project.title == review_title(config):
            client.projects.delete(id=project.id)
    client.projects.delete(id=pushed.project_id)


def open_review_task(page, credentials, project_id: int, task_id: int) -> None:
    """``open_task``, loaded again once when the starting answer is not drawn in 20 s.

    Seen on Label Studio 1.23.2 here, with this toolkit's code before and after issue 30
    (about 1 load in 3): the table's quick view fetches the task twice, both answers
    holding its prediction sets, and draws it with none (an empty annotation tab, no
    prediction tabs). A second load draws it; the reviewer's cure is the same (reload).
    """
    try:
        open_task(page, credentials, project_id, task_id, timeout=20_000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: load once more
        page.reload()
        page.wait_for_selector(".htx-highlight", timeout=60_000)


def test_a_review_task_shows_the_article_first_and_lists_only_the_disputed_spans(review_task):
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
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            open_review_task(page, credentials, project_id, task_id)
            page.wait_for_function(f"document.querySelectorAll('.htx-highlight').length >= {len(AGREED)}")
            page.wait_for_selector("ol.disputed li")
            page.wait_for_timeout(1000)
            page.screenshot(path=str(screenshot))
            shown = page.evaluate(
                "() => Array.from(document.querySelectorAll('.htx-highlight'))"
                ".map(e => [e.innerText, (e.getAttribute('data-label') || '').replace(/^\\d+:/, '')])"
            )
            first_words = page.evaluate(
                """() => {
                  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
                  while (walker.nextNode()) {
                    const node = walker.currentNode;
                    if (node.textContent.startsWith('Retail sales in')) {
                      const range = document.createRange();
                      range.selectNodeContents(node);
                      const box = range.getClientRects()[0];
                      return {top: box.top, bottom: box.bottom, left: box.left, right: box.right};
                    }
                  }
                  return null;
                }"""
            )
            listed = page.eval_on_selector_all("ol.disputed > li", "items => items.map(e => e.innerText)")
            body = page.inner_text("body")
            # The labeling stream: the versions fold out, and there is no Skip.
            page.goto(f"{credentials.url}/projects/{project_id}/data?labeling=1")
            page.wait_for_selector("ol.disputed li", timeout=60_000)
            instructions = page.locator(".lsf-modal-ls_visible")
            if instructions.count():  # the instructions open first in the stream (show_instruction)
                page.keyboard.press("Escape")
                instructions.wait_for(state="hidden")
            page.click('summary:has-text("Each annotator\'s version")')
            page.wait_for_timeout(300)
            page.screenshot(path=str(ARTIFACTS / "review-task-stream.png"))
            versions = page.eval_on_selector_all("details li", "items => items.map(e => e.innerText)")
            stream_buttons = page.eval_on_selector_all("button", "items => items.map(e => e.innerText.trim())")
        finally:
            browser.close()
    # The starting answer: the spans both annotators have.
    assert sorted(tuple(item) for item in shown) == sorted((needle, label) for needle, label, _ in AGREED)
    # The article's first words are on screen without scrolling.
    assert first_words is not None
    assert 0 <= first_words["top"] and first_words["bottom"] <= 800 and first_words["right"] <= 1280
    # The list holds exactly the disputed spans, in text order, each saying who has it and who lacks it.
    assert len(listed) == 3 and "Disputed (3)" in body
    one, two, three = listed
    assert one.startswith('"Kofi" PERSON (ann-') and '"Kofi Annan" PERSON (ann-' in one and "boundary differs" in one
    assert one.endswith("…had their best month since 2019. Kofi Annan, a spokesman for the British Retail…")
    assert '"British Retail Consortium" NORP' in two and '"British Retail Consortium" ORG' in two
    assert "label differs" in two
    assert three.startswith('"GB" GPE (ann-') and "missing for ann-" in three
    assert "inflation in GB is still" in three  # told from the agreed "GB" by the words around it
    assert "Office for National Statistics" not in "".join(listed)  # no agreed span listed
    # From the stream: each annotator's version, and no Skip.
    counts = sorted(version.split(":")[0].split(" ")[1] for version in versions)
    assert counts == ["(10)", "(9)"] and all(version.startswith("ann-") for version in versions)
    assert "Skip" not in stream_buttons
    assert screenshot.stat().st_size > 10_000
