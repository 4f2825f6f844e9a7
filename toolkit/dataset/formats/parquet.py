"""The parquet copy of a split (``data/{split}-00000-of-00001.parquet``, the Hub's layout)."""

from __future__ import annotations

from pathlib import Path


def parquet_name(split: str) -> str:
    return f"{split}-00000-of-00001.parquet"


def arrow_to_parquet(files: list[Path], target: Path) -> None:
    """Copy Arrow stream files to one parquet file, batch by batch, read without a memory map.

    The schema keeps datasets' ``huggingface`` metadata, so the ClassLabel names survive.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    try:
        for file in files:
            with pa.OSFile(str(file)) as source:
                reader = pa.ipc.open_stream(source)
                if writer is None:
                    writer = pq.ParquetWriter(str(target), reader.schema)
                for batch in reader:
                    writer.write_batch(batch)
    finally:
        if writer is not None:
            writer.close()
