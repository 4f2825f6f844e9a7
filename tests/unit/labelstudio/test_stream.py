"""The stream order and the "Most uncertain first" tab, as push asks the server for them, without a server."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from pydantic import SecretStr

from toolkit.config import PushConfig
from toolkit.labelstudio.client import ServerSettings
from toolkit.labelstudio.stream import SAMPLING, TAB_TITLE, ensure_uncertainty_tab, set_stream_order, tab_data

SETTINGS = ServerSettings(url="http://127.0.0.1:9", api_key=SecretStr("k"), origin="test")


class _Projects:
    def __init__(self) -> None:
        self.updates: list[dict] = []

    def update(self, **fields):
        self.updates.append(fields)


@pytest.mark.parametrize(
    ("order", "sampling"),
    [("uncertainty", "Uncertainty sampling"), ("sequential", "Sequential sampling"), ("random", "Uniform sampling")],
)
def test_each_order_is_label_studios_sampling_and_is_set_only_when_it_differs(order, sampling):
    projects = _Projects()
    client = SimpleNamespace(projects=projects)
    assert set_stream_order(client, SETTINGS, SimpleNamespace(id=4, sampling="Sequential sampling"), order) is (
        sampling != "Sequential sampling"
    )
    assert set_stream_order(client, SETTINGS, SimpleNamespace(id=4, sampling=sampling), order) is False
    assert [update["sampling"] for update in projects.updates] == (
        [sampling] if sampling != "Sequential sampling" else []
    )
    assert all(update["id"] == 4 for update in projects.updates)


def test_the_config_default_is_uncertainty_and_every_order_has_a_sampling():
    assert PushConfig().order == "uncertainty"
    assert set(SAMPLING) == {"uncertainty", "sequential", "random"}


def test_the_tab_orders_by_score_ascending_shows_it_and_filters_nothing():
    data = tab_data()
    assert data["title"] == TAB_TITLE
    assert data["ordering"] == ["tasks:predictions_score"]  # ascending: no leading "-"
    assert "tasks:predictions_score" not in data["hiddenColumns"]["explore"]
    assert data["filters"]["items"] == []


class _Views:
    def __init__(self, titles: list[str]) -> None:
        self.views = [SimpleNamespace(data={"title": title}) for title in titles]

    def list(self, project: int):
        return self.views


def test_the_tab_is_added_once_and_a_tab_of_that_title_is_left_alone(monkeypatch):
    posted: list[tuple[str, dict]] = []
    monkeypatch.setattr(
        "toolkit.labelstudio.stream.post_json", lambda client, path, body: posted.append((path, json.loads(body)))
    )
    assert ensure_uncertainty_tab(SimpleNamespace(views=_Views(["Default"])), SETTINGS, 9) is True
    ((path, body),) = posted
    assert path == "api/dm/views/" and body == {"project": 9, "data": tab_data()}
    assert ensure_uncertainty_tab(SimpleNamespace(views=_Views(["Default", TAB_TITLE])), SETTINGS, 9) is False
    assert len(posted) == 1
