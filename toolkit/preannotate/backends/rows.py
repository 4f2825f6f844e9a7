"""A worker's side of inputs it reads itself: raw rows (:mod:`..readers.rows`) -> articles, bad
inputs (counted here) and articles already done -> one :class:`StreamedBatch`, in row order;
for a Parquet predictions folder, the batch's records written as a pending part."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from toolkit.config import InputConfig
from toolkit.io.predictions import pending_name, write_part
from toolkit.preannotate.backends import Backend, StreamedBatch, StreamedRow
from toolkit.preannotate.readers import text_key
from toolkit.preannotate.readers.rows import END, Kind, row_item
from toolkit.preannotate.readers.stats import BadInput
from toolkit.records import Article


def annotate_rows(
    rows: Sequence[tuple[int, int, int, Kind, bytes]],
    *,
    names: Sequence[str],
    options: InputConfig,
    done: Mapping[str, int],
    backend: Backend,
) -> StreamedBatch:
    """The batch of rows ``(file, position, nbytes, kind, raw)`` read, counted and predicted
    (``backend``), except the articles in ``done`` (id -> :func:`~..readers.text_key`)."""
    out: list[StreamedRow] = []
    articles: list[Article] = []
    waiting: list[int] = []  # the rows whose article is predicted
    skipped: Counter[str] = Counter()
    for file, position, nbytes, kind, raw in rows:
        item = row_item(kind, position, raw, names[file], options)
        if item is None:
            out.append(StreamedRow(file, position, nbytes, "end" if kind == END else "none"))
        elif isinstance(item, BadInput):
            skipped[item.reason] += 1
            out.append(StreamedRow(file, position, nbytes, "bad", bad=item))
        else:
            key = text_key(item.text)
            previous = done.get(item.id)
            if previous is None:
                waiting.append(len(out))
                articles.append(item)
            out.append(
                StreamedRow(
                    file,
                    position,
                    nbytes,
                    "article" if previous is None else "resumed",
                    id=item.id,
                    digest=key,
                    date_not_parsed=item.date is None and item.date_original is not None,
                    changed=previous is not None and previous != key,
                )
            )
    for index, predicted in zip(waiting, backend.predict(articles), strict=True):
        out[index] = out[index]._replace(predicted=predicted)
    return StreamedBatch(out, skipped)


def write_pending(annotated: StreamedBatch, parts: Path, run_id: str) -> StreamedBatch:
    """The batch's predicted records written to ``parts`` as a pending part of run ``run_id``
    (:func:`~toolkit.io.predictions.pending_name`); the batch sent back carries only their counts."""
    predicted = [row.predicted for row in annotated.rows if row.predicted is not None]
    if not predicted:
        return annotated
    first = annotated.rows[0]
    name = pending_name(run_id, first.file, first.position)
    write_part(parts, name, (item.article for item in predicted))
    rows = [
        row._replace(predicted=row.predicted._replace(article=None)) if row.predicted is not None else row
        for row in annotated.rows
    ]
    return annotated._replace(rows=rows, pending=name)
