"""Adjudicate's view: an ``AdjudicateResult`` as render blocks (``toolkit.render``), what ``toolkit adjudicate`` says.

``adjudicated`` is the summary (stdout): how many articles agree and disagree (by kind),
then what was sent to the review project, or with a dry run would be. ``warnings`` (said
before it, on stderr, with ``--json`` too) and ``article_lists`` (after it, on stderr;
``--json`` holds the lists) are what a user should look at. The first ``SHOWN`` ids of a
list are named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.annotations.disagreement import KINDS
from toolkit.render import Code, Data, Document, Line, Section, count, plural

if TYPE_CHECKING:
    from toolkit.adjudicate.adjudication import AdjudicateResult

SHOWN = 20


def _more(total: int) -> str:
    return f" and {count(total - SHOWN)} more" if total > SHOWN else ""


def _shared(result: AdjudicateResult) -> Line:
    shared = list(result.shared_article_ids.items())
    named = ", ".join(
        f"{article_id!r} on {len(tasks)} tasks ({', '.join(map(str, tasks))})" for article_id, tasks in shared[:SHOWN]
    )
    return Line(
        (
            f"{plural(len(shared), 'article id')} on several tasks: ",
            Data(named + _more(len(shared))),
            "; a dispute on each goes to its own review task, but export refuses two records with one id: "
            "give each task its own data.article_id in Label Studio",
        ),
        note=True,
    )


def warnings(result: AdjudicateResult) -> Section:
    """The review project's title no longer the config's, review tasks made with another annotator
    secret, article ids on several tasks."""
    lines = []
    if result.review_note:
        lines.append(Line((f"Note: {result.review_note}",), note=True))
    if result.other_secret:
        said = (
            f"The anonymous ids in {plural(len(result.other_secret), 'review task')} were made with another "
            f"annotator secret (key {', '.join(result.other_ids_keys)}; this run's {result.ids_key}): not compared "
            "with the annotators' versions now; run with the secret that made them (set TOOLKIT_ANNOTATOR_SECRET "
            "to the team's, or use the pull.secret_file of the machine that sent them)"
        )
        lines.append(Line((said,), note=True))
    if result.shared_article_ids:
        lines.append(_shared(result))
    return Section("warnings", None, tuple(lines))


def _review(result: AdjudicateResult) -> str:
    return f"review project {result.review_title!r}" + (
        f" (id {result.review_project_id})" if result.review_project_id else ""
    )


def _done(result: AdjudicateResult) -> list[Line]:
    """What was sent (or with a dry run, would be) and where to adjudicate."""
    if result.dry_run:
        created = " (to be created)" if result.review_project_id is None and result.to_send else ""
        have = "has" if result.already == 1 else "have"
        return [
            Line(
                (
                    f"Dry run: would send {plural(len(result.to_send), 'new review task')} to {_review(result)}"
                    f"{created}, refresh {count(len(result.to_refresh))}; {plural(result.already, 'dispute')} {have} "
                    f"a review task ({count(result.adjudicated)} adjudicated, {count(result.pending)} pending); "
                    "nothing written",
                )
            )
        ]
    if result.review_project_id is None:
        return [Line(("Nothing to adjudicate: no review project created",))]
    created = " (created)" if result.review_created else ""
    lines = [
        Line(
            (
                f"Sent {plural(result.sent, 'new review task')} to {_review(result)}{created}, "
                f"refreshed {count(result.refreshed)}; {count(result.adjudicated)} adjudicated, "
                f"{count(result.pending + result.sent)} pending",
            )
        )
    ]
    if result.copies_removed:
        said = (
            f"removed {plural(result.copies_removed, 'duplicate review task')} (sent twice: by an interrupted run, "
            "or by two runs at the same moment)"
        )
        lines.append(Line((said,)))
    if result.copies_of_this_run:
        said = (
            f"{plural(result.copies_of_this_run, 'review task')} this run sent another run had sent too: "
            "removed as copies, not counted as sent"
        )
        lines.append(Line((said,)))
    lines.append(Line(("adjudicate at ", Code(result.review_url))))
    return lines


def adjudicated(result: AdjudicateResult) -> Document:
    """The headline (agree, disagree, one annotator), then the disagreements by kind and what was sent."""
    headline = (
        f"{plural(result.articles, 'annotated article')}: {count(result.agreed)} agree (auto-accepted), "
        f"{count(result.disputed)} disagree, {count(result.single)} with one annotator (left out)"
    )
    lines = []
    if result.disputed:
        kinds = ", ".join(f"{kind} {count(result.kinds.get(kind, 0))}" for kind in KINDS)
        empty = f'; {count(result.empty_vs_spans)} of them "no entities" against spans' if result.empty_vs_spans else ""
        lines.append(Line((f"disagreements by kind (an article may have several): {kinds}{empty}",)))
    return Document(headline, (Section("review", None, (*lines, *_done(result))),))


def _listed(what: str, article_ids: list[str]) -> list[Line]:
    if not article_ids:
        return []
    shown = ", ".join(article_ids[:SHOWN]) + _more(len(article_ids))
    return [Line((f"{plural(len(article_ids), 'article')} {what}: ", Data(shown)), note=True)]


def article_lists(result: AdjudicateResult) -> Section:
    """The articles to look at: changed after adjudication, text changed, no longer disputed."""
    lines = [
        *_listed(
            "changed by an annotator after adjudication (the decision stands; re-adjudicate by deleting "
            "the review task's annotation)",
            result.changed_after,
        ),
        *_listed("with another text in the main project than in its review task (not refreshed)", result.text_changed),
        *_listed("with a review task, but every annotator agrees now", result.no_longer_disputed),
    ]
    return Section("articles", None, tuple(lines))
