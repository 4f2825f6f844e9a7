"""The project's labeling config compared and validated, without a server."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from toolkit.errors import ProjectError
from toolkit.labelstudio.client import ServerSettings
from toolkit.labelstudio.labeling import labeling_config
from toolkit.labelstudio.project import (
    labeling_config_change,
    same_labeling_config,
    spare_title,
    validate_labeling_config,
)


def test_labeling_configs_compare_without_layout_whitespace():
    assert same_labeling_config(
        "<View>\n  <Text name='t' value='$text'/>\n</View>\n", "<View><Text name='t' value='$text'/></View>"
    )
    assert not same_labeling_config("<View><Label value='A'/></View>", "<View><Label value='B'/></View>")


class _RefusingProjects:
    """Stands in for ``client.projects``: the server's 400 answer to a labeling config."""

    def validate_label_config(self, **_):
        from label_studio_sdk.core.api_error import ApiError

        raise ApiError(status_code=400, headers={}, body={"detail": "Labels tag needs at least one Label"})


def _settings() -> ServerSettings:
    return ServerSettings(url="http://127.0.0.1:9", api_key=SecretStr("k"), origin="test")


def test_a_labeling_config_the_server_rejects_is_a_project_error_in_its_words():
    client = SimpleNamespace(projects=_RefusingProjects())
    with pytest.raises(
        ProjectError, match="rejects the labeling config generated from `labels`: Labels tag needs"
    ) as error:
        validate_labeling_config(client, _settings(), "<View/>", project_id=3)
    assert "check `labels`" in error.value.hint


def test_a_labeling_config_change_names_labels_added_removed_and_foreign_controls(config):
    assert not labeling_config_change(labeling_config(config), config).differs
    edited = (
        labeling_config(config)
        .replace('<Label value="PERSON"', '<Label value="ANIMAL"/>\n    <Label value="PERSON"')
        .replace("</View>", '<Choices name="topic" toName="text"><Choice value="sport"/></Choices></View>')
    )
    without_org = config.model_copy(update={"labels": [label for label in config.labels if label != "ORG"] + ["LAW"]})
    change = labeling_config_change(edited, without_org)
    assert change.differs and change.labels_added == ["LAW"]
    assert change.labels_removed == ["ANIMAL", "ORG"] and change.foreign_controls == ["Choices 'topic'"]


def test_a_spare_title_fits_label_studios_50_characters():
    assert spare_title("News NER", 7) == "News NER [empty copy of 7]"
    assert len(spare_title("x" * 60, 12345)) == 50


class _Clock:
    """Stands in for the ``time`` module of toolkit.labelstudio.project: sleeps are counted, not slept."""

    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, 0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps += 1
        self.now += seconds


class _Projects:
    """``client.projects`` of a server holding ``titles`` (id -> title); ``committing`` ids
    become visible after ``after`` looks (a concurrent push's creation, not yet committed)."""

    def __init__(self, titles: dict[int, str], committing: dict[int, str] | None = None, after: int = 0) -> None:
        self.titles, self.committing, self.after, self.looks, self.renamed = titles, committing or {}, after, 0, {}

    def listed(self, title: str | None = None) -> list[SimpleNamespace]:
        titles = {**self.titles, **(self.committing if self.looks > self.after else {}), **self.renamed}
        found = [SimpleNamespace(id=i, title=t) for i, t in sorted(titles.items(), reverse=True)]
        return [project for project in found if title is None or project.title == title]

    def list(
        self, page_size: int, ordering: str | None = None, ids: str | None = None, include: str | None = None
    ) -> SimpleNamespace:
        self.looks += 1
        wanted = None if ids is None else {int(i) for i in ids.split(",")}
        return SimpleNamespace(items=[p for p in self.listed() if wanted is None or p.id in wanted][:page_size])

    def update(self, id: int, title: str, request_options=None) -> None:
        self.renamed[id] = title

    def get(self, id: int) -> SimpleNamespace:
        return next(project for project in self.listed() if project.id == id)


def _settle(projects: _Projects, mine: int, newest_before: int, monkeypatch, config):
    from toolkit.labelstudio import project as module

    clock = _Clock()
    monkeypatch.setattr(module, "time", clock)
    monkeypatch.setattr(module, "_projects_titled", lambda client, title, include=None: client.projects.listed(title))
    monkeypatch.setattr(module, "read_project", lambda client, settings, project_id: client.projects.get(project_id))
    client = SimpleNamespace(projects=projects)
    mine_project = projects.get(mine)
    return module.settle_creation(client, _settings(), config, mine_project, newest_before=newest_before), clock


def test_a_push_creates_its_project_without_waiting_a_fixed_time(monkeypatch, config):
    """The usual creation: no id was given out between the newest project before it and this
    push's, whatever was deleted further below (4, here): no sleep, no second look."""
    ours = config.project.title
    for titles, mine, newest_before in (({3: "a", 5: "b", 6: ours}, 6, 5), ({1: ours}, 1, 0)):
        projects = _Projects(titles)
        winner, clock = _settle(projects, mine, newest_before, monkeypatch, config)
        assert winner.id == mine and clock.sleeps == 0 and projects.looks == 0


def test_an_id_given_out_meanwhile_is_waited_for_until_it_commits_or_the_bound(monkeypatch, config):
    from toolkit.labelstudio.project import UNSEEN_ID_POLL, UNSEEN_ID_WAIT

    ours = config.project.title
    # A concurrent push's project 7, with our title, commits after a few looks: it wins.
    projects = _Projects({6: "a", 8: ours}, committing={7: ours}, after=3)
    winner, clock = _settle(projects, 8, 6, monkeypatch, config)
    assert winner.id == 7 and projects.renamed[8] != ours and clock.sleeps == 3
    # An id created and deleted meanwhile (7) stays unseen: the bound, no longer; ours stays.
    # (So does the id of a newest project deleted just before the push: Label Studio keeps no
    # trace of a deleted id, so the two cannot be told apart.)
    winner, clock = _settle(_Projects({6: "a", 8: ours}), 8, 6, monkeypatch, config)
    assert winner.id == 8 and clock.sleeps == round(UNSEEN_ID_WAIT / UNSEEN_ID_POLL)


@pytest.mark.parametrize("order", ["uncertainty", "random"])
def test_push_creates_its_project_with_the_streams_order(order, config, monkeypatch):
    from toolkit.labelstudio import project as module
    from toolkit.labelstudio.stream import SAMPLING

    sent = {}

    def create(**fields):
        sent.update(fields)
        return SimpleNamespace(id=1, **fields)

    monkeypatch.setattr(module, "validate_labeling_config", lambda *args, **kwargs: None)
    monkeypatch.setattr(module, "newest_project_id", lambda *args: 0)
    monkeypatch.setattr(module, "settle_creation", lambda client, settings, config, mine, newest_before: mine)
    config = config.model_copy(update={"push": config.push.model_copy(update={"order": order})})
    client = SimpleNamespace(projects=SimpleNamespace(create=create))
    assert module.ensure_project(client, _settings(), config, found=None).created
    assert sent["sampling"] == SAMPLING[order]  # push has no sampling update to make afterwards


def test_projects_are_listed_until_a_page_is_not_full():
    from toolkit.labelstudio.project import TITLE_PAGE_SIZE, _projects_titled

    asked = []

    def page(number: int, count: int) -> SimpleNamespace:
        items = [SimpleNamespace(id=number * 1000 + i, title="News" if i % 2 else "News 2") for i in range(count)]
        return SimpleNamespace(items=items, next_page=lambda: asked.append(number + 1) or page(number + 1, 3))

    def listing(**query):
        asked.append(query)
        return page(1, TITLE_PAGE_SIZE)

    found = _projects_titled(SimpleNamespace(projects=SimpleNamespace(list=listing)), "News", include="id,title")
    assert asked == [{"title": "News", "page_size": TITLE_PAGE_SIZE, "include": "id,title"}, 2]  # no third page
    assert len(found) == TITLE_PAGE_SIZE // 2 + 1 and all(project.title == "News" for project in found)
