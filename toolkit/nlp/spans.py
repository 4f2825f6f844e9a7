"""A parsed doc's entities as the project's spans, decoded greedily (the model's best parse).

The same rules as pre-annotation (which trims with ``trim_tokens`` too): labels go
through ``label_map`` (labels that are not the project's are left out) and whitespace
and punctuation tokens at either end are trimmed. Evaluation scores a model on these
spans: what it would have put in front of an annotator (without the beam's confidence
scores, which do not change the spans of the best parse on most articles; see the
*Scores* in docs/preannotate.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from toolkit.config import Config
from toolkit.records import Span

if TYPE_CHECKING:
    from spacy.tokens import Doc


def trim_tokens(doc: Doc, start: int, end: int) -> tuple[int, int]:
    """Token bounds without leading or trailing whitespace and punctuation tokens."""
    while start < end and (doc[start].is_space or doc[start].is_punct):
        start += 1
    while end > start and (doc[end - 1].is_space or doc[end - 1].is_punct):
        end -= 1
    return start, end


def entity_spans(doc: Doc, config: Config, text: str | None = None) -> list[Span]:
    """The project spans of ``doc.ents``: mapped, trimmed, with their text."""
    text = doc.text if text is None else text
    spans = []
    for ent in doc.ents:
        label = config.project_label(ent.label_)
        if label is None:
            continue
        start, end = trim_tokens(doc, ent.start, ent.end)
        if start == end:
            continue
        start_char, end_char = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
        spans.append(Span(start=start_char, end=end_char, label=label, text=text[start_char:end_char]))
    return spans
