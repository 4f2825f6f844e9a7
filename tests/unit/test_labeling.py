from __future__ import annotations

import xml.etree.ElementTree as ET

from toolkit.labeling import labeling_config, task_payload
from toolkit.records import ModelInfo, PredictedArticle, Span


def test_labeling_config_has_every_label_with_colour_and_hotkey(config):
    root = ET.fromstring(labeling_config(config))
    labels = root.find("Labels")
    assert [label.get("value") for label in labels] == config.labels
    assert all(label.get("background", "").startswith("#") and label.get("hotkey") for label in labels)
    assert root.find("Text").get("value") == "$text"
    assert "white-space: pre-wrap" in root.find("Style").text


def test_task_payload_carries_the_article_id_and_the_prediction():
    article = PredictedArticle(
        id="x1", text="Angela Merkel spoke.", date="2025-01-01",
        model=ModelInfo(name="m", version="1.0"), spans=[Span(start=0, end=13, label="PERSON")],
    )  # fmt: skip
    payload = task_payload(article)
    assert payload["data"]["article_id"] == "x1"
    (prediction,) = payload["predictions"]
    assert prediction["model_version"] == "m-1.0"
    assert prediction["result"][0]["value"] == {"start": 0, "end": 13, "text": "Angela Merkel", "labels": ["PERSON"]}
