"""spaCy DocBin shards of a split: ``spacy/{split}-NNNNN.spacy`` (``spacy train`` takes the folder).

The n-th doc of a split's shards (in name order) is the n-th row of the split. Article
ids are not stored in the docs: DocBin's user data costs more than the rest of a doc.
"""

from __future__ import annotations

from pathlib import Path

import numpy
from spacy.attrs import ENT_IOB, ENT_TYPE, ORTH
from spacy.strings import get_string_id
from spacy.tokens import Doc, DocBin

from toolkit.nlp.alignment import Tokens

# Docs per DocBin file: a DocBin holds its docs in memory until it is written.
DOCBIN_SHARD_SIZE = 2000
ATTRS = ["ENT_IOB", "ENT_TYPE"]


class FastDocBin(DocBin):
    """A DocBin that takes a doc's arrays from the caller instead of reading the doc.

    ``DocBin.add`` iterates the doc's Token objects and looks up nine strings per token
    (tag, lemma, dep, ...) that these docs do not have; that was a third of the export's
    time. The arrays and the file are DocBin's own (read back with ``DocBin().from_disk``),
    for ``attrs=ATTRS``.
    """

    def __init__(self) -> None:
        super().__init__(attrs=ATTRS)
        if self.attrs != [ORTH, ENT_IOB, ENT_TYPE]:  # pragma: no cover
            raise RuntimeError("this spaCy's DocBin stores other columns; update FastDocBin.add_arrays")

    def add_arrays(self, tokens: Tokens, entities: list[tuple[int, int, str]], empty_spans: bytes) -> None:
        # Columns in DocBin's order: ORTH, ENT_IOB, ENT_TYPE.
        annotations = numpy.zeros((len(tokens.texts), 3), dtype="uint64")
        annotations[:, 0] = tokens.orth
        annotations[:, 1] = 2  # ENT_IOB "O": annotated as outside an entity, not missing
        for start, end, label in entities:
            annotations[start, 1] = 3  # "B"
            annotations[start + 1 : end, 1] = 1  # "I"
            annotations[start:end, 2] = get_string_id(label)
            self.strings.add(label)
        self.tokens.append(annotations)
        self.spaces.append(numpy.asarray(tokens.trailing_space, dtype=bool).reshape((-1, 1)))
        self.flags.append({"has_unknown_spaces": False})
        self.strings.update(tokens.texts)
        self.cats.append({})
        self.span_groups.append(empty_spans)


class DocBinShards:
    """Writes one split's docs into shards of ``DOCBIN_SHARD_SIZE``; ``close`` writes the last one."""

    def __init__(self, folder: Path, split: str) -> None:
        self.folder, self.split = folder, split
        folder.mkdir(parents=True, exist_ok=True)
        self.shard = 0
        self.docbin = FastDocBin()
        self.empty_spans: bytes | None = None

    def add(self, doc: Doc, tokens: Tokens, entities: list[tuple[int, int, str]]) -> None:
        if self.empty_spans is None:  # every doc's span groups are empty: serialized once
            self.empty_spans = doc.spans.to_bytes()
        self.docbin.add_arrays(tokens, entities, self.empty_spans)
        if len(self.docbin) >= DOCBIN_SHARD_SIZE:
            self._flush()

    def _flush(self) -> None:
        self.docbin.to_disk(self.folder / f"{self.split}-{self.shard:05d}.spacy")
        self.shard += 1
        self.docbin = FastDocBin()

    def close(self) -> None:
        if len(self.docbin) or self.shard == 0:  # an empty split still gets one (empty) shard
            self._flush()
