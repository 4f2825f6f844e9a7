"""Span hygiene for pulled annotations: every labelled span is kept, repaired or dropped, with a reason.

The spans come read from a Label Studio result (``toolkit.labelstudio.results.read_result``:
``(start, end, labels, value.text, origin)``, unchecked); here they are checked.

Label Studio stores offsets as Python ``str`` indices (code points), the unit of the
task text. Offsets from elsewhere are not always in that unit: a browser counts UTF-16
code units (characters outside the Basic Multilingual Plane, such as emoji, count twice)
and may count a CRLF line end as one character. When the offsets do not cover the
annotation's ``value.text``, these readings and a search nearby are tried; a span is
re-anchored only when exactly one reading fits, else it is dropped with its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from toolkit.config import Config
from toolkit.records import Span

# Reasons, as written to the ledger and counted in the summary.
NOT_INTEGERS = "offsets missing or not integers"
OUTSIDE = "offsets outside the text"
NO_LABEL = "no label"
UNKNOWN_LABEL = "label not in the config"
WHITESPACE = "covers only whitespace"
MISMATCH = "text does not match value.text and is not found nearby"
AMBIGUOUS = "text does not match value.text and is found more than once nearby"
DUPLICATE = "duplicate of another span in the same annotation"
OVERLAP_LONGER = "overlaps a longer span (pull.overlaps: longest)"
OVERLAP_DROP = "overlaps another span (pull.overlaps: drop)"

UTF16 = "offsets were UTF-16 code units"
CRLF = "offsets counted CRLF as one character"
TRIMMED = "whitespace trimmed"


def reanchored(shift: int) -> str:
    return f"re-anchored to value.text ({shift:+d} characters)"


@dataclass(slots=True)
class PulledSpan:
    """A checked span on its way to a record: light, because a pull makes one per span.

    The record is validated once, whole, when it is built (``AnnotatedArticle``).
    """

    start: int
    end: int
    label: str
    text: str
    origin: str | None = None
    annotation_id: int | None = None
    annotator: str | None = None

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.start, self.end, self.label)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"start": self.start, "end": self.end, "label": self.label, "text": self.text}
        if self.origin is not None:
            data["origin"] = self.origin
        if self.annotation_id is not None:
            data["annotation_id"] = self.annotation_id
        if self.annotator is not None:
            data["annotator"] = self.annotator
        return data

    def to_span(self) -> Span:
        return Span(**self.as_dict())


@dataclass(frozen=True)
class Dropped:
    reason: str
    raw: dict[str, Any]
    span: PulledSpan | None = None  # when the item was a valid span before it was dropped


@dataclass(frozen=True)
class Repaired:
    reason: str
    raw: dict[str, Any]
    span: PulledSpan


@dataclass
class CleanResult:
    spans: list[PulledSpan]
    dropped: list[Dropped]
    repaired: list[Repaired]
    overlapping: int = 0  # spans that overlap another one (whatever the policy did)
    candidates: int = 0  # labelled spans in the result (a span with two labels counts twice)


def _same(covered: str, expected: str) -> bool:
    return covered == expected or covered.replace("\r\n", "\n") == expected.replace("\r\n", "\n")


def _has_astral(text: str) -> bool:
    return not text.isascii() and any(ord(character) > 0xFFFF for character in text)


def utf16_to_code_points(text: str, offset: int) -> int | None:
    """The ``str`` index of a UTF-16 code-unit offset into ``text``; None inside a surrogate pair."""
    units = 0
    for index, character in enumerate(text):
        if units == offset:
            return index
        units += 2 if ord(character) > 0xFFFF else 1
        if units > offset:
            return None
    return len(text) if units == offset else None


def lf_to_crlf_index(text: str, offset: int) -> int | None:
    """The ``str`` index of an offset counted with every CRLF in ``text`` taken as one character."""
    seen = 0
    index = 0
    while index < len(text):
        if seen == offset:
            return index
        index += 2 if text.startswith("\r\n", index) else 1
        seen += 1
    return len(text) if seen == offset else None


def _alternatives(text: str, start: int, end: int) -> list[tuple[str, int | None, int | None]]:
    readings: list[tuple[str, int | None, int | None]] = []
    if _has_astral(text):
        readings.append((UTF16, utf16_to_code_points(text, start), utf16_to_code_points(text, end)))
    if "\r\n" in text:
        readings.append((CRLF, lf_to_crlf_index(text, start), lf_to_crlf_index(text, end)))
    return readings


def anchor(text: str, start: int, end: int, expected: str | None, window: int) -> tuple[int, int, str | None] | str:
    """Offsets that cover ``expected`` (with the repair made, or None), or the reason they cannot be found."""
    in_bounds = 0 <= start < end <= len(text)
    if expected is None or not expected.strip():
        return (start, end, None) if in_bounds else OUTSIDE
    if in_bounds and (_same(text[start:end], expected) or text[start:end].strip() == expected.strip()):
        return start, end, None
    for reason, new_start, new_end in _alternatives(text, start, end):
        if new_start is not None and new_end is not None and _same(text[new_start:new_end], expected):
            return new_start, new_end, reason
    # A search nearby: only one occurrence is an unambiguous repair.
    low, high = max(0, min(start, len(text)) - window), min(len(text), max(end, 0) + window)
    found = []
    position = text.find(expected, low, high)
    while position != -1 and len(found) < 2:
        found.append(position)
        position = text.find(expected, position + 1, high)
    if len(found) == 1:
        return found[0], found[0] + len(expected), reanchored(found[0] - start)
    if found:
        return AMBIGUOUS
    return MISMATCH if in_bounds else OUTSIDE


def check_offsets(
    text: str, start: Any, end: Any, expected: str | None, window: int
) -> tuple[int, int, list[str]] | str:
    """The offsets of one span (human or model) checked against ``text``: integers, covering
    ``expected`` (re-anchored when one reading fits), whitespace trimmed. Returns the
    offsets with the repairs made, or the reason to drop the span."""
    if type(start) is not int or type(end) is not int:  # bool is an int, but not an offset
        return NOT_INTEGERS
    anchored = anchor(text, start, end, expected, window)
    if isinstance(anchored, str):
        return anchored
    start, end, fix = anchored
    fixes = [fix] if fix else []
    trimmed = trim(text, start, end)
    if trimmed[0] >= trimmed[1]:
        return WHITESPACE
    if trimmed != (start, end):
        fixes.append(TRIMMED)
        start, end = trimmed
    return start, end, fixes


def trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def clean_spans(
    labelled: Iterable[tuple[Any, Any, list[Any], str | None, str | None]],
    text: str,
    *,
    labels: set[str] | list[str],
    overlaps: str = "keep",
    window: int = 40,
    on_unknown_label: Callable[[str], None] | None = None,
    provenance: dict[str, Any] | None = None,
) -> CleanResult:
    """The labelled spans of one annotation (``(start, end, labels, value.text, origin)``,
    as ``read_result`` reads them), checked against ``text`` and the labels.

    Every labelled span ends up exactly once in ``spans`` (possibly repaired, listed in
    ``repaired`` too) or in ``dropped``. ``on_unknown_label`` may raise to stop the pull.
    """
    provenance = provenance or {}
    annotation_id, annotator = provenance.get("annotation_id"), provenance.get("annotator")
    labels = labels if isinstance(labels, (set, frozenset)) else set(labels)
    size = len(text)
    out = CleanResult(spans=[], dropped=[], repaired=[])
    seen: set[tuple[int, int, str]] = set()
    for start, end, item_labels, expected, origin in labelled:
        # The common case, checked cheaply: one known label, offsets in the text that cover
        # value.text exactly, no whitespace at the ends, not seen before.
        if type(start) is int and type(end) is int and len(item_labels) == 1 and 0 <= start < end <= size:
            label, covered = item_labels[0], text[start:end]
            if (
                (expected is None or covered == expected)
                and label in labels
                and not covered[0].isspace()
                and not covered[-1].isspace()
                and (start, end, label) not in seen
            ):
                seen.add((start, end, label))
                out.spans.append(PulledSpan(start, end, label, covered, origin, annotation_id, annotator))
                out.candidates += 1
                continue
        raw = {"start": start, "end": end, "labels": item_labels}
        if expected is not None:
            raw["text"] = expected
        if not item_labels:
            out.candidates += 1
            out.dropped.append(Dropped(NO_LABEL, raw))
            continue
        for label in item_labels:
            out.candidates += 1
            one = {**raw, "labels": [label]}
            checked = check_offsets(text, start, end, expected, window)
            if isinstance(checked, str):
                out.dropped.append(Dropped(checked, one))
                continue
            new_start, new_end, fixes = checked
            if not isinstance(label, str) or label not in labels:
                if on_unknown_label is not None:
                    on_unknown_label(str(label))
                out.dropped.append(Dropped(UNKNOWN_LABEL, one))
                continue
            span = PulledSpan(
                start=new_start,
                end=new_end,
                label=label,
                text=text[new_start:new_end],
                origin=origin,
                **provenance,
            )
            if span.key in seen:
                out.dropped.append(Dropped(DUPLICATE, one, span))
                continue
            seen.add(span.key)
            out.spans.append(span)
            for reason in fixes:
                out.repaired.append(Repaired(reason, one, span))
    out.spans.sort(key=lambda span: (span.start, span.end, span.label))
    out.spans, dropped, out.overlapping = resolve_overlaps(out.spans, overlaps)
    out.dropped.extend(dropped)
    return out


def clean_annotation(
    labelled: Iterable[tuple[Any, Any, list[Any], str | None, str | None]],
    text: str,
    config: Config,
    *,
    on_unknown_label: Callable[[str], None] | None = None,
    provenance: dict[str, Any] | None = None,
) -> CleanResult:
    """One annotation's labelled spans cleaned as the config says (its ``labels``,
    ``pull.overlaps``, ``pull.reanchor_window``): the one way pull, the adjudicators'
    decisions and adjudicate read a human answer, so they never disagree about a span."""
    return clean_spans(
        labelled,
        text,
        labels=config.labels,
        overlaps=config.pull.overlaps,
        window=config.pull.reanchor_window,
        on_unknown_label=on_unknown_label,
        provenance=provenance,
    )


def resolve_overlaps(spans: list[PulledSpan], policy: str) -> tuple[list[PulledSpan], list[Dropped], int]:
    """Apply the overlap policy to spans sorted by start; returns kept, dropped and how many overlapped."""
    clusters: list[list[PulledSpan]] = []
    cluster_end = -1
    for span in spans:
        if clusters and span.start < cluster_end:
            clusters[-1].append(span)
            cluster_end = max(cluster_end, span.end)
        else:
            clusters.append([span])
            cluster_end = span.end
    kept: list[PulledSpan] = []
    dropped: list[Dropped] = []
    overlapping = 0
    for cluster in clusters:
        if len(cluster) == 1:
            kept.append(cluster[0])
            continue
        overlapping += len(cluster)
        if policy == "keep":
            kept.extend(cluster)
        elif policy == "longest":
            # Greedy by length (then earliest): keep a span unless it overlaps one already kept.
            chosen: list[PulledSpan] = []
            for span in sorted(cluster, key=lambda s: (-(s.end - s.start), s.start, s.label)):
                if any(span.start < other.end and other.start < span.end for other in chosen):
                    dropped.append(Dropped(OVERLAP_LONGER, _raw(span), span))
                else:
                    chosen.append(span)
            kept.extend(sorted(chosen, key=lambda s: (s.start, s.end, s.label)))
        else:
            dropped.extend(Dropped(OVERLAP_DROP, _raw(span), span) for span in cluster)
    return kept, dropped, overlapping


def _raw(span: PulledSpan) -> dict[str, Any]:
    return {"start": span.start, "end": span.end, "labels": [span.label], "text": span.text}
