"""Small annotation sets built by hand for the report's tests; every expected figure is worked out in the tests.

Tokens come from a blank English tokenizer (the same rules as en_core_web_sm's for these
sentences), so the token-level figures can be checked by hand without loading a model.
"""

from __future__ import annotations

import spacy

from toolkit.records import AnnotatedArticle
from toolkit.report import build_report

MAKE_DOC = spacy.blank("en").make_doc

TEXT_1 = "Angela Merkel met Olaf Scholz in Berlin and the Red Cross in Paris."
TEXT_2 = "Reuters reported from Tokyo on Monday."
TEXT_A = "Angela Merkel visited Paris ."
TEXT_B = "Olaf Scholz left ."


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


def corrected_articles() -> list[AnnotatedArticle]:
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


def overlapping_articles() -> list[AnnotatedArticle]:
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
