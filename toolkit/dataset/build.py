"""The one pass that makes a version's rows: each checked record -> its row, written to its split.

The toolkit runs this loop itself (no ``Dataset.from_generator``): every row is written
to its split's Arrow file, DocBin shards and CoNLL file as it is made, and its counts
are summed here, so nothing is counted inside a library's generator (which a cache hit
or worker processes would skip or lose).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from toolkit.config import Config
from toolkit.dataset.formats.arrow import ArrowSplit, write_dataset_dict
from toolkit.dataset.formats.conll import ConllFile
from toolkit.dataset.formats.docbin import DocBinShards
from toolkit.dataset.inputs import Plan
from toolkit.dataset.rows import Row, RowSettings, build_row
from toolkit.dataset.schema import features
from toolkit.dataset.stats import ExportStats
from toolkit.io.jsonl import read_json_lines
from toolkit.progress import OnProgress, emit

if TYPE_CHECKING:
    from datasets import Features
    from spacy.tokens import Doc

# Rows between two progress events.
PROGRESS_EVERY = 100


class SplitFiles:
    """The files of one split, each row written to all of them from the same alignment."""

    def __init__(self, folder: Path, split: str, schema: Features, fingerprint: str) -> None:
        self.arrow = ArrowSplit(folder, split, schema, fingerprint)
        self.docbin = DocBinShards(folder / "spacy", split)
        self.conll = ConllFile(folder / "conll", split)

    def add(self, row: Row) -> None:
        self.arrow.add(row.values)
        self.docbin.add(row.doc, row.tokens, [(span.start, span.end, span.label_) for span in row.kept])
        self.conll.add(row.tokens, row.tags)

    def close(self) -> None:
        self.arrow.close()
        self.docbin.close()
        self.conll.close()


def _records(annotations: Path, predictions: Path | None, plan: Plan) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(source, record)`` of every row: each annotated article, then the planned predictions."""
    for _, value in read_json_lines(annotations):
        yield "human", value
    if predictions is not None and plan.model_lines:
        for number, value in read_json_lines(predictions):
            if number in plan.model_lines:
                yield "model", value


def write_rows(
    annotations: Path,
    predictions: Path | None,
    plan: Plan,
    *,
    config: Config,
    make_doc: Callable[[str], Doc],
    folder: Path,
    fingerprint: str,
    on_progress: OnProgress | None = None,
) -> ExportStats:
    """Write every split's Arrow file (``save_to_disk`` layout), DocBin shards and CoNLL file; the rows' counts.

    Rows keep the order of the input files (annotated articles first, then the model's);
    every split gets its files, an empty split too.
    """
    settings = RowSettings.of(config, make_doc)
    schema = features(config.labels)
    splits = {name: SplitFiles(folder, name, schema, f"{fingerprint[:16]}-{name}") for name in config.export.splits}
    total = sum(plan.rows_per_split.values())
    stats = ExportStats()
    pending: Counter[str] = Counter()
    for source, value in _records(annotations, predictions, plan):
        row = build_row(value, source, settings)
        splits[row.split].add(row)
        stats.add_row(row.row_counts)
        pending[row.split] += 1
        if pending.total() >= PROGRESS_EVERY:
            emit(on_progress, "rows", pending.total(), total=total, amounts=dict(pending))
            pending.clear()
    emit(on_progress, "rows", pending.total(), total=total, amounts=dict(pending))
    for files in splits.values():
        files.close()
    write_dataset_dict(folder, list(splits))
    return stats
