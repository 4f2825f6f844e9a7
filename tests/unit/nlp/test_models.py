"""toolkit.nlp.models: the known re-uploads' folders found without importing them, their
meta.json checked before anything loads them; and the real en_core_web_md through the config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from toolkit.errors import ModelError
from toolkit.nlp import models
from toolkit.nlp.models import REUPLOADS, Reupload, check_folder, reupload_folder

MD = Reupload("fake_md_package", "_model", "en", "core_web_md", "3.8.0")


def _folder(root: Path, meta: object | None) -> Path:
    folder = root / "_model"
    folder.mkdir(parents=True)
    if meta is not None:
        (folder / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    return folder


def test_the_right_meta_is_accepted(tmp_path):
    folder = _folder(tmp_path, {"lang": "en", "name": "core_web_md", "version": "3.8.0"})
    assert check_folder(folder, MD) == folder
    assert check_folder(folder, MD, version="3.8.0") == folder


@pytest.mark.parametrize(
    ("meta", "found"),
    [
        ({"lang": "en", "name": "core_web_sm", "version": "3.8.0"}, "holds en_core_web_sm 3.8.0"),
        ({"lang": "en", "name": "core_web_md", "version": "3.7.1"}, "holds en_core_web_md 3.7.1"),
        ({"lang": "de", "name": "core_web_md", "version": "3.8.0"}, "holds de_core_web_md 3.8.0"),
        ({"name": "core_web_md"}, "holds ?_core_web_md ?"),
        (["not", "a", "meta"], "holds ?_? ?"),
    ],
)
def test_a_folder_of_another_model_or_version_is_refused_naming_both(tmp_path, meta, found):
    folder = _folder(tmp_path, meta)
    with pytest.raises(ModelError) as error:
        check_folder(folder, MD)
    assert str(error.value) == f"[spacy.model] {folder} {found}, expected en_core_web_md 3.8.0"
    assert "make setup" in (error.value.hint or "")


def test_a_folder_without_or_with_a_broken_meta_is_refused(tmp_path):
    folder = _folder(tmp_path, None)
    with pytest.raises(ModelError, match=r"_model: no meta.json, expected the pipeline en_core_web_md 3.8.0$"):
        check_folder(folder, MD)
    (folder / "meta.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(ModelError, match=r"_model: cannot read meta.json"):
        check_folder(folder, MD)


def test_another_configured_version_is_refused_before_loading(tmp_path):
    folder = _folder(tmp_path, {"lang": "en", "name": "core_web_md", "version": "3.8.0"})
    with pytest.raises(ModelError, match=r"^\[spacy.version\] .* is version 3.8.0, the config expects 3.7.1$"):
        check_folder(folder, MD, version="3.7.1")


def test_the_package_is_found_without_running_its_code(tmp_path, monkeypatch):
    """The re-upload's __init__ is someone else's code: finding its folder must not run it."""
    package = tmp_path / "site" / "fake_md_package"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise RuntimeError('imported')\n", encoding="utf-8")
    folder = _folder(package, {"lang": "en", "name": "core_web_md", "version": "3.8.0"})
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.setitem(models.REUPLOADS, "en_core_web_md", MD)
    assert reupload_folder("en_core_web_md") == folder
    assert reupload_folder("en_core_web_mdd") is None  # only the exact name
    monkeypatch.setitem(models.REUPLOADS, "en_core_web_md", Reupload("no_such_package_xyz", "_model", "en", "x", "1"))
    assert reupload_folder("en_core_web_md") is None


@pytest.mark.integration
def test_the_bundled_config_loads_the_real_md_from_its_pinned_package(config, pipeline):
    """make setup installs requirements/models.txt: the default model is en_core_web_md 3.8.0,
    loaded from the re-upload's checked folder, with its word vectors, NER alone."""
    import importlib.util

    assert config.spacy.model == "en_core_web_md"
    root = Path(next(iter(importlib.util.find_spec(REUPLOADS["en_core_web_md"].package).submodule_search_locations)))
    assert reupload_folder("en_core_web_md", version="3.8.0") == root / "_model"
    assert (pipeline.model.name, pipeline.model.version) == ("en_core_web_md", "3.8.0")
    assert pipeline.nlp.pipe_names == ["ner"] and pipeline.nlp.vocab.vectors.shape == (20000, 300)
    doc = pipeline.nlp("Angela Merkel met Apple executives in Paris.")
    assert {(e.text, e.label_) for e in doc.ents} >= {("Angela Merkel", "PERSON"), ("Paris", "GPE")}
    # The light choice is the other pinned re-upload, checked the same way.
    assert reupload_folder("en_core_web_sm", version="3.8.0") is not None
