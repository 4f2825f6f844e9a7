"""Reading an annotation's result (toolkit.labelstudio.results): the spans on the article text, and the rest."""

from __future__ import annotations

from toolkit.labelstudio.results import ArticleControls, article_controls, count_labelled, read_result

CONFIG = (
    '<View><Labels name="ner" toName="body"><Label value="ORG"/></Labels><Text name="body" value="$text"/>'
    '<Labels name="meta" toName="src"><Label value="ORG"/></Labels><Text name="src" value="$source"/></View>'
)


def labels(start, end, label, text=None, **extra):
    value = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        value["text"] = text
    return {"type": "labels", "value": value, **extra}


def test_the_article_controls_are_read_from_the_labeling_config():
    controls = article_controls(CONFIG)
    assert (controls.labels, controls.texts) == ({"ner"}, {"body"})
    assert article_controls("<View") == article_controls(None) and article_controls(None).labels == {"label"}
    assert ArticleControls.from_dict(controls.as_dict()) == controls and ArticleControls.from_dict(None).texts == {
        "text"
    }


def test_labelled_spans_are_read_as_found_and_the_rest_set_apart():
    controls = article_controls(CONFIG)
    result = [
        labels(0, 13, "PERSON", "Angela Merkel", from_name="ner", to_name="body", origin="prediction"),
        labels(0, 6, "ORG", "Angela", from_name="meta", to_name="src"),
        labels("0", None, "GPE"),  # no control names (a hand-made file): ours; offsets passed on unchecked
        {"type": "labels", "value": "not a dict"},
        {"type": "relation", "from_id": "a", "to_id": "b"},
        "not an item",
    ]
    read = read_result(result, controls)
    assert read.labelled == [
        (0, 13, ["PERSON"], "Angela Merkel", "prediction"),
        ("0", None, ["GPE"], None, None),
        (None, None, [], None, None),
    ]
    assert [(o.control, o.target, o.raw["text"]) for o in read.other_controls] == [("meta", "src", "Angela")]
    assert read.other_results == 2
    assert count_labelled(result, controls) == 3 and count_labelled(None, controls) == 0
    assert read_result(None).labelled == [] and read_result([labels(0, 1, "X")]).labelled == [(0, 1, ["X"], None, None)]
