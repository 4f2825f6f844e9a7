"""The ``save_to_disk`` layout of the dataset, written row by row (``load_from_disk`` reads it)::

    dataset_dict.json                   {"splits": [...]}
    {split}/data-00000-of-00001.arrow   the rows, written by datasets' ArrowWriter
    {split}/state.json                  the fingerprint, the format and the data files
    {split}/dataset_info.json           the features and the split's size

Only public values go into the JSON files: the fingerprint is ours (made from the
inputs), the format is ``Dataset.format`` of the written file opened with
``Dataset.from_file``, the info is written by ``DatasetInfo.write_to_directory``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datasets import Features

ARROW_FILE = "data-00000-of-00001.arrow"
# Rows per Arrow write batch: articles are long, so fewer than datasets' default 1000.
WRITER_BATCH_SIZE = 500


class ArrowSplit:
    """One split's Arrow file, written row by row: memory holds one write batch at a time."""

    def __init__(self, folder: Path, split: str, features: Features, fingerprint: str) -> None:
        from datasets.arrow_writer import ArrowWriter

        self.folder, self.split, self.features, self.fingerprint = folder / split, split, features, fingerprint
        self.folder.mkdir()
        self.path = self.folder / ARROW_FILE
        self.writer = ArrowWriter(
            features=features, path=str(self.path), fingerprint=fingerprint, writer_batch_size=WRITER_BATCH_SIZE
        )
        self.rows = 0

    def add(self, row: dict[str, Any]) -> None:
        self.writer.write(row)
        self.rows += 1

    def close(self) -> None:
        """Finish the file and write the split's ``state.json`` and ``dataset_info.json``."""
        from datasets import Dataset, DatasetInfo, SplitDict, SplitInfo

        try:
            rows, size = self.writer.finalize()
        finally:
            self.writer.close()
        splits = SplitDict()
        splits.add(SplitInfo(name=self.split, num_bytes=size, num_examples=rows))
        info = DatasetInfo(features=self.features, splits=splits, dataset_size=size)
        written = Dataset.from_file(str(self.path), info=info, split=self.split)
        current = written.format
        state = {
            "_data_files": [{"filename": ARROW_FILE}],
            "_fingerprint": self.fingerprint,
            # Dataset.format lists every column when no column selection is set; the state
            # says "all columns" with None, so that columns added later are formatted too.
            "_format_columns": None if current["columns"] == written.column_names else current["columns"],
            "_format_kwargs": current["format_kwargs"],
            "_format_type": current["type"],
            "_output_all_columns": current["output_all_columns"],
            "_split": self.split,
        }
        (self.folder / "state.json").write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
        written.info.write_to_directory(str(self.folder))
        del written


def write_dataset_dict(folder: Path, splits: list[str]) -> None:
    """``dataset_dict.json``: the file that makes the folder a ``DatasetDict`` for ``load_from_disk``."""
    (folder / "dataset_dict.json").write_text(json.dumps({"splits": splits}), encoding="utf-8")
