"""`toolkit evaluate` against an independent computation of the same figures on the same split."""

from __future__ import annotations

import json

import pytest

from tests.unit.train.exports import articles, config, write_export
from toolkit.errors import InputError
from toolkit.evaluate.evaluation import evaluate, paired_bootstrap
from toolkit.train import train


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("evaluate")
    records = articles(60, seed=5)
    # Some gold the models cannot know: a relabelled span and a deleted one, for the edits.
    records[0]["spans"][0]["label"] = "NORP"
    records[1]["spans"].pop()
    root = write_export(tmp, records)
    model = train(root, config=config(), out=tmp / "model", base="blank", epochs=2, seed=0)
    return root, model.out


def _independent(model_spec, root, split):
    """The figures from scratch: spaCy, seqeval and set arithmetic, none of the toolkit's code."""
    import datasets
    import spacy
    from seqeval.metrics import f1_score, precision_score, recall_score
    from seqeval.scheme import IOB2
    from spacy.training import biluo_to_iob, offsets_to_biluo_tags

    cfg = config()
    rows = [row for row in datasets.load_from_disk(str(root / "v1" / split)) if row["source"] == "human"]
    if model_spec == "base":
        from toolkit.nlp.models import reupload_folder  # where the pinned re-upload keeps it

        nlp, label_map = spacy.load(reupload_folder(cfg.spacy.model)), dict(cfg.label_map)
    else:
        nlp, label_map = spacy.load(model_spec), {}
    blank = spacy.blank("en")
    tp = predicted = gold = 0
    y_true, y_pred = [], []
    for row in rows:
        doc = nlp(row["text"])
        mine = set()
        for ent in doc.ents:
            label = label_map.get(ent.label_, ent.label_)
            if label not in cfg.labels:
                continue
            tokens = [t for t in ent if not (t.is_punct or t.is_space)]
            if tokens:
                mine.add((tokens[0].idx, tokens[-1].idx + len(tokens[-1]), label))
        truth = {(s["start"], s["end"], s["label"]) for s in row["spans"]}
        tp, predicted, gold = tp + len(mine & truth), predicted + len(mine), gold + len(truth)
        tokens = blank.make_doc(row["text"])
        words = [i for i, t in enumerate(tokens) if not t.is_space]
        for spans, into in ((truth, y_true), (mine, y_pred)):
            tags = biluo_to_iob(offsets_to_biluo_tags(tokens, sorted(spans)))
            into.append([tags[i] for i in words])
    strict = {"mode": "strict", "scheme": IOB2, "zero_division": 0}
    return {
        "exact": (tp / predicted if predicted else 0, tp / gold, 2 * tp / (predicted + gold)),
        "strict": tuple(f(y_true, y_pred, **strict) for f in (precision_score, recall_score, f1_score)),
        "articles": len(rows),
    }


@pytest.mark.parametrize("split", ["test", "validation"])
def test_the_figures_agree_with_an_independent_computation(setup, split):
    root, model = setup
    # The trained model saw the validation split: evaluate refuses it there (tested below).
    specs = [str(model), "base"] if split == "test" else ["base"]
    result = evaluate(specs, data=root, config=config(), split=split)
    for scores, spec in zip(result.models, specs):
        expected = _independent(spec, root, split)
        assert scores.articles == expected["articles"] == result.articles
        exact = scores.exact.prf()
        assert (exact.precision or 0, exact.recall, exact.f1) == pytest.approx(expected["exact"])
        strict = scores.strict.prf()
        assert (strict.precision or 0, strict.recall or 0, strict.f1 or 0) == pytest.approx(expected["strict"])


def test_edits_and_the_paired_difference(setup):
    root, model = setup
    result = evaluate(["base", str(model)], data=root, config=config(), split="test", seed=3)
    base, trained = result.models
    for scores in (base, trained):
        # Every gold span is accepted, relabelled, fixed or added; every predicted one accepted,
        # relabelled, fixed or deleted.
        gold = scores.exact.prf().gold
        paired = sum(scores.edits[k] for k in ("accepted unchanged", "relabelled", "boundary fixed"))
        assert paired + scores.edits["added"] == gold
        assert paired + scores.edits["deleted"] == scores.exact.prf().predicted
        assert scores.edits["accepted unchanged"] == scores.exact.prf().true_positives
    (comparison,) = result.comparisons
    assert comparison.reference == "base" and comparison.model == str(model)
    assert comparison.difference == pytest.approx(trained.exact.prf().f1 - base.exact.prf().f1)
    assert comparison.low <= comparison.difference <= comparison.high
    again = evaluate(["base", str(model)], data=root, config=config(), split="test", seed=3).comparisons[0]
    assert (again.low, again.high) == (comparison.low, comparison.high)
    as_json = json.loads(json.dumps(result.to_json()))
    assert as_json["models"][1]["exact"]["overall"]["f1"] == pytest.approx(trained.exact.prf().f1)
    assert as_json["comparisons"][0]["ci95"] == [comparison.low, comparison.high]


def test_paired_bootstrap_is_paired():
    # B beats A on every article by the same margin: a paired interval is tight around it.
    a = [(1, 2, 2)] * 30
    b = [(2, 2, 2)] * 30
    difference, low, high, note = paired_bootstrap(a, b, seed=0)
    assert difference == pytest.approx(0.5) and low == pytest.approx(0.5) and high == pytest.approx(0.5)
    assert note is None
    same = paired_bootstrap(a, a, seed=0)
    assert same[:3] == (0.0, 0.0, 0.0)


def test_errors(setup, tmp_path):
    root, model = setup
    with pytest.raises(InputError, match="has no 'dev' split"):
        evaluate(["base"], data=root, config=config(), split="dev")
    with pytest.raises(InputError, match="no such export"):
        evaluate(["base"], data=tmp_path / "missing", config=config())
    from toolkit.errors import ModelError

    with pytest.raises(ModelError, match="no such model folder"):
        evaluate([str(tmp_path / "nothing")], data=root, config=config())


def test_the_cli_prints_a_table_json_and_a_page(setup, tmp_path):
    from typer.testing import CliRunner

    from toolkit.cli import app

    root, model = setup
    config_path = str(__import__("tests.unit.train.exports", fromlist=["CONFIG"]).CONFIG)
    runner = CliRunner()
    page = tmp_path / "eval.html"
    shown = runner.invoke(
        app, ["evaluate", str(model), "base", "--data", str(root), "--config", config_path, "--html", str(page)]
    )
    assert shown.exit_code == 0, shown.output
    assert "micro" in shown.output and "paired bootstrap" in shown.output and "accepted unchanged" in shown.output
    assert page.read_text().count("data:image/png;base64,") == 2
    as_json = runner.invoke(app, ["evaluate", str(model), "--data", str(root), "--config", config_path, "--json"])
    assert as_json.exit_code == 0
    assert json.loads(as_json.stdout)["split"] == "test"


def test_base_is_the_keyword_even_beside_a_folder_named_base_and_says_so(setup, tmp_path, monkeypatch):
    """`evaluate base` in a folder holding ./base (a trained model): the keyword is used, and
    the output says so and how to pick the folder; `./base` is the folder."""
    import shutil

    from typer.testing import CliRunner

    from tests.unit.train.exports import CONFIG
    from toolkit.cli import app

    root, model = setup
    shutil.copytree(model, tmp_path / "base")
    monkeypatch.chdir(tmp_path)
    result = evaluate(["base"], data=root, config=config(), split="train")
    assert result.models[0].model.name == "en_core_web_sm"
    note = (
        "`base` is taken as the configured spacy.model (en_core_web_sm), not the folder ./base; "
        "to use the folder, give ./base"
    )
    assert result.notes == [note] and result.to_json()["notes"] == [note]
    folder = evaluate(["./base"], data=root, config=config(), split="test")
    assert folder.models[0].model.name != "en_core_web_sm" and folder.notes == []

    shown = CliRunner().invoke(app, ["evaluate", "base", "--data", str(root), "--config", str(CONFIG)])
    assert shown.exit_code == 0, shown.output
    assert f"Note: {note}" in " ".join(shown.output.split())


def test_a_near_miss_of_base_suggests_base(setup, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from tests.unit.train.exports import CONFIG
    from toolkit.cli import app
    from toolkit.errors import ModelError

    root, _ = setup
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match=r"^bse: no such model folder or installed pipeline; did you mean base\?$"):
        evaluate(["bse"], data=root, config=config())
    with pytest.raises(ModelError) as far:
        evaluate(["models/zzz-elsewhere"], data=root, config=config())
    assert "did you mean" not in str(far.value)
    shown = CliRunner().invoke(app, ["evaluate", "bse", "--data", str(root), "--config", str(CONFIG)])
    assert shown.exit_code == 1
    assert "bse: no such model folder or installed pipeline; did you mean base?" in " ".join(shown.output.split())


def test_tiny_data_is_said_names_are_whole_and_na_bars_are_explained(setup, tmp_path):
    """One test article: its F1 was printed like any other, as "1 human-annotated articles",
    under a table title cut to `models/ne…`, after a blank line; the page drew n/a labels as
    empty bars without a word."""
    from typer.testing import CliRunner

    from tests.unit.train.exports import CONFIG
    from toolkit.cli import app

    _, model = setup
    tiny = write_export(tmp_path, articles(12, seed=5))  # one article lands in test
    page = tmp_path / "eval.html"
    args = ["evaluate", "base", str(model), "--data", str(tiny), "--config", str(CONFIG), "--html", str(page)]
    shown = CliRunner().invoke(app, args, env={"COLUMNS": "80"})
    assert shown.exit_code == 0, shown.output
    output = shown.output
    assert f"test split of {tiny / 'v1'}: 1 human-annotated article, " in output
    assert "Note: every score of the test split rests on only 1 article (" in output
    assert "below 20 articles or 200 spans it is a rough figure" in output
    assert f"\n{model} (en_news_ner-" in output and "…" not in output
    assert not output.startswith("\n") and "\n\n" not in output
    html = page.read_text()
    assert "Note: every score of the test split rests on only 1 article" in html
    assert "Not plotted, F1 n/a (no gold and no predicted span): " in html and "NORP" in html.split("Not plotted")[1]


# -- never on articles a model saw (issue 28, item 5) ---------------------------------------


def _printed(result):
    """The console document of ``result``, its white space runs as one space."""
    from io import StringIO

    from rich.console import Console

    from toolkit.evaluate import view
    from toolkit.render.console import print_document

    console = Console(file=StringIO(), width=200)
    print_document(console, view.evaluation(result))
    return " ".join(console.file.getvalue().split())


def _human(root, split, version="v1"):
    import datasets

    return [row for row in datasets.load_from_disk(str(root / version / split)) if row["source"] == "human"]


@pytest.fixture(scope="module")
def resplit(setup, tmp_path_factory):
    """The same articles exported again after export.splits changed (test: 0.1 -> 0.5), eight of
    them under new ids: most of v2's test articles were in v1's train or validation split."""
    tmp = tmp_path_factory.mktemp("resplit")
    records = articles(60, seed=5)
    for record in records[:8]:
        record["id"] = "renamed-" + record["id"]
    cfg = config()
    cfg = cfg.model_copy(
        update={"export": cfg.export.model_copy(update={"splits": {"train": 0.4, "validation": 0.1, "test": 0.5}})}
    )
    return write_export(tmp, records, cfg, name="resplit")


def test_a_resplit_export_leaves_out_the_articles_the_model_saw_and_counts_them(setup, resplit):
    """v1's model evaluated on v2 after export.splits changed: it was scored on the articles it
    had trained on (F1 near 1, no warning); now those are left out, by id or by text."""
    root, model = setup
    seen_ids = {row["id"] for split in ("train", "validation") for row in _human(root, split)}
    seen_texts = {row["text"] for split in ("train", "validation") for row in _human(root, split)}
    test = _human(resplit, "test")
    seen = [row for row in test if row["id"] in seen_ids or row["text"] in seen_texts]
    by_text_only = [row for row in seen if row["id"] not in seen_ids]
    assert len(seen) >= 10 and by_text_only and len(seen) < len(test)  # the fixture is what it says

    result = evaluate([str(model), "base"], data=resplit, config=config())
    assert result.articles == len(test) - len(seen)
    assert result.gold_spans == sum(len(row["spans"]) for row in test if row not in seen)
    assert all(scores.articles == result.articles for scores in result.models)
    as_json = json.loads(json.dumps(result.to_json()))
    assert as_json["left_out"] == {
        "articles": len(seen),
        "of": len(test),
        "by_model": {str(model): len(seen), "base": 0},
        "checked": [str(model)],
        "unchecked": [],
    }
    assert as_json["small_sample"]["below"] == {"articles": 20, "spans": 200}

    said = (
        f"Left out: {len(seen)} of the split's {len(test)} articles, seen in training, train or validation split "
        f"({model} saw {len(seen)}); scored on the other {len(test) - len(seen)}."
    )
    assert said in _printed(result)
    import html

    from toolkit.evaluate import view
    from toolkit.render.html import html_document

    assert html.escape(said) in " ".join(html_document(view.evaluation(result)).split())


def test_every_article_seen_is_refused_naming_the_model_and_the_split(setup):
    root, model = setup
    for split in ("train", "validation"):
        with pytest.raises(InputError) as refused:
            evaluate([str(model)], data=root, config=config(), split=split)
        rows = len(_human(root, split))
        assert str(refused.value) == (
            f"{model}: saw all {rows} human-annotated articles of the {split} split of {root / 'v1'} in training "
            "(its train or validation split, by id or text); no article is left to score on"
        )
        assert refused.value.hint.startswith("choose another split (split), or evaluate on an export")


def test_the_cli_refuses_when_every_article_was_seen(setup):
    from typer.testing import CliRunner

    from tests.unit.train.exports import CONFIG
    from toolkit.cli import app

    root, model = setup
    shown = CliRunner().invoke(
        app, ["evaluate", "base", str(model), "--data", str(root), "--config", str(CONFIG), "--split", "train"]
    )
    assert shown.exit_code == 1
    said = " ".join(shown.output.split())
    assert f"Error: {model}: saw all " in said and "of the train split of" in said
    assert "hint: choose another split (--split), or evaluate on an export" in said
    assert "Traceback" not in shown.output


def test_a_base_model_leaves_nothing_out_and_an_unrecorded_model_is_said_unchecked(setup, tmp_path):
    import shutil

    from toolkit.errors import ModelError
    from toolkit.nlp.seen import ARTICLES_FILE, META_KEY

    root, model = setup
    result = evaluate(["base"], data=root, config=config(), split="train")
    assert result.articles == len(_human(root, "train"))
    assert result.to_json()["left_out"] == {
        "articles": 0, "of": result.articles, "by_model": {"base": 0}, "checked": [], "unchecked": [],
    }  # fmt: skip

    # A model of an older toolkit: no record; scored on every article, and said it cannot be checked.
    older = tmp_path / "older"
    shutil.copytree(model, older)
    meta = json.loads((older / "meta.json").read_text())
    del meta["toolkit"][META_KEY]
    (older / "meta.json").write_text(json.dumps(meta))
    (older / ARTICLES_FILE).unlink()
    result = evaluate([str(older)], data=root, config=config(), split="test")
    assert result.left_out.unchecked == (str(older),) and result.to_json()["left_out"]["by_model"] == {str(older): None}
    text = _printed(result)
    assert f"Note: {older} was trained by an older toolkit that did not record its articles" in text

    # A record meta.json points to but that is gone: refused, not scored as if unseen.
    gone = tmp_path / "gone"
    shutil.copytree(model, gone)
    (gone / ARTICLES_FILE).unlink()
    with pytest.raises(ModelError, match=rf"^{gone / ARTICLES_FILE}: cannot read"):
        evaluate([str(gone)], data=root, config=config(), split="test")


def test_a_model_trained_on_the_same_export_leaves_out_none_of_its_test_split(setup):
    root, model = setup
    result = evaluate([str(model)], data=root, config=config(), split="test")
    assert result.left_out.articles == 0 and result.articles == len(_human(root, "test"))
    assert result.to_json()["left_out"]["by_model"] == {str(model): 0}
