"""toolkit report on small annotation sets built by hand; every expected figure is worked out here.

Tokens come from a blank English tokenizer (the same rules as en_core_web_sm's for these
sentences), so the token-level figures can be checked by hand without loading a model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import spacy
from typer.testing import CliRunner

from toolkit.cli import app
from toolkit.config import parse_config
from toolkit.records import AnnotatedArticle, Span, ledger_path
from toolkit.report.build import (
    NOT_ENOUGH_DATA,
    build_report,
    classify_edits,
    report,
    report_markdown,
    token_tags,
)

MAKE_DOC = spacy.blank("en").tokenizer


def span(text: str, needle: str, label: str, *, trailing: int = 0) -> dict:
    start = text.index(needle)
    return {"start": start, "end": start + len(needle) + trailing, "label": label}


def article(
    task_id: int, text: str, annotations: list[dict], *, predictions: list[dict] | None = None, **extra
) -> AnnotatedArticle:
    """An annotated article as pull writes it; the last annotation is the chosen one."""
    annotations = [{"id": task_id * 100 + i, **a} for i, a in enumerate(annotations)]
    return AnnotatedArticle.model_validate(
        {
            "id": f"article-{task_id}",
            "text": text,
            "task_id": task_id,
            "spans": annotations[-1]["spans"],
            "chosen": [annotations[-1]["id"]],
            "annotations": annotations,
            "predictions": predictions or [],
            **extra,
        }
    )


def build(articles, config, **kwargs):
    return build_report(articles, config=config, make_doc=MAKE_DOC, tokenizer="blank en", **kwargs)


def by_label(rows) -> dict:
    return {row.label: row for row in rows}


# ------------------------------------------------------------ model against human

TEXT_1 = "Angela Merkel met Olaf Scholz in Berlin and the Red Cross in Paris."
TEXT_2 = "Reuters reported from Tokyo on Monday."


@pytest.fixture
def corrected(config):
    """Two articles with predictions the annotator corrected, one without predictions.

    Article 1: "Angela Merkel" accepted; "Olaf" -> "Olaf Scholz" and "the Red Cross" ->
    "Red Cross" (boundaries fixed); "Berlin" LOC -> GPE (relabelled); "Paris" PERSON deleted.
    Article 2: "Reuters " (trailing space) -> "Reuters" (a boundary fix inside one token:
    exact match misses it, token-level strict IOB2 does not); "Tokyo" GPE added.
    """
    predicted_1 = [
        span(TEXT_1, "Angela Merkel", "PERSON"),
        span(TEXT_1, "Olaf", "PERSON"),
        span(TEXT_1, "Berlin", "LOC"),
        span(TEXT_1, "the Red Cross", "ORG"),
        span(TEXT_1, "Paris", "PERSON"),
    ]
    human_1 = [
        span(TEXT_1, "Angela Merkel", "PERSON"),
        span(TEXT_1, "Olaf Scholz", "PERSON"),
        span(TEXT_1, "Berlin", "GPE"),
        span(TEXT_1, "Red Cross", "ORG"),
    ]
    predicted_2 = [span(TEXT_2, "Reuters", "ORG", trailing=1)]
    human_2 = [span(TEXT_2, "Reuters", "ORG"), span(TEXT_2, "Tokyo", "GPE")]
    return [
        article(
            1,
            TEXT_1,
            [{"annotator": "ann-a", "spans": human_1, "lead_time": 30.0, "model_version": "m-1"}],
            predictions=[{"model_version": "m-1", "spans": predicted_1}],
        ),
        article(
            2,
            TEXT_2,
            [{"annotator": "ann-a", "spans": human_2, "lead_time": 50.0, "model_version": "m-1"}],
            predictions=[{"model_version": "m-1", "spans": predicted_2}],
        ),
        article(3, "Nothing here.", [{"annotator": "ann-b", "spans": [], "lead_time": 4.0}]),
    ]


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
        doc = MAKE_DOC(item.text)
        true.append(token_tags(doc, item.spans)[0])
        predicted.append(token_tags(doc, item.predictions[0].spans)[0])
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


def test_classify_edits_pairs_one_to_one():
    predicted = [Span(start=0, end=10, label="ORG")]
    human = [Span(start=0, end=4, label="ORG"), Span(start=5, end=10, label="ORG")]
    # A predicted span split in two: one half is its boundary fix, the other was added.
    assert [kind for kind, _, _ in classify_edits(predicted, human)] == ["boundary fixed", "added"]
    # Both the label and the boundary changed: relabelled.
    assert [k for k, _, _ in classify_edits(predicted, [Span(start=2, end=10, label="GPE")])] == ["relabelled"]


# ------------------------------------------------------------ agreement

TEXT_A = "Angela Merkel visited Paris ."
TEXT_B = "Olaf Scholz left ."


@pytest.fixture
def overlapping():
    """Task A: x and y; task B: x, y and z (z found nothing).

    Tags, A (5 tokens): x B-PERSON I-PERSON O B-GPE O; y B-PERSON I-PERSON O O O.
    Tags, B (4 tokens): x and y B-PERSON I-PERSON O O; z O O O O.
    """
    person_a, gpe_a, person_b = (
        span(TEXT_A, "Angela Merkel", "PERSON"),
        span(TEXT_A, "Paris", "GPE"),
        span(TEXT_B, "Olaf Scholz", "PERSON"),
    )
    return [
        article(1, TEXT_A, [{"annotator": "x", "spans": [person_a, gpe_a]}, {"annotator": "y", "spans": [person_a]}]),
        article(
            2,
            TEXT_B,
            [
                {"annotator": "x", "spans": [person_b]},
                {"annotator": "y", "spans": [person_b]},
                {"annotator": "z", "spans": []},
            ],
        ),
    ]


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


# ------------------------------------------------------------ annotators and progress


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


def test_markdown_carries_the_figures(corrected, overlapping, config):
    text = report_markdown(build(corrected + overlapping, config))
    assert "seqeval, mode=strict, scheme=IOB2" in text
    assert "accepted unchanged 1, boundary fixed 3, relabelled 1, deleted 1, added 1" in text
    assert "| overall | 2 | 0.571 |" in text  # agreement: 2 tasks, span F1 4/7


def test_default_tokenizer_is_the_configured_models(config, pipeline):
    result = build_report(
        [article(1, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": []}])], config=config
    )
    assert result.tokenizer == f"{pipeline.model.name} {pipeline.model.version} tokenizer"


def test_unloadable_model_falls_back_to_a_blank_tokenizer_and_says_so(config):
    data = config.model_dump()
    data["spacy"] = {"model": "no_such_model_xyz", "fallback_models": []}
    broken = parse_config(data)
    result = build_report(
        [article(1, TEXT_B, [{"annotator": "x", "spans": []}, {"annotator": "y", "spans": []}])], config=broken
    )
    assert result.tokenizer.startswith("blank spacy.blank('en') tokenizer (model not loadable:")
    assert result.agreement.tokens == 4


# ------------------------------------------------------------ command line

runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, list(args), env={"TOOLKIT_DEBUG": ""})


@pytest.fixture
def pulled(tmp_path, corrected, overlapping) -> Path:
    source = tmp_path / "annotations.jsonl"
    source.write_text("".join(a.model_dump_json() + "\n" for a in corrected + overlapping))
    return source


def test_cli_prints_every_section(pulled):
    result = invoke("report", str(pulled))
    assert result.exit_code == 0, result.output
    for heading in ("Progress", "Model against human", "Agreement", "Per annotator"):
        assert heading in result.output
    assert "seqeval strict mode, IOB2 scheme" in result.output
    assert "exact span match" in result.output
    assert "boundary fixed" in result.output and "33-39 LOC 'Berlin' -> 33-39 GPE 'Berlin'" in result.output


def test_cli_json_is_the_library_report(pulled, config):
    result = invoke("report", str(pulled), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    expected = report(pulled, config=config).model_dump(mode="json")
    assert data == expected
    assert data["model"]["edits"]["boundary fixed"] == 3


def test_cli_writes_the_html_page(pulled, tmp_path):
    page = tmp_path / "exports" / "news-ner" / "report.html"
    result = invoke("report", str(pulled), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert f"Wrote the HTML report to {page}" in result.output
    html = page.read_text()
    assert html.startswith("<!doctype html>")
    for alt in ("label distribution", "edit types", "agreement per label"):
        assert f'<img alt="{alt}" src="data:image/png;base64,' in html
    assert "seqeval strict mode, IOB2 scheme" in html and "&#x27;Berlin&#x27;" in html


def test_cli_not_enough_data_is_said_plainly(tmp_path, config):
    source = tmp_path / "annotations.jsonl"
    source.write_text(
        article(1, TEXT_A, [{"annotator": "x", "spans": [span(TEXT_A, "Paris", "GPE")]}]).model_dump_json() + "\n"
    )
    page = tmp_path / "report.html"
    result = invoke("report", str(source), "--html", str(page))
    assert result.exit_code == 0, result.output
    assert "Not enough data: no annotated task carries a prediction" in result.output
    assert "Not enough data: no task was submitted by two or more annotators" in result.output
    assert "Not enough data" in page.read_text()


def test_cli_missing_and_broken_input(tmp_path):
    result = invoke("report", str(tmp_path / "none.jsonl"))
    assert result.exit_code == 1
    assert "none.jsonl: file not found" in result.output and "toolkit pull --out" in result.output
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"id": "a", "text": "x", "task_id": 1}\n')
    result = invoke("report", str(broken))
    assert result.exit_code == 1
    assert f"{broken}:1: not an annotated article record" in result.output
    assert "Traceback" not in result.output


def test_cli_broken_ledger_names_the_ledger_line(pulled):
    ledger_path(pulled).write_text(
        '{"kind": "task_not_annotated", "reason": "x", "task_id": 3}\n{"kind": "nonsense"}\n'
    )
    result = invoke("report", str(pulled), "--json")
    assert result.exit_code == 1
    assert f"{ledger_path(pulled)}:2: not a pull ledger record" in result.output


def test_strict_entities_are_seqevals_own():
    import random

    from seqeval.scheme import IOB2, Entities

    from toolkit.report.build import strict_entities

    rng = random.Random(7)
    # Malformed sequences too (an I- after O or after another label, B-A I-B, ...).
    for _ in range(3000):
        tags = [
            rng.choice(["O", "O", "O", "B-A", "I-A", "B-B", "I-B", "B-AB", "I-AB"]) for _ in range(rng.randint(0, 40))
        ]
        assert strict_entities(tags, 3) == [((3, e.start, e.end), e.tag) for e in Entities([tags], IOB2).entities[0]]


def test_kappa_matches_scikit_learn(overlapping, config):
    from sklearn.metrics import cohen_kappa_score

    rows = by_label(build(overlapping, config).agreement.per_label)
    first, second = [], []
    for item in overlapping:
        tags = {a.annotator: token_tags(MAKE_DOC(item.text), a.spans)[0] for a in item.annotations}
        for a, b in [("x", "y"), ("x", "z"), ("y", "z")]:
            if a in tags and b in tags:
                first += tags[a]
                second += tags[b]
    assert rows["overall"].cohen_kappa == pytest.approx(cohen_kappa_score(first, second))


def test_help_lists_report_and_stays_light():
    import subprocess
    import sys

    result = invoke("--help")
    assert result.exit_code == 0 and "report" in result.output
    # `toolkit --help` must not import the report's heavy libraries.
    heavy = "('spacy', 'seqeval', 'matplotlib', 'krippendorff', 'toolkit.report.build')"
    code = f"import sys; from toolkit.cli import app; print(sorted(m for m in {heavy} if m in sys.modules))"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "[]"
    )


def test_cli_unwritable_html_fails_before_printing(pulled, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = invoke("report", str(pulled), "--json", "--html", str(blocker / "report.html"))
    assert result.exit_code == 1
    assert "report.html: cannot write" in result.output
    assert '"progress"' not in result.output  # no JSON printed before the failure


def test_the_articles_are_read_in_one_pass_and_not_kept(corrected, overlapping, config):
    # export builds the report of a whole pull: a one-shot iterator gives the same report
    # as a list, and every article is asked for exactly once.
    articles = [*corrected, *overlapping]
    asked = []

    def once():
        for article in articles:
            asked.append(article.task_id)
            yield article

    streamed = build(once(), config)
    assert asked == [article.task_id for article in articles]
    assert streamed.model_dump() == build(list(articles), config).model_dump()
    assert streamed.agreement.status == "ok" and streamed.model.status == "ok"
