"""The Ray Data datasource that reads JSONL and Parquet inputs on the cluster, through Ray's
filesystem layer (pyarrow filesystems: local paths, ``s3://``, ``gs://``, ...).

Ray Data's own ``read_json`` and ``read_parquet`` give no line or row numbers, and a bad
line stops them; this datasource keeps the toolkit's: each file is cut into raw rows by
:mod:`toolkit.preannotate.readers.rows` (its line or row number, its bytes), which the
actors turn into articles and bad inputs with the toolkit's own reader. Imported only once
Ray is (by :mod:`.ray`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
from ray.data.datasource import FileBasedDatasource

from toolkit.preannotate.readers.rows import is_parquet, jsonl_rows, parquet_rows

# Rows per block the read yields: blocks go to the actors whole, so several per file keep
# them all busy and results coming back as they are done.
ROWS_PER_BLOCK = 64
SCHEMA = pa.schema(
    [
        ("file", pa.int64()),
        ("position", pa.int64()),
        ("nbytes", pa.int64()),
        ("kind", pa.string()),
        ("raw", pa.binary()),
    ]
)


class ArticleRows(FileBasedDatasource):
    """The raw rows of JSONL and Parquet files; ``files`` maps each path to ``(number, name, size)``:
    its index among all inputs, the name messages give it, its size in bytes."""

    def __init__(self, paths: list[str], *, filesystem: Any, files: dict[str, tuple[int, str, int]], rows: int) -> None:
        super().__init__(paths, filesystem=filesystem)
        # Keyed without a leading "/": Ray may hand a path back normalised so (object stores' keys).
        self.files = {path.lstrip("/"): where for path, where in files.items()}
        self.rows = rows

    def _open_input_source(self, filesystem: Any, path: str, **open_args: Any) -> Any:
        if is_parquet(path):  # Parquet's footer is at the end: it needs a seekable file
            return filesystem.open_input_file(path)
        return super()._open_input_source(filesystem, path, **open_args)

    def _read_stream(self, f: Any, path: str) -> Iterator[pa.Table]:
        number, name, size = self.files[path.lstrip("/")]
        rows = parquet_rows(f, name, size) if is_parquet(path) else jsonl_rows(f, name, size)
        block: list[tuple[int, int, str, bytes]] = []
        for row in rows:
            block.append(row)
            if len(block) >= self.rows:
                yield self._table(number, block)
                block = []
        if block:
            yield self._table(number, block)

    @staticmethod
    def _table(number: int, block: list[tuple[int, int, str, bytes]]) -> pa.Table:
        positions, sizes, kinds, raws = zip(*block, strict=True)
        return pa.Table.from_arrays(
            [
                pa.array([number] * len(block), pa.int64()),
                pa.array(positions, pa.int64()),
                pa.array(sizes, pa.int64()),
                pa.array(kinds, pa.string()),
                pa.array(raws, pa.binary()),
            ],
            schema=SCHEMA,
        )
