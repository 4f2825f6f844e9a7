"""A review project made by an older toolkit is brought up to date by adjudicate (issue 30 item 3).

Its labeling config had the plain-text box of disputed and agreed spans above the
article, its instructions were the annotators' (with their Skip line), Skip was shown,
and its review tasks carried the box's plain text. The next ``adjudicate`` gives the
project the new labeling config (article first, the list after it), the reviewer's
instructions and no Skip, and rewrites a pending review task's list; the adjudicator's
answers are untouched (they label only the article).
"""

from __future__ import annotations

import uuid

import pytest
import yaml

from tests.integration.test_browser import ROOT
from tests.integration.test_pull_real import span
from toolkit.adjudicate import adjudicate
from toolkit.config import parse_config
from toolkit.labelstudio.labeling import instructions, labeling_config
from toolkit.labelstudio.project import same_labeling_config
from toolkit.labelstudio.review import review_instructions, review_labeling_config, review_title
from toolkit.push import push
from toolkit.records import ModelInfo, PredictedArticle

pytestmark = pytest.mark.integration

TEXT = "Angela Merkel met Kofi Annan in Geneva.\n\nThe United Nations said talks went well."
OLD_BOX = (
    '  <View style="border: 1px solid #d0a000; background: #fff8e0; padding: 6px; margin: 6px 0;">\n'
    '    <Header value="Disagreements" size="6"/>\n'
    '    <Text name="disputes" value="$disputes" granularity="word"/>\n'
    "  </View>\n"
)
OLD_DISPUTES = "Disputed (3):\n  PERSON 'Kofi Annan' [18-28]: ann-1 (boundary)\nAgreed (2):\n  PERSON 'Angela Merkel'"


def test_an_older_review_project_gets_the_new_config_instructions_and_list(server, client, monkeypatch):
    monkeypatch.setenv("TOOLKIT_ANNOTATOR_SECRET", "upgrade-check")
    data = yaml.safe_load((ROOT / "configs" / "news-ner.yaml").read_text())
    data["project"]["title"] = f"toolkit review upgrade {uuid.uuid4().hex[:8]}"
    config = parse_config(data)
    article = PredictedArticle(
        id="upgrade-1",
        text=TEXT,
        title="Leaders meet",
        date="2025-04-01",
        model=ModelInfo(name="m", version="1"),
        spans=[],
    )
    pushed = push([article], config=config, settings=server)
    try:
        (task,) = list(client.tasks.list(project=pushed.project_id, fields="task_only"))
        second = client.users.create(username=f"s-{uuid.uuid4().hex[:8]}", email=f"{uuid.uuid4().hex[:8]}@example.com")
        client.annotations.create(id=task.id, result=[span(TEXT, "Kofi Annan", "PERSON")], was_cancelled=False)
        client.annotations.create(id=task.id, result=[span(TEXT, "Kofi", "PERSON")], completed_by=second.id)
        first = adjudicate(config=config, settings=server)
        review_id = first.review_project_id
        (review_task,) = list(client.tasks.list(project=review_id, fields="task_only"))
        # As an older toolkit made it.
        old_config = labeling_config(config).replace('  <Labels name="', OLD_BOX + '  <Labels name="', 1)
        client.projects.update(
            id=review_id, label_config=old_config, expert_instruction=instructions(config), show_skip_button=True
        )
        client.tasks.update(id=review_task.id, data={**review_task.data, "disputes": OLD_DISPUTES})

        again = adjudicate(config=config, settings=server)

        review = client.projects.get(id=review_id)
        assert same_labeling_config(review.label_config, review_labeling_config(config))
        assert review.show_skip_button is False and "How to adjudicate" in review.expert_instruction
        assert review.expert_instruction == review_instructions(config)  # as sent: no update on the next run
        assert (again.refreshed, again.sent) == (1, 0)
        refreshed = client.tasks.get(id=review_task.id)
        assert refreshed.data["disputes"].startswith("<b>Disputed (1)</b>")
        assert '"Kofi" PERSON' in refreshed.data["disputes"] and "boundary differs" in refreshed.data["disputes"]
        # Up to date now: a third run changes nothing.
        third = adjudicate(config=config, settings=server)
        assert (third.refreshed, third.sent) == (0, 0)
    finally:
        for project in client.projects.list(title=review_title(config)):
            if project.title == review_title(config):
                client.projects.delete(id=project.id)
        client.projects.delete(id=pushed.project_id)
