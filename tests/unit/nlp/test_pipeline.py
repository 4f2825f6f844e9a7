"""toolkit.nlp.pipeline.load_tokenizer: the same model choice and errors as load_pipeline, no blank fallback."""

from __future__ import annotations

import pytest

from toolkit.config import parse_config
from toolkit.errors import ModelError
from toolkit.nlp.pipeline import load_pipeline, load_tokenizer


def with_spacy(config, **spacy_settings):
    data = config.model_dump(mode="json")
    data["spacy"] = {**data["spacy"], **spacy_settings}
    return parse_config(data)


def test_the_tokenizer_is_the_pipelines(config, pipeline):
    tokenizer = load_tokenizer(config)
    assert tokenizer.model == pipeline.model
    assert tokenizer.description == f"{pipeline.model.name} {pipeline.model.version} tokenizer"
    text = "U.S. officials don't meet in New York.\n\nThey left."
    assert [t.text for t in tokenizer.make_doc(text)] == [t.text for t in pipeline.nlp.make_doc(text)]


def test_no_installed_model_is_the_same_model_error_as_load_pipelines(config):
    broken = with_spacy(config, model="no_such_model_xyz", fallback_models=["nor_this_one"])
    with pytest.raises(ModelError) as tokenizer_error:
        load_tokenizer(broken)
    with pytest.raises(ModelError) as pipeline_error:
        load_pipeline(broken)
    assert str(tokenizer_error.value) == str(pipeline_error.value)
    assert "[spacy.model] none of no_such_model_xyz, nor_this_one is installed" in str(tokenizer_error.value)
    assert tokenizer_error.value.hint == pipeline_error.value.hint


def test_another_model_version_is_refused(config):
    with pytest.raises(ModelError, match=r"\[spacy.version\] .* the config expects 0.0.1"):
        load_tokenizer(with_spacy(config, version="0.0.1"))
