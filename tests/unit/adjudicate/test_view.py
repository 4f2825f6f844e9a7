"""What `toolkit adjudicate` says: the summary (stdout) and what to look at (stderr), from its result."""

from __future__ import annotations

import io
from collections import Counter

from rich.console import Console

from toolkit.adjudicate import AdjudicateResult, view
from toolkit.render.console import print_document, print_sections


def shown(*parts) -> str:
    console = Console(file=io.StringIO(), width=1000, color_system=None)
    for part in parts:
        if hasattr(part, "title"):
            print_document(console, part)
        else:
            print_sections(console, [part], rules=False)
    return console.file.getvalue()


def test_a_dry_run_says_what_agrees_what_is_disputed_by_kind_and_what_would_be_sent():
    result = AdjudicateResult(dry_run=True, review_title="News (adjudication)", articles=5, agreed=2, disputed=3)
    result.kinds, result.empty_vs_spans = Counter({"label": 2, "boundary": 1}), 1
    result.to_send, result.already, result.pending = ["a1", "a2"], 1, 1
    lines = shown(view.adjudicated(result)).splitlines()
    assert lines[0] == "5 annotated articles: 2 agree (auto-accepted), 3 disagree, 0 with one annotator (left out)"
    assert lines[1].startswith("  disagreements by kind (an article may have several): boundary 1, label 2")
    assert lines[1].endswith('; 1 of them "no entities" against spans')
    assert lines[2] == (
        "  Dry run: would send 2 new review tasks to review project 'News (adjudication)' (to be created), "
        "refresh 0; 1 dispute has a review task (0 adjudicated, 1 pending); nothing written"
    )
    result.already = 2
    assert "2 disputes have a review task" in shown(view.adjudicated(result))


def test_a_run_says_what_it_sent_the_copies_removed_and_where_to_adjudicate():
    result = AdjudicateResult(review_title="R", review_project_id=7, review_url="http://ls/projects/7", articles=1)
    result.review_created, result.sent, result.pending = True, 1, 2
    result.copies_removed, result.copies_of_this_run = 2, 1
    text = shown(view.adjudicated(result))
    sent = "  Sent 1 new review task to review project 'R' (id 7) (created), refreshed 0; 0 adjudicated, 3 pending\n"
    assert sent in text
    assert "  removed 2 duplicate review tasks (sent twice" in text
    assert "  1 review task this run sent another run had sent too: removed as copies" in text
    assert text.endswith("  adjudicate at http://ls/projects/7\n") and "disagreements by kind" not in text
    nothing = shown(view.adjudicated(AdjudicateResult(review_title="R")))
    assert nothing.splitlines()[1] == "  Nothing to adjudicate: no review project created"


def test_what_to_look_at_is_said_with_long_lists_cut():
    result = AdjudicateResult(review_note="renamed", ids_key="k1", other_ids_keys=["k0"], other_secret=["a1"])
    result.shared_article_ids = {f"s{n}": [n, n + 100] for n in range(21)}
    result.changed_after = [f"c{n}" for n in range(23)]
    result.no_longer_disputed = ["n1"]
    before = shown(view.warnings(result))
    assert before.startswith("Note: renamed\nThe anonymous ids in 1 review task were made with another annotator ")
    assert "(key k0; this run's k1)" in before and before.count("TOOLKIT_ANNOTATOR_SECRET") == 1
    assert "21 article ids on several tasks: 's0' on 2 tasks (0, 100), " in before
    assert "'s19' on 2 tasks (19, 119) and 1 more; a dispute on each goes to its own review task" in before
    after = shown(view.article_lists(result)).splitlines()
    assert after[0].startswith("23 articles changed by an annotator after adjudication (the decision stands; ")
    assert after[0].endswith(
        ": c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19 and 3 more"
    )
    assert after[1] == "1 article with a review task, but every annotator agrees now: n1"
    assert shown(view.warnings(AdjudicateResult())) == shown(view.article_lists(AdjudicateResult())) == ""
