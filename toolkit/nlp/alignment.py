"""Character spans -> IOB2 tags over a spaCy tokenization, and the round trip back.

The one aligner of the toolkit: the export's rows, DocBin and CoNLL files, the report's
token-level measures (and, next, training and evaluation) all tag through ``align``, in
the configured ``export.alignment`` mode and ``export.alignment_fallback``, so they never
disagree about which tokens a span covers.

``align`` returns a value (the tags, the spans they carry, what they lost and how each
span was aligned); nothing is counted behind the caller's back, so a worker's result can
be summed by whoever collects it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from toolkit.records import Key, Span, span_keys

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.tokens import Span as SpacySpan


@dataclass(frozen=True)
class LostSpan:
    """A pulled span that the exported tags do not give back exactly."""

    article_id: str
    task_id: int | None
    start: int
    end: int
    label: str
    text: str
    reason: str
    # What the tags carry instead (expanded to whole tokens), if anything.
    carried: tuple[int, int] | None = None

    def line(self) -> str:
        task = f" (task {self.task_id})" if self.task_id is not None else ""
        return f"article {self.article_id}{task}: {self.label} {self.start}-{self.end} {self.text!r}: {self.reason}"

    def to_json_dict(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if v is not None}
        if self.carried is not None:
            data["carried"] = list(self.carried)
        return data


@dataclass(frozen=True)
class Tokens:
    """The tokens of a doc as plain lists, read in one ``Doc.to_array`` call.

    Iterating a Doc makes a Token object per token, which was the export's largest cost.
    ``words`` are the indices of the tokens that are words: spaCy keeps runs of
    whitespace as tokens, and those are left out of ``tokens`` and ``ner_tags``.
    """

    texts: list[str]
    starts: list[int]
    ends: list[int]
    space: list[int]  # 1 for whitespace tokens
    trailing_space: list[int]
    orth: list[int]
    words: list[int]

    @classmethod
    def of(cls, doc: Doc, text: str | None = None) -> Tokens:
        from spacy.attrs import IDX, IS_SPACE, LENGTH, ORTH, SPACY

        text = doc.text if text is None else text
        import numpy

        array = doc.to_array([IDX, LENGTH, IS_SPACE, SPACY, ORTH]).reshape((len(doc), 5))
        starts, ends = array[:, 0].tolist(), (array[:, 0] + array[:, 1]).tolist()
        return cls(
            texts=[text[start:end] for start, end in zip(starts, ends)],
            starts=starts,
            ends=ends,
            space=array[:, 2].tolist(),
            trailing_space=array[:, 3].tolist(),
            orth=array[:, 4].tolist(),
            words=numpy.flatnonzero(array[:, 2] == 0).tolist(),
        )


def word_indices(doc: Doc) -> list[int]:
    """The indices of the tokens that are words (not whitespace), from one array: all
    ``align`` needs when the caller wants tags but no audit (``Tokens.of`` reads more)."""
    import numpy
    from spacy.attrs import IS_SPACE

    return numpy.flatnonzero(doc.to_array(IS_SPACE) == 0).tolist() if len(doc) else []


@dataclass
class Alignment:
    """What ``align`` made of one article's spans."""

    # IOB2 tags of the word tokens (whitespace tokens left out, as in the dataset).
    tags: list[str]
    # The spaCy spans the tags carry (token indices over the whole doc).
    kept: list[SpacySpan]
    # Every span the tags do not give back exactly: not alignable, overlapping, or
    # found missing by the round-trip audit.
    lost: list[LostSpan] = field(default_factory=list)
    spans: int = 0
    # Spans on token boundaries, and spans snapped to other boundaries by the fallback.
    strict: int = 0
    snapped: int = 0


def align(
    doc: Doc,
    spans: list[Span] | list[Key],
    *,
    mode: str = "strict",
    fallback: str = "expand",
    article_id: str = "",
    task_id: int | None = None,
    tokens: Tokens | None = None,
    text: str | None = None,
    check: bool = True,
    words: list[int] | None = None,
) -> Alignment:
    """IOB2 tags for the word tokens of ``doc`` (whitespace tokens left out), and the aligned spans.

    Each span is aligned with ``Doc.char_span`` in ``mode``, then in ``fallback`` when that
    gives nothing. Spans whose offsets were snapped to other token boundaries are counted;
    spans that no token carries, or that overlap a span already tagged, are lost. With
    ``check``, the round-trip audit (``audit``) then checks the tags against every span.
    Without ``check``, ``words`` (``word_indices``) can stand in for ``tokens``.
    """
    text = doc.text if text is None else text  # Doc.text joins every token: slow
    if tokens is None and (check or words is None):
        tokens = Tokens.of(doc, text)
    words = tokens.words if tokens is not None else words
    keys = span_keys(spans)
    tags = ["O"] * len(doc)
    result = Alignment(tags=[], kept=[], spans=len(keys))
    kept = result.kept
    for start, end, label in sorted(keys, key=lambda k: (k[0], -k[1])):
        aligned = doc.char_span(start, end, label=label, alignment_mode=mode)
        if (aligned is None or len(aligned) == 0) and fallback != "none":
            aligned = doc.char_span(start, end, label=label, alignment_mode=fallback)
        # Span.start_char/end_char look tokens up on every access: read them once.
        first, last = (aligned.start, aligned.end) if aligned is not None else (0, 0)
        start_char, end_char = (aligned.start_char, aligned.end_char) if last > first else (0, 0)
        if last <= first or not text[start_char:end_char].strip():
            reason = "no token lies within it" if fallback == "contract" else "not on token boundaries"
            if fallback == "none":
                reason += " (export.alignment_fallback is none)"
            result.lost.append(LostSpan(article_id, task_id, start, end, label, text[start:end], reason))
            continue
        if start_char == start and end_char == end:
            result.strict += 1
        else:
            result.snapped += 1
        # A token already tagged means a clash; which span holds it is looked up only then.
        if any(tags[i] != "O" for i in range(first, last)):
            clash = next(other for other in kept if other.start < last and first < other.end)
            reason = f"overlaps {clash.label_} {clash.start_char}-{clash.end_char}, which the tags carry"
            result.lost.append(LostSpan(article_id, task_id, start, end, label, text[start:end], reason))
            continue
        kept.append(aligned)
        tags[first] = f"B-{label}"
        for i in range(first + 1, last):
            tags[i] = f"I-{label}"
    result.tags = [tags[i] for i in words]
    if check:
        recorded = {(lost.start, lost.end, lost.label) for lost in result.lost}
        result.lost.extend(
            audit(
                result.tags, keys, article_id=article_id, task_id=task_id, recorded=recorded, tokens=tokens, text=text
            )
        )
    return result


def tags_to_spans(offsets: list[tuple[int, int]], tags: list[str]) -> list[Key]:
    """Character spans ``(start, end, label)`` from IOB2 tags over tokens at ``offsets``.

    An ``I-`` tag that does not continue an entity of its label starts one (as seqeval's
    lenient mode reads it).
    """
    found: list[list[Any]] = []
    current: list[Any] | None = None
    for (start, end), tag in zip(offsets, tags):
        if tag == "O":
            current = None
            continue
        prefix, label = tag.split("-", 1)
        if prefix == "B" or current is None or current[2] != label:
            current = [start, end, label]
            found.append(current)
        else:
            current[1] = end
    return [(item[0], item[1], item[2]) for item in found]


def audit(
    tags: list[str],
    spans: list[Span] | list[Key],
    *,
    tokens: Tokens,
    text: str,
    article_id: str = "",
    task_id: int | None = None,
    recorded: set[Key] = frozenset(),  # type: ignore[assignment]
) -> list[LostSpan]:
    """Round trip: turn the tags back into spans and return every span they miss.

    ``recorded`` are the spans ``align`` already found lost (no token, overlap).
    """
    lost: list[LostSpan] = []
    carried = tags_to_spans([(tokens.starts[i], tokens.ends[i]) for i in tokens.words], tags)
    exact = set(carried)
    for key in span_keys(spans):
        if key in exact or key in recorded:
            continue
        start, end, label = key
        instead = next((c for c in carried if c[2] == label and c[0] < end and start < c[1]), None)
        if instead is None:
            reason = "the tags carry no entity there"
        else:
            inside = [i for i in tokens.words if tokens.starts[i] <= start and end <= tokens.ends[i]]
            where = f"inside the token {tokens.texts[inside[0]]!r}" if inside else "not on token boundaries"
            reason = f"{where}; the tags carry {instead[0]}-{instead[1]} {text[instead[0] : instead[1]]!r} instead"
        carried_offsets = (instead[0], instead[1]) if instead else None
        lost.append(LostSpan(article_id, task_id, start, end, label, text[start:end], reason, carried_offsets))
    return lost
