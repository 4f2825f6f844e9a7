from __future__ import annotations

import pytest

from toolkit.config import load_config, parse_config
from toolkit.errors import ConfigError

VALID = {"project": {"title": "T"}, "labels": ["PERSON", "ORG"]}


def test_bundled_config_is_valid(config):
    assert config.project.title == "News NER"
    assert config.labels[:4] == ["PERSON", "ORG", "GPE", "LOC"]
    assert config.project_label("FAC") == "LOC"
    assert config.project_label("DATE") is None


def test_unknown_keys_and_bad_values_are_all_reported():
    data = {"project": {"title": "T", "titel": "x"}, "labels": ["PERSON"], "spacy": {"batch_size": 0}, "extra": 1}
    with pytest.raises(ConfigError) as raised:
        parse_config(data, source="c.yaml")
    lines = raised.value.errors
    assert "[project.titel] unknown key (check the spelling, or see configs/news-ner.yaml for the keys)" in lines
    assert any(line.startswith("[extra] unknown key") for line in lines)
    assert "[spacy.batch_size] Input should be greater than or equal to 1" in lines
    assert str(raised.value).startswith("c.yaml: invalid config")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"labels": []}, "[labels] List should have at least 1 item"),
        ({"labels": ["PERSON", "PERSON"]}, "[labels] label 'PERSON' is listed twice"),
        ({"labels": ["B-X"]}, "[labels] label 'B-X' clashes with the IOB2 tags"),
        ({"label_map": {"FAC": "BUILDING"}}, "label_map maps to BUILDING, which is not in labels"),
        ({"export": {"splits": {"train": 0.5}}}, "[export.splits] shares must add up to 1, they add up to 0.5"),
        ({"project": {}}, "[project.title] Field required"),
    ],
)
def test_semantic_errors(change, expected):
    with pytest.raises(ConfigError) as raised:
        parse_config({**VALID, **change})
    assert any(expected in line for line in raised.value.errors), raised.value.errors


def test_yaml_error_names_the_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("project:\n  title: T\nlabels: [PERSON\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+: not valid YAML"):
        load_config(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "none.yaml")


def test_input_config_is_checked_key_by_key():
    from toolkit.config import parse_config
    from toolkit.errors import ConfigError

    data = {
        "project": {"title": "T"},
        "labels": ["PERSON"],
        "input": {"txt_format": "title", "on_error": "ignore", "fields": {"txt": "body"}},
        "spacy": {"beam_width": 1},
    }
    with pytest.raises(ConfigError) as raised:
        parse_config(data)
    lines = raised.value.errors
    assert any(line.startswith("[input.txt_format] Input should be 'seed' or 'headline'") for line in lines)
    assert any(line.startswith("[input.on_error] Input should be 'fail' or 'skip'") for line in lines)
    assert any(line.startswith("[input.fields.txt] unknown key") for line in lines)
    assert any(line.startswith("[spacy.beam_width] Input should be greater than or equal to 2") for line in lines)


def test_overlap_is_annotators_and_a_share_of_the_tasks():
    config = parse_config({**VALID, "project": {"title": "T", "overlap": {"annotators": 2, "share": 0.25}}})
    assert (config.project.overlap.annotators, config.project.overlap.percentage) == (2, 25)
    assert parse_config(VALID).project.overlap is None  # the project's own settings are left alone
    tiny = parse_config({**VALID, "project": {"title": "T", "overlap": {"annotators": 3, "share": 0.001}}})
    assert tiny.project.overlap.percentage == 1  # a share above 0 never rounds to no overlap at all


@pytest.mark.parametrize(
    ("overlap", "expected"),
    [
        ({"annotators": 0}, "[project.overlap.annotators] Input should be greater than or equal to 1"),
        ({"annotators": 2, "share": 0}, "[project.overlap.share] Input should be greater than 0"),
        ({"annotators": 2, "share": 30}, "[project.overlap.share] Input should be less than or equal to 1"),
        ({"share": 0.5}, "[project.overlap.annotators] Field required"),
        ({"annotators": 2, "percent": 30}, "[project.overlap.percent] unknown key"),
    ],
)
def test_overlap_errors(overlap, expected):
    with pytest.raises(ConfigError) as raised:
        parse_config({**VALID, "project": {"title": "T", "overlap": overlap}})
    assert any(expected in line for line in raised.value.errors), raised.value.errors
