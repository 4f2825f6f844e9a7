"""The save_to_disk layout written from public values: load_from_disk and load_dataset read it back."""

from __future__ import annotations

import json

import datasets

from tests.unit.dataset.builders import rows_of
from toolkit.dataset import export
from toolkit.dataset.formats.arrow import ARROW_FILE
from toolkit.dataset.schema import features


def test_the_version_reads_back_as_the_dataset_it_was_written_as(tmp_path, source, config, make_doc):
    result = export(source, config=config, out=tmp_path / "out", make_doc=make_doc)
    loaded = datasets.load_from_disk(str(result.path))
    assert list(loaded) == list(config.export.splits)
    for name, split in loaded.items():
        assert split.features == features(config.labels)
        assert split.split == name and split.format["type"] is None
        assert len(split) == result.stats.rows_per_split[name]
        state = json.loads((result.path / name / "state.json").read_text())
        assert state["_data_files"] == [{"filename": ARROW_FILE}]
        assert state["_format_columns"] is None and state["_fingerprint"].endswith(f"-{name}")
    # The parquet copy holds the same rows.
    parquet = {n: str(result.path / "data" / f"{n}-*.parquet") for n, c in result.stats.rows_per_split.items() if c}
    from_parquet = datasets.load_dataset("parquet", data_files=parquet)
    assert {row["id"]: row for split in from_parquet.values() for row in split} == {
        article_id: {k: v for k, v in row.items() if k != "split"} for article_id, row in rows_of(result.path).items()
    }
    # A column added later is formatted too (the state says "all columns", not a fixed list).
    train = loaded["train"].add_column("extra", [1] * len(loaded["train"]))
    assert "extra" in train[0]
