"""The model registry: every trained model recorded and copied, one current per project, written
atomically under a lock; preannotate runs the current model, push refuses to move the project off it."""

from __future__ import annotations

import json

import pytest
import spacy

from tests.unit.io.test_locks import _holder
from toolkit.errors import InputError
from toolkit.io import models_registry
from toolkit.io.locks import OutputLockedError
from toolkit.push.plan import PushPlan
from toolkit.push.pushing import check_model_rollback


@pytest.fixture
def cfg(config, tmp_path):
    return config.model_copy(update={"train": config.train.model_copy(update={"models_dir": str(tmp_path / "m")})})


def _model(folder, labels, version="0.0.1"):
    """A tiny NER pipeline saved as `toolkit train` saves one (its meta names the project's labels)."""
    nlp = spacy.blank("en")
    ner = nlp.add_pipe("ner")
    for label in labels:
        ner.add_label(label)
    nlp.initialize()
    nlp.meta.update({"name": "news_ner", "version": version, "toolkit": {"labels": list(labels)}})
    nlp.to_disk(folder)
    return folder


def _register(cfg, tmp_path, version, promote=None):
    folder = _model(tmp_path / f"out-{version}", cfg.labels)
    return models_registry.register(
        cfg, folder, version=version, trained_on={"export": "e", "name": "news", "version": "v1"}, base="blank",
        validation_f1=0.5, test_f1=0.4, promote=promote,
    )  # fmt: skip


def test_a_registered_model_is_copied_and_listed_and_only_a_promoted_one_is_current(cfg, tmp_path):
    project = _register(cfg, tmp_path, "en_news_ner-1")
    assert [m.version for m in project.models] == ["en_news_ner-1"] and project.current is None
    assert models_registry.current_model(cfg) is None
    _register(cfg, tmp_path, "en_news_ner-2", promote="evaluated")
    # The --out folder is trained over later: the registry's copy stays usable.
    for name in ("out-en_news_ner-1", "out-en_news_ner-2"):
        __import__("shutil").rmtree(tmp_path / name)
    current = models_registry.current_model(cfg)
    assert current.version == "en_news_ner-2" and current.promoted_at is not None
    assert spacy.load(current.path).pipe_names == ["ner"]
    data = json.loads((tmp_path / "m" / "registry.json").read_text())
    saved = data["projects"][cfg.project.title]
    assert saved["current"] == "en_news_ner-2"
    assert saved["history"][-1]["how"] == "evaluated" and saved["history"][-1]["from"] is None
    assert [m["test_f1"] for m in saved["models"]] == [0.4, 0.4]
    assert not list((tmp_path / "m").glob(".*.tmp")) and not list((tmp_path / "m").glob(".*.lock"))


def test_use_goes_back_on_purpose_and_an_unknown_version_changes_nothing(cfg, tmp_path):
    _register(cfg, tmp_path, "a", promote="evaluated")
    _register(cfg, tmp_path, "b", promote="forced")
    project, before = models_registry.use(cfg, "a")
    assert (project.current, before) == ("a", "b")
    assert project.history[-1]["how"] == "chosen"
    project, before = models_registry.use(cfg, "base")
    assert (project.current, before) == (None, "a")
    saved = (tmp_path / "m" / "registry.json").read_text()
    with pytest.raises(InputError, match="has no model 'c' \\(models: a, b\\)"):
        models_registry.use(cfg, "c")
    assert (tmp_path / "m" / "registry.json").read_text() == saved


def test_a_registry_another_run_is_writing_is_refused_naming_it(cfg, tmp_path):
    path = models_registry.registry_path(cfg)
    holder = _holder(path)
    try:
        with pytest.raises(OutputLockedError, match="another run is writing this model registry"):
            models_registry.use(cfg, "base")
    finally:
        holder.kill()
        holder.wait()
    assert not path.exists()


def test_a_current_model_gone_from_disk_is_an_error_naming_the_way_out(cfg, tmp_path):
    project = _register(cfg, tmp_path, "a", promote="evaluated")
    __import__("shutil").rmtree(project.current_entry.path)
    with pytest.raises(InputError, match="the current model a is missing") as error:
        models_registry.current_model(cfg)
    assert "toolkit models use VERSION" in error.value.hint_with(lambda _r: None)


def _plan(shown, pushed):
    return PushPlan("News NER", 1, current_model_version=shown, pushed_version=pushed, model_version=pushed)


def test_push_never_moves_a_project_off_its_current_model_unless_told(cfg, tmp_path):
    """Issue 28: `make run` after the loop pushed the base model's predictions and the project
    went back to the base model's suggestions."""
    _register(cfg, tmp_path, "trained-1", promote="evaluated")
    with pytest.raises(InputError, match="shows its current model 'trained-1'") as error:
        check_model_rollback(_plan("trained-1", "en_core_web_sm-3.8.0"), cfg, allow=False, source="p.jsonl")
    assert "allow_model_rollback=True" in error.value.hint_with(lambda _r: None)
    assert check_model_rollback(_plan("trained-1", "base-3.8.0"), cfg, allow=True, source=None) == "trained-1"
    # The current model's own predictions, a project not on it yet, or several versions: free.
    assert check_model_rollback(_plan("trained-1", "trained-1"), cfg, allow=False, source=None) is None
    assert check_model_rollback(_plan("base-3.8.0", "trained-1"), cfg, allow=False, source=None) is None
    assert check_model_rollback(_plan("trained-1", None), cfg, allow=False, source=None) is None
    # Sent back to the configured model on purpose: the project may follow.
    models_registry.use(cfg, "base")
    assert check_model_rollback(_plan("trained-1", "base-3.8.0"), cfg, allow=False, source=None) is None


def test_preannotate_without_model_runs_the_current_model_and_says_so(cfg, tmp_path):
    from toolkit.preannotate import view
    from toolkit.preannotate.job import preannotation_job

    (tmp_path / "a.txt").write_text("Angela Merkel visited Paris.")
    with preannotation_job([tmp_path / "a.txt"], out=tmp_path / "o.jsonl", config=cfg) as job:
        assert job.current is None and job.pipeline.model.name != "en_news_ner"
    _register(cfg, tmp_path, "en_news_ner-0.0.1", promote="evaluated")
    with preannotation_job([tmp_path / "a.txt"], out=tmp_path / "o.jsonl", config=cfg) as job:
        assert job.current.version == "en_news_ner-0.0.1"
        assert (job.pipeline.model.name, job.pipeline.model.version) == ("en_news_ner", "0.0.1")
        said = view.model(job).blocks[1].text
    assert said.startswith(f"  the current model of project '{cfg.project.title}', made current 20")
    # --model still wins.
    other = _model(tmp_path / "other", cfg.labels, version="9.9.9")
    with preannotation_job([tmp_path / "a.txt"], out=tmp_path / "o.jsonl", config=cfg, model=other) as job:
        assert job.current is None and job.pipeline.model.version == "9.9.9"
