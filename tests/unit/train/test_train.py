"""`toolkit train` on small synthetic exports: spaCy's own training, the model folder, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unit.train.exports import articles, config, ids_in, write_export
from toolkit.config import load_config
from toolkit.errors import InputError, ModelError, OutputError
from toolkit.train import train
from toolkit.train.start import label_sources


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    return write_export(tmp_path_factory.mktemp("export"), articles(40))


@pytest.fixture(scope="module")
def trained(small_export, tmp_path_factory):
    out = tmp_path_factory.mktemp("models") / "model"
    return train(small_export, config=config(), out=out, base="blank", epochs=3, seed=1)


def test_the_model_loads_and_its_meta_says_what_it_is(trained, small_export):
    import spacy

    nlp = spacy.load(trained.out)
    assert nlp.pipe_names == ["ner"]
    assert sorted(nlp.get_pipe("ner").labels) == sorted(config().labels)
    meta = json.loads((trained.out / "meta.json").read_text())
    ours = meta["toolkit"]
    assert ours["labels"] == list(config().labels)
    assert ours["base"] is None and ours["start"] == "blank"
    data = ours["training_data"]
    assert Path(data["export"]) == (small_export / "v1") and data["version"] == "v1"
    assert len(data["manifest_sha256"]) == 64
    assert data["train_rows"] == trained.train_rows > 0 and data["validation_rows"] == trained.validation_rows > 0
    assert ours["seed"] == 1 and ours["toolkit_version"]
    assert 0 <= ours["validation"]["f1"] <= 1 and ours["validation"]["f1"] == meta["performance"]["ents_f"]
    assert len(ours["curve"]) == trained.curve.__len__() >= 1
    # The version hashes the weights: name-version+hash.
    assert meta["version"].startswith("0.0.0+") and len(meta["version"].split("+")[1]) == 12
    assert trained.model.model_version == f"en_news_ner-{meta['version']}"
    training_md = (trained.out / "TRAINING.md").read_text()
    assert trained.model.model_version in training_md and "| epoch | loss | F1 |" in training_md
    # No work folder is left next to the model.
    assert [p.name for p in trained.out.parent.iterdir()] == ["model"]


def test_the_model_records_the_articles_it_trained_and_validated_on(trained, small_export):
    """By id and by text hash, in a file of its own that meta.json points to: evaluate leaves them out."""
    import datasets

    from toolkit.nlp.seen import seen_articles, text_hash

    human = {
        split: [row for row in datasets.load_from_disk(str(small_export / "v1" / split)) if row["source"] == "human"]
        for split in ("train", "validation", "test")
    }
    pointer = json.loads((trained.out / "meta.json").read_text())["toolkit"]["training_articles"]
    assert pointer["file"] == "training_articles.json" and len(pointer["sha256"]) == 64
    assert pointer["articles"] == trained.train_rows + trained.validation_rows
    record = json.loads((trained.out / "training_articles.json").read_text())
    for split in ("train", "validation"):
        assert record["splits"][split]["ids"] == sorted(row["id"] for row in human[split])
        assert record["splits"][split]["texts"] == sorted({text_hash(row["text"]) for row in human[split]})
    seen = seen_articles(trained.out)
    assert all(seen.saw(row["id"], row["text"]) for row in human["train"] + human["validation"])
    assert not any(seen.saw(row["id"], row["text"]) for row in human["test"])


def test_the_saved_config_runs_without_the_toolkit(trained):
    from spacy.util import load_config

    saved = load_config(trained.out / "config.cfg")
    assert saved["training"]["logger"]["@loggers"] == "spacy.ConsoleLogger.v1"
    assert saved["initialize"]["before_init"] is None and saved["paths"]["train"] is None


def test_same_export_base_and_seed_give_the_same_model(trained, small_export, tmp_path):
    again = train(small_export, config=config(), out=tmp_path / "again", base="blank", epochs=3, seed=1)
    assert again.scores == trained.scores
    assert again.model.model_version == trained.model.model_version
    assert [p.f1 for p in again.curve] == [p.f1 for p in trained.curve]
    other = train(small_export, config=config(), out=tmp_path / "other", base="blank", epochs=3, seed=2)
    assert other.model.model_version != trained.model.model_version


def test_a_model_of_ours_is_replaced_anything_else_is_refused(trained, small_export, tmp_path):
    out = tmp_path / "model"
    first = train(small_export, config=config(), out=out, base="blank", epochs=1, seed=3)
    second = train(small_export, config=config(), out=out, base="blank", epochs=2, seed=3)
    assert second.replaced and not first.replaced
    assert json.loads((out / "meta.json").read_text())["version"] == second.model.version
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a model `toolkit train` wrote"):
        train(small_export, config=config(), out=foreign, base="blank", epochs=1)
    assert [p.name for p in foreign.iterdir()] == ["notes.txt"]
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        train(small_export, config=config(), out=a_file, base="blank", epochs=1)


def test_an_interrupted_training_leaves_nothing(small_export, tmp_path):
    def interrupt(event):
        if event.advance:  # the first validation
            raise KeyboardInterrupt

    out = tmp_path / "models" / "model"
    with pytest.raises(KeyboardInterrupt):
        train(small_export, config=config(), out=out, base="blank", epochs=3, on_progress=interrupt)
    assert not out.exists() and list(out.parent.iterdir()) == []


def test_no_validation_rows_says_how_to_get_some(tmp_path):
    cfg = config()
    records = articles(60)
    keep = set(ids_in("train", 5, cfg)) | set(ids_in("test", 2, cfg))
    root = write_export(tmp_path, [r for r in records if int(r["id"].split("-")[1]) in keep])
    out = tmp_path / "model"
    with pytest.raises(InputError, match="validation split has no human-annotated rows") as error:
        train(root, config=cfg, out=out, base="blank")
    assert "annotate more articles" in error.value.hint and not out.exists()


def test_no_train_rows(tmp_path):
    cfg = config()
    records = articles(60)
    keep = set(ids_in("validation", 2, cfg))
    root = write_export(tmp_path, [r for r in records if int(r["id"].split("-")[1]) in keep])
    with pytest.raises(InputError, match="train split has no human-annotated rows"):
        train(root, config=cfg, out=tmp_path / "model", base="blank")


def test_labels_that_are_not_the_configs(small_export, tmp_path):
    other = config(labels=["PERSON", "ORG"], label_map={})
    with pytest.raises(InputError, match="exported with the labels PERSON, ORG, GPE"):
        train(small_export, config=other, out=tmp_path / "model", base="blank")
    assert not (tmp_path / "model").exists()


def test_a_base_model_whose_version_the_config_refuses(small_export, tmp_path):
    cfg = config()
    cfg = cfg.model_copy(update={"spacy": cfg.spacy.model_copy(update={"version": "9.9.9"})})
    with pytest.raises(ModelError, match=r"\[spacy.version\].*the config expects 9.9.9"):
        train(small_export, config=cfg, out=tmp_path / "model", base="model")
    assert not (tmp_path / "model").exists()


def test_an_export_whose_docbin_changed_is_refused(tmp_path):
    root = write_export(tmp_path, articles(12))
    shard = next((root / "v1" / "spacy").glob("train-*.spacy"))
    shard.write_bytes(shard.read_bytes() + b"\0")
    with pytest.raises(InputError, match="SHA-256 is not the one"):
        train(root, config=config(), out=tmp_path / "model", base="blank")


def test_label_sources_warm_start_follows_the_label_map():
    base = ["PERSON", "ORG", "GPE", "LOC", "FAC", "DATE"]
    label_map = {"PERSON": "PER", "GPE": "LOC", "FAC": "LOC"}
    warm = label_sources(["PER", "ORG", "LOC", "MISC"], base, label_map, warm=True)
    assert warm == {"PER": ["PERSON"], "ORG": ["ORG"], "LOC": ["LOC", "GPE", "FAC"]}
    plain = label_sources(["PER", "ORG", "LOC", "MISC"], base, label_map, warm=False)
    assert plain == {"ORG": ["ORG"], "LOC": ["LOC"]}


def test_fine_tuning_the_base_begins_from_its_weights(small_export, tmp_path):
    """One epoch from the bundled config's en_core_web_md: its NER's rows for PERSON, ORG, GPE
    are taken over, so the first validation is already far above a blank start's; its word
    vectors, which that NER reads, are in the trained model, which loads and predicts."""
    import spacy

    from tests.conftest import CONFIG_PATH

    bundled = load_config(CONFIG_PATH)  # the default base, not the light one of the other tests
    result = train(
        small_export, config=bundled, out=tmp_path / "model", base="model", epochs=1, seed=0, warm_start=True
    )
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    assert meta["toolkit"]["base"]["version"] == "3.8.0" and meta["toolkit"]["start"] == "warm start"
    assert meta["version"].startswith("3.8.0+")
    assert result.copied_rows > 0
    assert result.scores["f1"] > 0.5
    assert meta["toolkit"]["base"]["name"] == "en_core_web_md"
    nlp = spacy.load(tmp_path / "model")
    assert nlp.vocab.vectors.shape == (20000, 300)
    doc = nlp("Angela Merkel met Apple executives in Paris.")
    assert ("Angela Merkel", "PERSON") in {(e.text, e.label_) for e in doc.ents}


def _train_settings(**changes: object):
    cfg = config()
    return cfg.model_copy(update={"train": cfg.train.model_copy(update=changes)})


def test_the_generated_config_carries_the_schedules_spacy_resolves():
    """Growing batches, a warmup schedule, weight averaging and two validations an epoch
    become spaCy's own config entries, which spaCy's registry turns into working objects."""
    from spacy.util import registry

    from toolkit.train.generated_config import spacy_config
    from toolkit.train.start import BLANK_NER_MODEL

    cfg = _train_settings(
        batch_start=100, batch_words=1000, warmup_steps=50, average_weights=True, evals_per_epoch=2, patience=3
    )
    generated = spacy_config(
        lang="en", labels=list(cfg.labels), ner_model=BLANK_NER_MODEL, config=cfg, epochs=10, seed=0, eval_every=41
    )
    training = generated["training"]
    assert training["eval_frequency"] == 20 and training["patience"] == 3 * 41  # patience still counts epochs
    assert training["optimizer"]["use_averages"] is True
    resolved = registry.resolve({"batcher": training["batcher"], "rate": training["optimizer"]["learn_rate"]})
    sizes = training["batcher"]["size"]
    assert sizes == {"@schedules": "compounding.v1", "start": 100, "stop": 1000, "compound": 1.001}
    rates = [next(resolved["rate"]) for _ in range(410)]
    assert rates[0] == 0 and max(rates) == pytest.approx(cfg.train.learning_rate) and rates[-1] < rates[50] / 100
    plain = _train_settings(
        batch_start=None, batch_words=1000, warmup_steps=0, average_weights=False, evals_per_epoch=1, learning_rate=1e-3
    )
    fixed = spacy_config(
        lang="en", labels=list(cfg.labels), ner_model=BLANK_NER_MODEL, config=plain, epochs=10, seed=0, eval_every=41
    )["training"]
    assert fixed["batcher"]["size"] == 1000 and fixed["optimizer"]["learn_rate"] == 0.001
    assert fixed["eval_frequency"] == 41 and fixed["optimizer"]["use_averages"] is False


def test_growing_batches_and_two_validations_an_epoch(small_export, tmp_path):
    """The settings end up in the model's meta and TRAINING.md; the progress bar counts
    epochs (its advances sum to the epochs run) though validation runs twice an epoch."""
    events = []
    cfg = _train_settings(batch_start=50, batch_words=400, evals_per_epoch=2, average_weights=True, warmup_steps=5)
    result = train(small_export, config=cfg, out=tmp_path / "model", base="blank", epochs=2, on_progress=events.append)
    settings = json.loads((tmp_path / "model" / "meta.json").read_text())["toolkit"]["settings"]
    assert settings["batch_start"] == 50 and settings["batch_words"] == 400 and settings["evals_per_epoch"] == 2
    assert settings["average_weights"] is True and settings["warmup_steps"] == 5
    assert len(result.curve) >= 2 * result.epochs_run - 1
    assert sum(e.advance for e in events) == result.epochs_run == 2
    training_md = (tmp_path / "model" / "TRAINING.md").read_text()
    assert "50 -> 400 words (compounding)" in training_md and "2 validations per epoch" in training_md


def test_a_near_miss_of_a_base_keyword_is_suggested(tmp_path, monkeypatch):
    from toolkit.errors import ModelError
    from toolkit.train.training import _resolve_base

    monkeypatch.chdir(tmp_path)
    for typed, meant in (("bse", "model"), ("modle", "model"), ("blnk", "blank")):
        with pytest.raises(
            ModelError, match=rf"^{typed}: no such model folder or installed pipeline; did you mean {meant}\?$"
        ):
            _resolve_base(typed, config())


def test_the_model_carries_the_calibration_fitted_on_its_validation_split(trained):
    """With scores on, train fits the span-score calibration on the validation split's decisions
    and saves it beside the model (out of the weights' hash: the determinism test still holds)."""
    from toolkit.nlp import calibration

    saved = calibration.load(trained.out)
    # The decisions it was fitted on stay beside it, for each pull's refit.
    kept = calibration.load_decisions(trained.out)
    assert kept is not None and kept.validation[0] and not kept.pulled
    if saved is None:  # every validation span kept, or none: nothing to learn, raw scores
        assert trained.calibration_id is None
    else:
        assert saved.calibration_id == trained.calibration_id
        assert saved.fitted_on["spans"] > 0


def test_a_pull_refits_the_current_models_calibration_on_decisions_it_did_not_train_on(trained, tmp_path):
    """After a pull, the decisions on the current model's predictions (any scoring of it) of
    articles it did not train on refit its calibration beside the registry's copy; the next
    pre-annotation scores through the new id. Articles it trained on, or predicted by another
    model, are left out; a pull with nothing new decided refits nothing (and runs no beam)."""
    from toolkit.io import models_registry
    from toolkit.nlp import calibration
    from toolkit.nlp.pipeline import _calibration_id, with_model
    from toolkit.pull.refit import refit_calibration
    from toolkit.pull.view import calibration_line

    base = config()
    cfg = base.model_copy(update={"train": base.train.model_copy(update={"models_dir": str(tmp_path / "models")})})
    version = trained.model.model_version
    models_registry.register(
        cfg, trained.out, version=version, trained_on={}, base="blank", validation_f1=None, promote="forced"
    )
    folder = Path(models_registry.current_model(cfg).path)
    before = calibration.load(folder)
    records = articles(12, seed=7, prefix="new")
    for number, record in enumerate(records):  # the annotator corrected some: a span gone, another relabelled
        spans = [dict(span) for span in record["spans"] if number % 3 or span["label"] != "ORG"]
        if number % 4 == 0:
            spans[0]["label"] = "ORG" if spans[0]["label"] != "ORG" else "GPE"
        record["spans"] = record["annotations"][0]["spans"] = spans
        record["predictions"] = [{"model_version": f"{version} beam8+cal-0123abcd", "spans": []}]
    seen = {**articles(1)[0], "predictions": [{"model_version": f"{version} beam8", "spans": []}]}
    other = {**articles(1, seed=9, prefix="other")[0], "predictions": [{"model_version": "base-1 beam8", "spans": []}]}
    pulled = tmp_path / "annotations.jsonl"
    pulled.write_text("".join(json.dumps(r) + "\n" for r in [*records, seen, other]), encoding="utf-8")

    done = refit_calibration(cfg, pulled)
    assert done.reason is None, done.reason
    assert (done.model, done.articles) == (version, 12) and done.decisions == done.new >= 20
    assert done.calibration_id != (before.calibration_id if before else None)
    assert _calibration_id(with_model(cfg, folder)) == done.calibration_id.removeprefix("cal-")
    line = calibration_line(done)
    assert line.startswith(f"calibration of {version} refitted on {done.decisions} decisions (12 articles): id cal-")
    assert calibration.load(trained.out) == before  # the registry's copy is the one refitted

    again = refit_calibration(cfg, pulled)
    assert again.calibration_id is None and again.previous_id == done.calibration_id
    assert calibration_line(again) == (
        f"calibration of {version} not refitted: 0 decisions new since the last fit, fewer than "
        f"{calibration.MIN_NEW_DECISIONS}; kept {done.calibration_id}"
    )


def test_a_refit_says_why_not_without_a_current_model_or_scores(tmp_path):
    from toolkit.pull.refit import refit_calibration
    from toolkit.pull.view import calibration_line

    base = config()
    cfg = base.model_copy(update={"train": base.train.model_copy(update={"models_dir": str(tmp_path)})})
    pulled = tmp_path / "annotations.jsonl"
    pulled.write_text("", encoding="utf-8")
    assert calibration_line(refit_calibration(cfg, pulled)) == (
        "calibration not refitted: no current trained model (`toolkit train` registers one)"
    )
    off = cfg.model_copy(update={"spacy": cfg.spacy.model_copy(update={"scores": False})})
    assert refit_calibration(off, pulled).reason == "span scores are off (spacy.scores: false)"
