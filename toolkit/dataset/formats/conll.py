"""CoNLL-2003 style text of a split: ``conll/{split}.conll``, one ``word -X- _ TAG`` line per word.

::

    -DOCSTART- -X- -X- O

    Angela -X- _ B-PERSON
    Merkel -X- _ I-PERSON
    visited -X- _ O

"""

from __future__ import annotations

import re
from pathlib import Path

from toolkit.nlp.alignment import Tokens

DOCSTART = "-DOCSTART- -X- -X- O\n\n"
WHITESPACE = re.compile(r"\s")


def conll_block(tokens: Tokens, tags: list[str]) -> str:
    """One article: a ``-DOCSTART-`` line, then its words; a paragraph break ends a sentence."""
    texts = tokens.texts
    # Paragraph breaks end sentences: CoNLL readers expect short sequences.
    breaks = {i for i, flag in enumerate(tokens.space) if flag and "\n" in texts[i]}
    words = [texts[i] for i in tokens.words]
    if any(" " in word or not word.isprintable() for word in words):
        words = [WHITESPACE.sub("_", word) for word in words]  # columns are separated by spaces
    lines = [DOCSTART]
    previous = -1
    for index, word, tag in zip(tokens.words, words, tags):
        if breaks and previous >= 0 and any(previous < i < index for i in breaks):
            lines.append("\n")
        lines.append(f"{word} -X- _ {tag}\n")
        previous = index
    if words:
        lines.append("\n")
    return "".join(lines)


class ConllFile:
    """The CoNLL file of one split, written article by article."""

    def __init__(self, folder: Path, split: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.handle = (folder / f"{split}.conll").open("w", encoding="utf-8")

    def add(self, tokens: Tokens, tags: list[str]) -> None:
        self.handle.write(conll_block(tokens, tags))

    def close(self) -> None:
        self.handle.close()
