"""Building the report (toolkit.report.build and its tallies) on small sets built by hand;
every expected figure is worked out here."""

from __future__ import annotations

import json

import pytest

from tests.unit.report.articles import MAKE_DOC, TEXT_2, TEXT_A, TEXT_B, article, build, by_label, span
from toolkit.config import parse_config
from toolkit.nlp.alignment import align
from toolkit.records import AnnotatedArticle, ledger_path
from toolkit.report import build_report, report, report_markdown
from toolkit.report.model import NOT_ENOUGH_DATA


def tags(text, spans) -> list[str]:
    """The tags the report gives these spans (the config's default alignment: strict, else expand)."""
    return align(MAKE_DOC(text), sorted(s.key for s in spans), mode="strict", fallback="expand", check=False).tags


def invoke(*args: str):
    from typer.testing import CliRunner

    from toolkit.cli import app

    return CliRunner().invoke(app, list(args), env={"TOOLKIT_DEBUG": ""})


# ------------------------------------------------------------ model against human


def test_edit_types_are_counted_with_examples(corrected, config):
    model = build(corrected, config).model
    assert model.status == "ok"
    assert (model.tasks, model.tasks_without_predictions, model.model_versions) == (2, 1, ["m-1"])
    assert model.edits == {"accepted unchanged": 1, "boundary fixed": 3, "relabelled": 1, "deleted": 1, "added": 1}
    assert [e.before for e in model.examples["relabelled"]] == ["33-39 LOC 'Berlin'"]
    assert [e.after for e in model.examples["relabelled"]] == ["33-39 GPE 'Berlin'"]
    assert [(e.before, e.after, e.task_id) for e in model.examples["added"]] == [(None, "22-27 GPE 'Tokyo'", 2)]
    assert [e.before for e in model.examples["deleted"]] == ["61-66 PERSON 'Paris'"]


def test_exact_span_scores_by_hand(corrected, config):
    rows = by_label(build(corrected, config).model.exact_span)
    # Predicted: PERSON 3 (Angela Merkel, Olaf, Paris), LOC 1, ORG 2. Human: PERSON 2, GPE 2, ORG 2.
    # Only "Angela Merkel" PERSON is identical.
    assert list(rows) == ["PERSON", "ORG", "GPE", "LOC", "overall"]
    assert (rows["overall"].true_positives, rows["overall"].predicted, rows["overall"].gold) == (1, 6, 6)
    assert rows["overall"].precision == pytest.approx(1 / 6)
    assert rows["overall"].recall == pytest.approx(1 / 6)
    assert rows["overall"].f1 == pytest.approx(2 * (1 / 6) * (1 / 6) / (1 / 6 + 1 / 6))
    assert (rows["PERSON"].precision, rows["PERSON"].recall) == (pytest.approx(1 / 3), pytest.approx(1 / 2))
    assert rows["PERSON"].f1 == pytest.approx(2 * (1 / 3) * (1 / 2) / (1 / 3 + 1 / 2))
    assert (rows["ORG"].precision, rows["ORG"].recall, rows["ORG"].f1) == (0, 0, 0)
    # Nothing predicted as GPE: precision is undefined, not a division by zero.
    assert (rows["GPE"].precision, rows["GPE"].recall, rows["GPE"].f1) == (None, 0, 0)
    assert (rows["LOC"].precision, rows["LOC"].recall, rows["LOC"].f1) == (0, None, 0)


def test_strict_iob2_scores_by_hand_and_against_seqeval(corrected, config):
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    rows = by_label(build(corrected, config).model.strict_iob2)
    # On tokens "Reuters " and "Reuters" are the same entity: two matches (Angela Merkel, Reuters).
    assert (rows["overall"].true_positives, rows["overall"].predicted, rows["overall"].gold) == (2, 6, 6)
    assert rows["overall"].precision == rows["overall"].recall == pytest.approx(2 / 6)
    assert rows["ORG"].precision == rows["ORG"].recall == rows["ORG"].f1 == pytest.approx(1 / 2)
    # The same figures from seqeval's own report in strict IOB2 mode.
    true, predicted = [], []
    for item in corrected[:2]:
        true.append(tags(item.text, item.spans))
        predicted.append(tags(item.text, item.predictions[0].spans))
    expected = classification_report(true, predicted, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    assert rows["overall"].precision == pytest.approx(expected["micro avg"]["precision"])
    assert rows["overall"].recall == pytest.approx(expected["micro avg"]["recall"])
    assert rows["PERSON"].f1 == pytest.approx(expected["PERSON"]["f1-score"])
    assert rows["ORG"].f1 == pytest.approx(expected["ORG"]["f1-score"])


def test_no_predictions_gives_not_enough_data(config):
    articles = [article(1, TEXT_2, [{"annotator": "ann-a", "spans": [span(TEXT_2, "Tokyo", "GPE")], "lead_time": 8.0}])]
    result = build(articles, config)
    assert result.model.status == NOT_ENOUGH_DATA
    assert "no annotated task carries a prediction" in result.model.reason
    assert result.model.tasks_without_predictions == 1
    (row,) = result.annotators
    assert (row.predicted_spans, row.accepted_unchanged, row.accepted_share, row.flagged) == (0, 0, None, False)
    assert "Not enough data: no annotated task carries a prediction" in report_markdown(result)


def test_agreement_by_hand(overlapping, config):
    agreement = build(overlapping, config).agreement
    assert agreement.status == "ok"
    assert (agreement.tasks, agreement.annotators, agreement.pairs, agreement.tokens) == (2, 3, 4, 9)
    rows = by_label(agreement.per_label)
    assert list(rows) == ["PERSON", "GPE", "overall"]
    assert (rows["overall"].tasks, rows["PERSON"].tasks, rows["GPE"].tasks) == (2, 2, 1)
    assert (rows["overall"].pairs, rows["PERSON"].pairs, rows["GPE"].pairs) == (4, 4, 1)

    # Pairwise span F1 = 2 * matches / (spans of first + spans of second), summed over pairs:
    # A(x,y): 2*1 / (2+1); B(x,y): 2*1 / (1+1); B(x,z): 0 / 1; B(y,z): 0 / 1.
    assert rows["overall"].span_f1 == pytest.approx((2 + 2 + 0 + 0) / (3 + 2 + 1 + 1))
    assert rows["PERSON"].span_f1 == pytest.approx((2 + 2) / (2 + 2 + 1 + 1))
    assert rows["GPE"].span_f1 == 0

    # Cohen's kappa on the tags of all pairs pooled (17 token pairs):
    # agreeing: A 4 + B(x,y) 4 + B(x,z) 2 + B(y,z) 2 = 12.
    # first rater (x, x, x, y): B-PERSON 4, I-PERSON 4, B-GPE 1, O 8.
    # second rater (y, y, z, z): B-PERSON 2, I-PERSON 2, O 13.
    observed = 12 / 17
    chance = (4 * 2 + 4 * 2 + 1 * 0 + 8 * 13) / 17**2
    assert rows["overall"].cohen_kappa == pytest.approx((observed - chance) / (1 - chance))
    # Per label GPE: one disagreement; the second rater never says GPE, so chance = observed.
    assert rows["GPE"].cohen_kappa == pytest.approx(0)

    # Krippendorff's alpha, nominal: 9 units (tokens); A's with 2 values, B's with 3.
    # Coincidences across values (each pair in a unit of m values weighs 1/(m-1)):
    # A token 4 (B-GPE, O): 2 ordered pairs * 1; B token 1 (B, B, O): 4 ordered pairs * 1/2;
    # B token 2 (I, I, O) the same.
    disagreeing = 2 * 1 + 4 * 0.5 + 4 * 0.5
    # Values: B-PERSON 4, I-PERSON 4, B-GPE 1, O 13; n = 22.
    n = 4 + 4 + 1 + 13
    expected_disagreement = n * n - (4 * 4 + 4 * 4 + 1 * 1 + 13 * 13)
    assert rows["overall"].krippendorff_alpha == pytest.approx(1 - (n - 1) * disagreeing / expected_disagreement)
    # GPE alone: values B-GPE 1, O 21; the one disagreeing pair weighs 2.
    assert rows["GPE"].krippendorff_alpha == pytest.approx(1 - (n - 1) * 2 / (n * n - (1 + 21 * 21)))
    assert rows["PERSON"].krippendorff_alpha == pytest.approx(
        # PERSON alone: B 4, I 4, O 14; disagreements only in task B with z: 2 + 2.
        1 - (n - 1) * 4 / (n * n - (16 + 16 + 14 * 14))
    )


def test_no_overlap_between_annotators_gives_not_enough_data(config, tmp_path):
    articles = [
        article(1, TEXT_A, [{"annotator": "x", "spans": [span(TEXT_A, "Paris", "GPE")]}]),
        article(2, TEXT_B, [{"annotator": "y", "spans": []}]),
    ]
    result = build(articles, config)
    assert result.agreement.status == NOT_ENOUGH_DATA
    assert "no task was submitted by two or more annotators" in result.agreement.reason
    assert result.agreement.per_label == []
    assert "Not enough data: no task was submitted by two or more annotators" in report_markdown(result)


def test_agreement_on_nothing_is_undefined_not_a_division_by_zero(config):
    # Two annotators agree that a task has no entity: no span, every token O.
    articles = [article(1, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": []}])]
    (overall,) = build(articles, config).agreement.per_label
    assert (overall.span_f1, overall.cohen_kappa, overall.krippendorff_alpha) == (None, None, None)
    assert "no span on either side" in overall.reason and "same tag" in overall.reason


def test_an_annotators_latest_annotation_counts_once(config):
    person = span(TEXT_B, "Olaf Scholz", "PERSON")
    articles = [
        article(
            1,
            TEXT_B,
            [
                {"annotator": "x", "spans": [], "updated_at": "2026-01-01T00:00:00Z"},
                {"annotator": "x", "spans": [person], "updated_at": "2026-01-02T00:00:00Z"},
                {"annotator": "y", "spans": [person], "updated_at": "2026-01-01T00:00:00Z"},
            ],
        )
    ]
    agreement = build(articles, config).agreement
    assert (agreement.tasks, agreement.pairs) == (1, 1)
    assert by_label(agreement.per_label)["overall"].span_f1 == 1


def accepted_tasks(annotator: str, lead_times: list[float], first_task: int) -> list[AnnotatedArticle]:
    person = span(TEXT_B, "Olaf Scholz", "PERSON")
    return [
        article(
            first_task + i,
            TEXT_B,
            [{"annotator": annotator, "spans": [person], "lead_time": lead, "model_version": "m-1"}],
            predictions=[{"model_version": "m-1", "spans": [person]}],
        )
        for i, lead in enumerate(lead_times)
    ]


def test_fast_acceptors_are_flagged_with_configurable_thresholds(config):
    articles = accepted_tasks("fast", [2, 3, 4, 5, 100], 1) + accepted_tasks("careful", [30, 41], 10)
    # "careful" also fixes one of two predicted spans in a third task.
    both = [span(TEXT_A, "Angela Merkel", "PERSON"), span(TEXT_A, "Paris", "PERSON")]
    fixed = [span(TEXT_A, "Angela Merkel", "PERSON"), span(TEXT_A, "Paris", "GPE")]
    articles.append(
        article(
            20,
            TEXT_A,
            [{"annotator": "careful", "spans": fixed, "lead_time": 90, "model_version": "m-1"}],
            predictions=[{"model_version": "m-1", "spans": both}],
        )
    )
    rows = {row.annotator: row for row in build(articles, config).annotators}
    assert (rows["fast"].tasks, rows["fast"].median_lead_time, rows["fast"].accepted_share) == (5, 4, 1.0)
    assert rows["fast"].flagged and "accepted 100% of predictions unchanged" in rows["fast"].flag_reason
    # Median of 30, 41, 90 is 41; 3 of 4 predicted spans accepted.
    assert (rows["careful"].tasks, rows["careful"].median_lead_time) == (3, 41)
    assert (rows["careful"].predicted_spans, rows["careful"].accepted_unchanged) == (4, 3)
    assert rows["careful"].accepted_share == 0.75 and not rows["careful"].flagged

    data = config.model_dump()
    data["report"] = {"min_tasks": 6}
    assert not any(row.flagged for row in build(articles, parse_config(data)).annotators)
    data["report"] = {"min_tasks": 2, "fast_lead_time": 60, "accept_share": 0.7}
    assert {row.annotator for row in build(articles, parse_config(data)).annotators if row.flagged} == {
        "fast",
        "careful",
    }


def test_bad_thresholds_are_config_errors(config):
    from toolkit.errors import ConfigError

    data = config.model_dump()
    data["report"] = {"accept_share": 1.5, "min_task": 3}
    with pytest.raises(ConfigError) as error:
        parse_config(data)
    assert "[report.accept_share]" in str(error.value) and "[report.min_task] unknown key" in str(error.value)


def test_progress_counts_tasks_skips_and_drafts_once(config, tmp_path):
    person = span(TEXT_B, "Olaf Scholz", "PERSON")
    articles = [
        article(1, TEXT_B, [{"annotator": "x", "spans": [person]}], skipped_by=["y"], drafts=1),
        article(2, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": [person]}]),
    ]
    ledger = [
        {"kind": "task_not_annotated", "reason": "no annotation", "task_id": 3},
        {"kind": "task_only_skipped", "reason": "every annotation skipped", "task_id": 4},
        {"kind": "annotation_skipped", "reason": "skipped", "task_id": 4, "annotator": "z"},
        # The skip on task 1 is also in the article's skipped_by: counted once.
        {"kind": "annotation_skipped", "reason": "skipped", "task_id": 1, "annotator": "y"},
        # The draft on task 1 is also counted on the article: once.
        {"kind": "annotation_draft", "reason": "draft", "task_id": 1, "annotator": "z"},
        {"kind": "annotation_draft", "reason": "draft", "task_id": 3, "annotator": "z"},
        {"kind": "annotation_not_chosen", "reason": "older", "task_id": 2, "annotator": "x"},
        {"kind": "span_dropped", "reason": "label not in the config", "task_id": 2, "annotator": "y"},
        {"kind": "span_dropped", "reason": "label not in the config", "task_id": 1, "annotator": "x"},
        {"kind": "span_dropped", "reason": "offsets outside the text", "task_id": 1, "annotator": "x"},
        {"kind": "span_repaired", "reason": "re-anchored", "task_id": 1, "annotator": "x"},
    ]
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(a.model_dump_json() + "\n" for a in articles))
    ledger_path(source).write_text("".join(json.dumps(entry) + "\n" for entry in ledger))
    result = report(source, config=config, make_doc=MAKE_DOC, tokenizer="blank en")
    p = result.progress
    assert p.ledger == str(ledger_path(source))
    assert (p.tasks_total, p.annotated, p.not_annotated, p.only_skipped) == (4, 2, 1, 1)
    assert (p.skipped_annotations, p.drafts) == (2, 2)
    assert p.spans_dropped == {"label not in the config": 2, "offsets outside the text": 1}
    assert p.spans_repaired == 1
    shown = invoke("report", str(source))
    assert shown.exit_code == 0, shown.output
    assert "Pull left out 3 human spans (label not in the config 2, offsets outside the text 1)" in shown.output
    rows = {row.annotator: (row.tasks, row.skipped, row.drafts) for row in result.annotators}
    assert rows == {"x": (2, 0, 0), "y": (1, 1, 0), "z": (0, 1, 2)}

    # Without a ledger the tasks nobody annotated are unknown, and the report says so.
    ledger_path(source).unlink()
    p = report(source, config=config, make_doc=MAKE_DOC).progress
    assert (p.ledger, p.tasks_total, p.not_annotated, p.annotated) == (None, None, None, 2)
    assert "unknown (no pull ledger)" in report_markdown(report(source, config=config, make_doc=MAKE_DOC))


def test_empty_input_is_not_enough_data_everywhere(config):
    result = build([], config)
    assert result.model.status == result.agreement.status == NOT_ENOUGH_DATA
    assert result.annotators == [] and result.tokenizer is None
    assert "no annotator in the input" in report_markdown(result)


def test_default_tokenizer_is_the_configured_models(config, pipeline):
    result = build_report(
        [article(1, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": []}])], config=config
    )
    assert result.tokenizer == f"{pipeline.model.name} {pipeline.model.version} tokenizer"


def test_unloadable_model_is_a_model_error_not_a_blank_tokenizer(config, tmp_path):
    # The report tokenizes as the export does: with the configured model, or not at all.
    from toolkit.errors import ModelError

    data = config.model_dump(mode="json")
    data["spacy"] = {"model": "no_such_model_xyz", "fallback_models": []}
    broken = parse_config(data)
    shared = [article(1, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": []}])]
    with pytest.raises(ModelError, match=r"\[spacy.model\] no_such_model_xyz is not installed"):
        build_report(shared, config=broken)

    # On the command line: the clear error, exit 1, nothing on stdout.
    import yaml

    config_file = tmp_path / "broken.yaml"
    config_file.write_text(yaml.safe_dump(data))
    source = tmp_path / "annotations.jsonl"
    source.write_text(shared[0].model_dump_json() + "\n")
    result = invoke("report", str(source), "--config", str(config_file))
    assert result.exit_code == 1
    assert "[spacy.model] no_such_model_xyz is not installed" in result.output
    assert "Traceback" not in result.output and "Report on" not in result.output


def test_the_articles_are_read_in_one_pass_and_not_kept(corrected, overlapping, config):
    # export builds the report of a whole pull: a one-shot iterator gives the same report
    # as a list, and every article is asked for exactly once.
    articles = [*corrected, *overlapping]
    asked = []

    def once():
        for item in articles:
            asked.append(item.task_id)
            yield item

    streamed = build(once(), config)
    assert asked == [item.task_id for item in articles]
    assert streamed.model_dump() == build(list(articles), config).model_dump()
    assert streamed.agreement.status == "ok" and streamed.model.status == "ok"


def test_kappa_matches_scikit_learn(overlapping, config):
    from sklearn.metrics import cohen_kappa_score

    rows = by_label(build(overlapping, config).agreement.per_label)
    first, second = [], []
    for item in overlapping:
        tagged = {a.annotator: tags(item.text, a.spans) for a in item.annotations}
        for a, b in [("x", "y"), ("x", "z"), ("y", "z")]:
            if a in tagged and b in tagged:
                first += tagged[a]
                second += tagged[b]
    assert rows["overall"].cohen_kappa == pytest.approx(cohen_kappa_score(first, second))


def test_partial_tallies_merge_into_the_report_of_all_articles(corrected, overlapping, config):
    # Two builders over the two halves of a pull, their tallies merged: the report of the
    # whole pull (edit examples in the pull's order: the first half's first).
    from toolkit.report import ReportBuilder

    articles = [*corrected, *overlapping]
    whole = build(articles, config)
    first, second = (ReportBuilder(config=config, make_doc=MAKE_DOC, tokenizer="blank en") for _ in range(2))
    for number, item in enumerate(articles):
        (first if number < 2 else second).add(item)
    first.tally.merge(second.tally)
    assert first.finish().model_dump() == whole.model_dump()


def test_a_missing_pull_output_names_the_command_that_writes_it(config, tmp_path):
    from toolkit.errors import InputError
    from toolkit.report import report

    with pytest.raises(InputError, match="none.jsonl: file not found") as raised:
        report(tmp_path / "none.jsonl", config=config)
    assert raised.value.hint == "write it with `toolkit pull --out FILE.jsonl`"
