from __future__ import annotations

import xml.etree.ElementTree as ET

from toolkit.labelstudio.labeling import config_labels, labeling_config, prediction_payload, task_payload
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
        id="x1",
        text="Angela Merkel spoke.",
        date="2025-01-01",
        model=ModelInfo(name="m", version="1.0"),
        spans=[Span(start=0, end=13, label="PERSON")],
    )
    payload = task_payload(article)
    assert payload["data"]["article_id"] == "x1"
    (prediction,) = payload["predictions"]
    assert prediction["model_version"] == "m-1.0"
    assert prediction["result"][0]["value"] == {"start": 0, "end": 13, "text": "Angela Merkel", "labels": ["PERSON"]}


def test_prediction_payload_carries_the_score_when_the_article_has_one():
    article = PredictedArticle(id="x1", text="Angela Merkel spoke.", model=ModelInfo(name="m", version="1.0"), spans=[])
    assert "score" not in prediction_payload(article)
    scored = article.model_copy(update={"score": 0.42})  # PredictedArticle.score is optional (newer files)
    assert prediction_payload(scored)["score"] == 0.42
    assert prediction_payload(scored, task_id=7)["task"] == 7


def test_task_payload_with_several_model_versions_has_one_prediction_set_each():
    base = dict(id="x1", text="Paris.", spans=[Span(start=0, end=5, label="GPE")])
    v1 = PredictedArticle(**base, model=ModelInfo(name="m", version="1"))
    v2 = PredictedArticle(**base, model=ModelInfo(name="m", version="2"))
    assert [p["model_version"] for p in task_payload(v1, v2)["predictions"]] == ["m-1", "m-2"]


def test_config_labels_reads_back_the_labels_and_tolerates_other_configs(config):
    assert config_labels(labeling_config(config)) == config.labels
    assert config_labels("<View><Text name='text' value='$text'/></View>") == []
    assert config_labels("not xml") == []


def test_labeling_config_shows_title_and_date_above_the_text(config):
    root = ET.fromstring(labeling_config(config))
    tags = [child.tag for child in root]
    assert tags.index("Header") < tags.index("Text")
    assert [header.get("value") for header in root.findall("Header")] == ["$title", "$date"]
    hotkeys = [label.get("hotkey") for label in root.find("Labels")]
    assert len(set(hotkeys)) == len(hotkeys)


def test_each_scored_region_carries_its_score_for_the_region_list():
    article = PredictedArticle(
        id="x1",
        text="Angela Merkel met Macron.",
        model=ModelInfo(name="m", version="1.0"),
        spans=[Span(start=0, end=13, label="PERSON", score=0.97), Span(start=18, end=24, label="PERSON")],
        score=0.41,
    )
    regions = task_payload(article)["predictions"][0]["result"]
    assert regions[0]["score"] == 0.97
    assert "score" not in regions[1]  # a pattern entity has no score: none is made up


def test_a_near_duplicate_is_served_after_its_group_and_keeps_its_score_in_the_data():
    base = dict(text="Rates rise.", model=ModelInfo(name="m", version="1.0"), spans=[], score=0.3)
    first, copy = PredictedArticle(id="a", **base), PredictedArticle(id="b", **base)
    alone = task_payload(first)
    assert "group" not in alone["data"] and "model_score" not in alone["data"]  # no column repeating article_id
    assert alone["predictions"][0]["score"] == 0.3
    leader = task_payload(first, group="a")  # the group's first article shows its group too
    assert leader["data"]["group"] == "a" and "model_score" not in leader["data"]
    assert leader["predictions"][0]["score"] == 0.3
    grouped = task_payload(copy, group="a")
    assert grouped["data"]["group"] == "a" and "copy_of" not in grouped["data"]  # copy_of repeated group
    assert grouped["data"]["model_score"] == 0.3
    assert grouped["predictions"][0]["score"] == 1.0  # above every task score: after the group's first
    assert prediction_payload(copy, task_id=3, copy_of="a")["score"] == 1.0


def _article(text: str, title: str | None = None, source: str | None = None) -> PredictedArticle:
    return PredictedArticle(
        id="f00d", text=text, title=title, source=source, model=ModelInfo(name="m", version="1.0"), spans=[]
    )


def test_a_task_shows_the_articles_own_title_and_says_nothing_more():
    payload = task_payload(_article("Oil rose.", title="Oil prices rise", source="in/2024-03-01-markets.txt"))
    assert payload["data"]["title"] == "Oil prices rise" and "meta" not in payload


def test_a_txt_article_without_a_title_shows_its_file_name_marked_as_made_up():
    payload = task_payload(_article("Oil rose.", source="/data/in/2024-03-01-markets.txt"))
    assert payload["data"]["title"] == "2024-03-01-markets"
    assert payload["meta"] == {"title_from": "file name"}  # pull gives the dataset no title


def test_an_article_of_a_records_file_without_a_title_shows_its_first_words():
    text = "Oil prices rose on Tuesday after the cartel said it would cut output again next month."
    payload = task_payload(_article(text, source="in/news.jsonl:3"))
    title = payload["data"]["title"]
    assert title == "Oil prices rose on Tuesday after the cartel said it would…"
    assert len(title) <= 61 and text.startswith(title[:-1])
    assert payload["meta"] == {"title_from": "first words"}
    short = task_payload(_article("Rates  rise.\n\nMore later."))
    assert short["data"]["title"] == "Rates rise. More later."  # whitespace collapsed, nothing cut
    long_word = task_payload(_article("x" * 100))["data"]["title"]
    assert long_word == "x" * 60 + "…"
