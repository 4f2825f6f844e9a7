from __future__ import annotations

import json

import yaml

from toolkit.compose import ReportAttachment
from toolkit.dataset import export
from toolkit.records import tag_names


def test_card_yaml_parses_and_has_the_hub_metadata(tmp_path, source, config, make_doc):
    from huggingface_hub import DatasetCard

    sections = [("Model versus human: details", "From the report module."), "## Annotation report\n\n- Tasks: 13\n"]
    result = export(
        source,
        config=config,
        out=tmp_path / "out",
        make_doc=make_doc,
        extra_sections=sections,
        model={"name": "en_core_web_sm", "version": "3.8.0"},
    )
    text = (result.path / "README.md").read_text()
    assert text.startswith("---\n")
    metadata = yaml.safe_load(text.split("---\n")[1])
    assert metadata["task_categories"] == ["token-classification"]
    assert metadata["task_ids"] == ["named-entity-recognition"]
    assert (metadata["language"], metadata["license"]) == ([config.export.language], config.export.license)
    features = {f["name"]: f for f in metadata["dataset_info"]["features"]}
    names = features["ner_tags"]["list"]["class_label"]["names"]
    assert [names[str(i)] for i in range(len(names))] == tag_names(config.labels)
    splits = {s["name"]: s["num_examples"] for s in metadata["dataset_info"]["splits"]}
    assert splits == {k: v for k, v in result.stats.rows_per_split.items() if v}
    card = DatasetCard.load(result.path / "README.md")
    assert card.data.task_ids == ["named-entity-recognition"]
    for heading in (
        "## Splits",
        "## Labels",
        "## Annotators and skips",
        "## Model versus human",
        "## Alignment and loss report",
        "## Versions",
    ):
        assert heading in card.text
    assert "**1 span is lost**" in card.text and "inside the token 'Merkel'" in card.text
    # Counts in the card's prose take the number they need.
    assert "1 annotator (anonymous ids) submitted 13 annotations." in card.text
    assert "24 lie on token boundaries and 1 was snapped" in card.text
    assert "| en_core_web_sm 3.8.0 |" in card.text.replace("tokenizer pipeline ", "")
    assert card.text.rstrip().endswith(
        "## Model versus human: details\n\nFrom the report module.\n\n## Annotation report\n\n- Tasks: 13"
    )


def test_the_card_speaks_of_edits_in_the_reports_words(tmp_path, source, config, make_doc):
    # 12 rows started from [PERSON] and added GPE; n_corrections counts by exact key.
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    section = (result.path / "README.md").read_text().split("## Model versus human", 1)[1].split("\n## ", 1)[0]
    assert "12 human rows started from a model prediction; 0 of them were accepted unchanged" in section
    assert "accepted unchanged 12, boundary fixed 0, relabelled 0, deleted 0, added 12" in section
    assert "12 in all" in section and result.stats.corrections == 12


def test_the_report_of_the_same_pull_goes_into_the_card_and_the_version_folder(tmp_path, source, config, make_doc):
    from toolkit.report import report

    attachment = ReportAttachment(source, config=config, make_doc=make_doc)
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc, attachment=attachment)
    card = (result.path / "README.md").read_text()
    page = (result.path / "report.html").read_text()
    expected = report(source, config=config, make_doc=make_doc)
    assert f"annotated {expected.progress.annotated:,}" in card.split("## Annotation report", 1)[1]
    assert page.startswith("<!doctype html>") and "Model against human" in page
    manifest = json.loads((result.path / "manifest.json").read_text())
    assert "report.html" in manifest["files"]
    assert not (export(source, config=config, out=tmp_path / "bare", make_doc=make_doc).path / "report.html").exists()
