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
from typing import Literal

from toolkit.config import InputConfig
from toolkit.errors import InputError
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
    "expand_inputs",
    "normalise_date",
    "normalise_text",
    "read_articles",
    "read_file",
    "read_positioned",
    "read_text_article",
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

# Named in the hint of a bad input that stops the read; the command line adds its flag.
SKIP_SETTING = "input.on_error: skip"


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
    # Held for every article of the inputs (the driver's memory grows with them): the id ->
    # its text's digest, and the digest -> where it was first seen, so no tuple per article.
    by_id: dict[str, bytes] = {}
    by_text: dict[bytes, str | None] = {}
    for path in expand_inputs(inputs):
        stats.files += 1
        for position, item in enumerate(read_file(path, options)):
            if isinstance(item, Article):
                digest = hashlib.sha256(item.text.encode("utf-8")).digest()
                previous = by_id.get(item.id)
                if previous is not None and previous != digest:
                    item = BadInput(
                        "id reused",
                        f"{item.source}: id {item.id!r} is already used by {by_text[previous]} for another text",
                    )
                elif digest in by_text:
                    stats.duplicates.append(f"{item.source} repeats {by_text[digest]}")
                    continue
                else:
                    by_id[item.id] = digest
                    by_text[digest] = item.source
                    stats.articles += 1
                    if item.date is None and item.date_original is not None:
                        stats.dates_not_parsed += 1
                    yield path, position, item
                    continue
            if on_error == "fail":
                raise InputError(item.message, hint=f"fix or remove it, or set {SKIP_SETTING} to skip bad input")
            stats.skip(item)
