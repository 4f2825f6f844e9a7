"""Read news articles from files into :class:`~toolkit.records.Article` records.

Supported inputs (files, folders read recursively, and glob patterns such as
``'corpus/**/*.json'``; see :mod:`.inputs`):

- ``.txt``, one article per file, in the ``seed`` or ``headline`` layout
  (``input.txt_format``; see :mod:`.text`);
- structured records, one article each, with the fields named in ``input.fields``
  (see :mod:`.records`): ``.jsonl`` / ``.ndjson`` (one JSON object per line), ``.json``
  (a JSON array of objects, Reuters-21578 as distributed here), ``.csv`` (a header row,
  then one article per row), ``.parquet`` (one article per row) and a Hugging Face
  dataset saved with ``save_to_disk`` (a folder holding ``dataset_info.json`` or
  ``dataset_dict.json``), every split.

Text is normalised so that offsets stay honest downstream: a byte-order mark is
removed, CRLF and CR become LF, and trailing whitespace is dropped. The article id is
the one given in the input, else a hash of the normalised text, so ids do not depend
on the order of the inputs. Dates are normalised to ISO 8601 where they parse (ISO
first, then ``input.date_formats``); the original string is kept in ``date_original``.

Bad input (a binary file, invalid UTF-8 or a UTF-16/32 file, an empty file or record,
broken JSON, a lone surrogate in a JSON string, a missing text field, an article longer
than ``input.max_chars``, an id reused for another text, a symlink loop, a dangling
symlink or a FIFO) is reported as a :class:`BadInput` naming the file and line or record.
``read_articles`` raises it as an :class:`InputError` (``on_error="fail"``) or counts it
by reason and goes on (``on_error="skip"``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

from toolkit.config import InputConfig
from toolkit.errors import InputError, Remedy
from toolkit.preannotate.readers import records, text
from toolkit.preannotate.readers.inputs import (
    CSV_SUFFIXES,
    JSON_SUFFIXES,
    JSONL_SUFFIXES,
    PARQUET_SUFFIXES,
    expand_inputs,
    is_hf_dataset,
    odd_entry,
)
from toolkit.preannotate.readers.records import normalise_date
from toolkit.preannotate.readers.stats import BadInput, BadInputError, ReadStats
from toolkit.preannotate.readers.text import normalise_text, read_text_article, text_id
from toolkit.records import Article

__all__ = [
    "BadInput",
    "ReadStats",
    "SKIP_SETTING",
    "SeenTexts",
    "expand_inputs",
    "normalise_date",
    "normalise_text",
    "nothing_to_do",
    "read_articles",
    "read_file",
    "read_positioned",
    "read_text_article",
    "text_digest",
    "text_key",
    "text_id",
]

Reader = Callable[[Path, InputConfig], Iterator["Article | BadInput"]]

# By suffix; a saved Hugging Face dataset is a folder, recognised before the suffix is looked at.
READERS: dict[str, Reader] = {
    **dict.fromkeys(JSONL_SUFFIXES, records.read_jsonl),
    **dict.fromkeys(JSON_SUFFIXES, records.read_json),
    **dict.fromkeys(CSV_SUFFIXES, records.read_csv),
    **dict.fromkeys(PARQUET_SUFFIXES, records.read_parquet),
}

# Named in the hint of a bad input that stops the read; the command line names its flag instead.
SKIP_SETTING = Remedy("skip bad input", "input.on_error: skip", config=True)


def read_file(path: Path, options: InputConfig) -> Iterator[Article | BadInput]:
    """Articles and bad inputs of one file (or saved dataset), never raising for bad input."""
    if is_hf_dataset(path):
        reader = records.read_hf_dataset
    else:
        reader = READERS.get(path.suffix.lower(), text.read_txt)
    odd = odd_entry(path)
    if odd is not None:
        yield BadInput("unreadable", f"{path}: {odd}")
        return
    try:
        yield from reader(path, options)
    except BadInputError as bad:
        yield bad.bad
    except OSError as error:
        yield BadInput("unreadable", f"{path}: cannot read ({error.strerror or error})")


def read_articles(
    inputs: Sequence[Path | str],
    stats: ReadStats | None = None,
    *,
    options: InputConfig | None = None,
    on_error: Literal["fail", "skip"] | None = None,
) -> Iterator[Article]:
    """Yield every article of the inputs once; ``stats`` (if given) receives what was seen.

    See :func:`read_positioned`, which also says where each article is.
    """
    for _, _, article in read_positioned(inputs, stats, options=options, on_error=on_error):
        yield article


def read_positioned(
    inputs: Sequence[Path | str],
    stats: ReadStats | None = None,
    *,
    options: InputConfig | None = None,
    on_error: Literal["fail", "skip"] | None = None,
) -> Iterator[tuple[Path, int, Article]]:
    """``(file, position, article)`` for every article of the inputs, once; ``position`` is the
    index of the article among what :func:`read_file` yields for the file (bad inputs
    included), so a worker that reads the file again finds the same article there.

    Identical normalised text is an exact duplicate: it is listed in
    ``stats.duplicates`` and kept once (the first seen). The same id with another text
    is bad input, since downstream the id must name one text. Bad input raises
    :class:`InputError` with ``on_error="fail"`` and is counted in ``stats.skipped``
    (by reason) with ``on_error="skip"``.
    """
    options = options or InputConfig()
    on_error = on_error or options.on_error
    stats = stats if stats is not None else ReadStats()
    seen = SeenTexts()
    for path in expand_inputs(inputs):
        stats.files += 1
        for position, item in enumerate(read_file(path, options)):
            if isinstance(item, Article):
                verdict = seen.check(item.id, text_digest(item.text), item.source)
                if isinstance(verdict, str):
                    stats.duplicates.append(verdict)
                    continue
                if verdict is None:
                    stats.articles += 1
                    if item.date is None and item.date_original is not None:
                        stats.dates_not_parsed += 1
                    yield path, position, item
                    continue
                item = verdict
            if on_error == "fail":
                raise InputError(item.message, hint=("fix or remove it, or ", SKIP_SETTING))
            stats.skip(item)


def nothing_to_do(read_stats: ReadStats) -> InputError:
    """Nothing to write, and nothing from an earlier run: an empty output would be pushed
    as an empty project. (With on_error="fail" the read stopped at the first bad input.)"""
    first = read_stats.skipped_examples[0] if read_stats.skipped_examples else None
    if not first:
        return InputError("the inputs hold no article; nothing to pre-annotate")
    return InputError(
        f"every input was bad ({read_stats.skipped_total:,} skipped: {read_stats.skipped_reasons()}); "
        "nothing to pre-annotate",
        hint=f"the first: {first}",
    )


def text_digest(text: str) -> bytes:
    """What tells two texts apart (for duplicates and ids reused), in 32 bytes."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def text_key(text: str) -> int:
    """The first 128 bits of :func:`text_digest`, as an int: smaller to hold for every article
    (a cluster's driver does), and as good at telling texts apart at any archive's size."""
    return int.from_bytes(text_digest(text)[:16], "big")


class SeenTexts:
    """The articles read so far, over all inputs: an exact duplicate is kept once, and an id
    names one text. Held for every article of the inputs (the reader's memory grows with
    them): the id -> its text's digest, and the digest -> where it was first seen.

    ``where`` turns what :meth:`check` was given as ``source`` into the name messages use:
    a reader that can rebuild a name from a number keeps numbers (smaller than names).
    """

    def __init__(self, where: Callable[[Any], str | None] | None = None) -> None:
        self.by_id: dict[str, bytes | int] = {}
        self.by_text: dict[bytes | int, Any] = {}
        self.where = where or (lambda source: source)

    def check(self, article_id: str, digest: bytes | int, source: Any) -> BadInput | str | None:
        """None for an article seen for the first time (now remembered), the duplicate's
        message (``a.jsonl:4 repeats a.jsonl:2``) for a text seen before, or the bad input
        of an id already used for another text."""
        previous = self.by_id.get(article_id)
        if previous is not None and previous != digest:
            return BadInput(
                "id reused",
                f"{self.where(source)}: id {article_id!r} is already used by {self.where(self.by_text[previous])} "
                "for another text",
            )
        if digest in self.by_text:
            return f"{self.where(source)} repeats {self.where(self.by_text[digest])}"
        self.by_id[article_id] = digest
        self.by_text[digest] = source
        return None
