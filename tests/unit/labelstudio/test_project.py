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
