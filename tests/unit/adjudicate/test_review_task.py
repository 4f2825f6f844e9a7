"""What a review task shows the reviewer (issue 30 item 3): the disputed places only, who has and who lacks
each, the kind named, the words around it; each annotator's version; instructions worded for a reviewer."""

from __future__ import annotations

from toolkit.annotations.disagreement import compare, prefill
from toolkit.config import parse_config
from toolkit.labelstudio.review import (
    HOW_TO_ADJUDICATE,
    Version,
    context_html,
    disputes_html,
    places,
    review_instructions,
    short_ids,
)
from toolkit.records import Span

TEXT = "Sales in GB rose, said Kofi Annan of the British Retail Consortium. Inflation in GB is still high."
A, B, C = "ann-6407aaaaaaaa", "ann-7439bbbbbbbb", "ann-7439cccccccc"


def at(needle, label, occurrence=0):
    start = -1
    for _ in range(occurrence + 1):
        start = TEXT.index(needle, start + 1)
    return Span(start=start, end=start + len(needle), label=label)


AGREED = [at("GB", "GPE"), at("Kofi", "PERSON")]
FIRST = [*AGREED, at("British Retail Consortium", "ORG"), at("GB", "GPE", 1)]
SECOND = [at("GB", "GPE"), at("Kofi Annan", "PERSON"), at("British Retail Consortium", "NORP")]


def shown(*answers, mode="agreed"):
    versions = [Version(annotator, n, spans) for n, (annotator, spans) in enumerate(answers)]
    by = {v.annotator: v.spans for v in versions}
    return disputes_html(compare(by).disputed, versions, prefill(by, mode), TEXT)


def entries(html):
    return html.split('<ol class="disputed">')[1].split("</ol>")[0].split("<li>")[1:]


def test_only_the_disputed_places_are_listed_one_entry_each():
    html = shown((A, FIRST), (B, SECOND))
    kofi, brc, gb = entries(html)
    assert html.startswith("<b>Disputed (3)</b>")
    # "Kofi" and "Kofi Annan" are one dispute: a boundary; the same words with two labels: a label.
    assert kofi.startswith('<b>"Kofi" PERSON</b> (ann-6407) or <b>"Kofi Annan" PERSON</b> (ann-7439): <u>boundary')
    assert "<u>label differs</u>" in brc and '"British Retail Consortium" NORP</b> (ann-7439)' in brc
    # The lacking annotator named; the second "GB" told from the agreed one by the words around it.
    assert gb.startswith('<b>"GB" GPE</b> (ann-6407): <u>missing for ann-7439</u>.')
    assert "Inflation in <mark>GB</mark> is still high." in gb
    assert "Sales in" not in "".join(entries(html)[2:])  # the agreed "GB" is not listed


def test_a_span_only_a_minority_has_is_extra_and_the_starting_answer_is_named():
    html = shown((A, FIRST), (B, FIRST[:3]), ("ann-9999dddddddd", FIRST[:3]), mode="majority")
    (gb,) = entries(html)
    assert "<u>extra in ann-6407</u>" in gb and "Your starting answer has" not in gb
    kept = shown((A, FIRST), (B, FIRST), ("ann-9999dddddddd", FIRST[:3]), mode="majority")
    (gb,) = entries(kept)
    assert "<u>missing for ann-9999</u>" in gb and 'Your starting answer has "GB" GPE.' in gb


def test_each_annotators_version_is_listed_in_text_order():
    html = shown((A, FIRST), (B, SECOND))
    versions = html.split("<details>")[1]
    assert versions.startswith("<summary>Each annotator's version (2)</summary>")
    assert '<li><b>ann-7439</b> (3): "GB" GPE, "Kofi Annan" PERSON, "British Retail Consortium" NORP</li>' in versions
    assert shown((A, FIRST), (B, [])).count("no entities") == 1


def test_short_ids_grow_until_they_differ_in_the_task():
    assert short_ids([A, B]) == {A: "ann-6407", B: "ann-7439"}
    assert short_ids([B, C]) == {B: "ann-7439b", C: "ann-7439c"}


def test_context_is_cut_at_whole_words_and_escaped():
    text = "x" * 60 + " the <b> & GB rose " + "y" * 60
    start = text.index("GB")
    assert context_html(text, start, start + 2) == "…the &lt;b&gt; &amp; <mark>GB</mark> rose…"
    assert places([at("Kofi Annan", "PERSON"), at("Kofi", "PERSON"), at("GB", "GPE")]) == [
        [at("GB", "GPE")],
        [at("Kofi", "PERSON"), at("Kofi Annan", "PERSON")],
    ]


def test_instructions_are_for_a_reviewer():
    config = parse_config({"project": {"title": "News"}, "labels": ["PERSON"], "adjudicate": {"instructions": "A&B"}})
    text = review_instructions(config)
    assert text.startswith("<p>A&amp;B</p>") and text.endswith(HOW_TO_ADJUDICATE)
    assert "How to label" not in text and "Skip an article" not in text and "There is no Skip" in text
