from __future__ import annotations

from toolkit.pull import PullStats, annotated_articles, choose_annotation

TEXT = "Angela Merkel visited Paris."


def item(start, end, label, **extra):
    return {"type": "labels", "from_name": "label", "to_name": "text", "value": {"start": start, "end": end, "labels": [label]}, **extra}


def annotation(id_, result, updated_at="2025-01-01T00:00:00Z", cancelled=False, user=3):
    return {"id": id_, "result": result, "was_cancelled": cancelled, "updated_at": updated_at, "completed_by": user}


def task(id_, annotations, text=TEXT):
    return {"id": id_, "data": {"text": text, "article_id": f"art-{id_}", "title": "", "date": "2025-01-01"}, "annotations": annotations}


def test_newest_submitted_annotation_wins():
    old = annotation(1, [item(0, 13, "PERSON")], "2025-01-01T00:00:00Z")
    new = annotation(2, [item(22, 27, "GPE")], "2025-01-02T00:00:00Z")
    skipped = annotation(3, [], "2025-01-03T00:00:00Z", cancelled=True)
    assert choose_annotation([old, new, skipped])["id"] == 2


def test_skips_empty_answers_and_unannotated_tasks_are_accounted():
    tasks = [
        task(1, [annotation(1, [item(0, 13, "PERSON"), item(22, 27, "GPE")])]),
        task(2, [annotation(2, [], cancelled=True)]),
        task(3, [annotation(3, [])]),  # "no entities here" is an answer
        task(4, []),
    ]
    stats = PullStats()
    articles = list(annotated_articles(tasks, _config(), stats))
    assert [a.id for a in articles] == ["art-1", "art-3"]
    assert [(s.start, s.end, s.label, s.text) for s in articles[0].spans] == [(0, 13, "PERSON", "Angela Merkel"), (22, 27, "GPE", "Paris")]
    assert articles[1].spans == []
    assert articles[0].annotations[0].annotator == "annotator-3" and articles[0].chosen == [1]
    assert (stats.tasks, stats.articles, stats.only_skipped, stats.not_annotated, stats.skipped_annotations) == (4, 2, 1, 1, 1)


def test_untrustworthy_spans_are_left_out_and_counted():
    result = [item(0, 13, "PERSON"), item(20, 99, "GPE"), item(22, 27, "WEAPON"), item(13, 14, "ORG")]
    stats = PullStats()
    (article,) = annotated_articles([task(1, [annotation(1, result)])], _config(), stats)
    assert [s.text for s in article.spans] == ["Angela Merkel"]
    assert stats.spans_left_out == {"offsets outside the text": 1, "label not in the config": 1, "span covers only whitespace": 1}
    assert len(stats.problems) == 3 and all(p.startswith("task 1 annotation 1 span") for p in stats.problems)


def _config():
    from toolkit.config import parse_config

    return parse_config({"project": {"title": "T"}, "labels": ["PERSON", "ORG", "GPE"]})
