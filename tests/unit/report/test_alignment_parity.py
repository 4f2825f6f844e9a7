"""The report's token tags are the export's ner_tags, for every alignment setting the config accepts.

Both tag through toolkit.nlp.alignment.align with export.alignment and
export.alignment_fallback, on the same tokenizer; spans off token boundaries, inside a
token, overlapping, and two labels on the same span must come out the same in both.
"""

from __future__ import annotations

import typing

import pytest
import spacy

from tests.unit.report.articles import article
from toolkit.config import ExportConfig, parse_config
from toolkit.records import Span
from toolkit.report.build import ArticleTokens
from toolkit.report.model import AlignmentModes

MODES = typing.get_args(ExportConfig.model_fields["alignment"].annotation)
FALLBACKS = typing.get_args(ExportConfig.model_fields["alignment_fallback"].annotation)

ARTICLES = [
    # Off token boundaries at both ends ("gela Merkel", "ew Yor"), and an overlap ("York").
    ("Angela Merkel visited New York today.", [(2, 13, "PERSON"), (23, 29, "GPE"), (26, 30, "LOC")]),
    # Inside one token ("eut"), a trailing space ("Tokyo "), on boundaries ("Monday").
    ("Reuters reported from Tokyo on Monday.", [(1, 4, "ORG"), (22, 28, "GPE"), (31, 37, "EVENT")]),
    # Overlapping at the start, and the same offsets with two labels.
    ("the Red Cross and Paris met.", [(0, 7, "ORG"), (4, 13, "ORG"), (18, 23, "GPE"), (18, 23, "LOC")]),
]


def test_the_settings_cover_every_value_the_config_accepts():
    assert set(MODES) == {"strict", "contract", "expand"} and set(FALLBACKS) == {"expand", "contract", "none"}


@pytest.mark.parametrize("fallback", FALLBACKS)
@pytest.mark.parametrize("mode", MODES)
def test_report_tags_are_the_exports_ner_tags(config, tmp_path, mode, fallback):
    from datasets import load_from_disk

    from toolkit.dataset import export

    data = config.model_dump(mode="json")
    data["export"] = {**data["export"], "alignment": mode, "alignment_fallback": fallback}
    settings = parse_config(data)
    make_doc = spacy.blank("en").make_doc
    articles = [
        article(
            number, text, [{"annotator": "x", "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}]
        )
        for number, (text, spans) in enumerate(ARTICLES, start=1)
    ]
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(a.model_dump_json() + "\n" for a in articles))
    result = export(source, config=settings, out=tmp_path / "out", make_doc=make_doc)

    exported = {}
    dataset = load_from_disk(str(result.path))
    for split in dataset.values():
        names = split.features["ner_tags"].feature.names
        for row in split:
            exported[row["id"]] = [names[tag] for tag in row["ner_tags"]]
    assert len(exported) == len(articles)
    alignment = AlignmentModes(mode=mode, fallback=fallback)
    for item in articles:
        tags = ArticleTokens(item.text, make_doc, alignment)([Span(**s.model_dump()) for s in item.spans]).tags
        assert tags == exported[item.id], item.id
