"""The report's adjudication section: disputes found, resolved, pending; agreement before and after; whom the
adjudicator kept."""

from __future__ import annotations

from tests.unit.report.articles import TEXT_A, article, build, span
from toolkit.config import parse_config
from toolkit.report import report_markdown
from toolkit.report.page import render_html

CONFIG = parse_config({"project": {"title": "t"}, "labels": ["PERSON", "GPE"]})
MERKEL, PARIS = span(TEXT_A, "Angela Merkel", "PERSON"), span(TEXT_A, "Paris", "GPE")
ANGELA = span(TEXT_A, "Angela", "PERSON")


def two(task_id, first, second, decision, final=None):
    record = article(task_id, TEXT_A, [{"annotator": "ann-a", "spans": first}, {"annotator": "ann-b", "spans": second}])
    data = record.model_dump()
    data["decision"] = decision
    if final is not None:
        data["spans"] = final
    return type(record).model_validate(data)


def articles():
    return [
        two(1, [MERKEL, PARIS], [MERKEL, PARIS], {"status": "agreed"}),
        # ann-a kept for PERSON, ann-b for GPE (ann-b had no GPE: "missing" sided with b)
        two(2, [MERKEL, PARIS], [ANGELA], {"status": "adjudicated", "by": "ann-j"}, final=[MERKEL]),
        two(3, [MERKEL], [ANGELA], {"status": "pending", "review_task_id": 5}),
        two(4, [MERKEL], [], {"status": "disputed"}),
    ]


def test_counts_agreement_and_sided_with():
    section = build(articles(), CONFIG).adjudication
    assert (section.articles, section.agreed, section.found, section.resolved, section.pending, section.not_sent) == (
        4,
        1,
        3,
        1,
        1,
        1,
    )
    # Before: pairs matched 2*2 (art 1) + 0 + 0 + 0 over 4 + 3 + 2 + 1 spans = 4/10.
    assert section.agreement_before == 4 / 10
    # After: article 2 settled (2 * 1 matched of 2), the others as before: (4 + 2) / (4 + 2 + 2 + 1).
    assert section.agreement_after == 6 / 9
    sided = {(r.label, r.annotator): (r.disputed_spans, r.kept) for r in section.sided_with}
    assert sided == {("PERSON", "ann-a"): (1, 1), ("PERSON", "ann-b"): (1, 0), ("GPE", "ann-a"): (1, 0)}


def test_the_section_is_rendered_only_with_decisions():
    with_decisions = report_markdown(build(articles(), CONFIG))
    assert "Adjudication" in with_decisions and "3 disputes found: 1 resolved, 1 pending" in with_decisions
    assert "Adjudication" in render_html(build(articles(), CONFIG))
    plain = [article(1, TEXT_A, [{"annotator": "ann-a", "spans": [MERKEL]}])]
    assert "Adjudication" not in report_markdown(build(plain, CONFIG))


def test_stale_decisions_are_named_also_with_one_annotator_left():
    """Issue 27: an annotator changed (two left) or deleted their answer (one left) after the decision."""
    changed = two(5, [MERKEL, PARIS], [MERKEL, PARIS], {"status": "adjudicated", "by": "ann-j", "stale": True})
    one_left = article(6, TEXT_A, [{"annotator": "ann-a", "spans": [MERKEL, PARIS]}])
    data = one_left.model_dump()
    data["decision"] = {"status": "adjudicated", "by": "ann-j", "stale": True}
    data["spans"] = [MERKEL]
    one_left = type(one_left).model_validate(data)
    report = build([*articles(), changed, one_left], CONFIG)
    assert (report.adjudication.resolved, report.adjudication.stale) == (3, 2)
    assert report.adjudication.stale_articles == [changed.id, one_left.id]
    html = render_html(report)
    assert "2 adjudicated articles changed by an annotator after adjudication" in html
    assert changed.id in html and one_left.id in html


def test_one_of_each_is_singular():
    """ "1 disputes", "1 tasks": one of a thing is named in the singular."""
    one = [two(1, [MERKEL], [ANGELA], {"status": "disputed"})]
    text = report_markdown(build(one, CONFIG))
    assert "1 article with several annotators" in text and "1 dispute found" in text
    assert "1 task submitted by several annotators (2 annotators, 1 pair, " in text
    assert "1 disputes" not in text and "1 tasks" not in text and "1 articles" not in text
