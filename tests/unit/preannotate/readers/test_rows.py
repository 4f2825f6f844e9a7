"""JSONL and Parquet cut into rows (as a cluster's read tasks do) and the rows turned into articles
(as its workers do): the same articles and bad inputs as the local reader, file by file."""

from __future__ import annotations

import codecs
import io
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from toolkit.config import InputConfig
from toolkit.errors import InputError
from toolkit.preannotate.readers import SeenTexts, expand_inputs, read_file, text_key
from toolkit.preannotate.readers.rows import BAD, END, jsonl_rows, parquet_rows, row_item
from toolkit.preannotate.readers.sources import row_inputs


def _through_rows(path, options, chunk=None):
    """What the rows of ``path`` become, read as a cluster reads it (small chunks: lines cut across reads)."""
    import toolkit.preannotate.readers.rows as rows_module

    size = path.stat().st_size
    if path.suffix == ".parquet":
        rows = list(parquet_rows(pa.OSFile(str(path)), str(path), size))
    else:
        if chunk is not None:
            rows_module.CHUNK = chunk
        try:
            rows = list(jsonl_rows(io.BytesIO(path.read_bytes()), str(path), size))
        finally:
            rows_module.CHUNK = 1 << 20
    assert [row[0] for row in rows] == list(range(len(rows)))  # positions: one after the other
    assert rows[-1][2] == END and sum(row[1] for row in rows) == size  # the bytes add up to the file
    items = [row_item(kind, position, raw, str(path), options) for position, _, kind, raw in rows]
    return [item for item in items if item is not None]


JSONL_CASES = {
    "mixed": "\n".join(
        [
            json.dumps({"id": "a", "text": "Angela Merkel in Berlin.", "date": "01/02/2024"}),
            "{broken",
            "",
            "   ",
            json.dumps({"id": "b"}),
            json.dumps({"id": "c", "text": "x" * 50}),
            json.dumps(["not", "an", "object"]),
            b"\xff\xfe bad bytes".decode("latin-1"),
            json.dumps({"text": "No id: one from the text.\r\nSecond line."}),
        ]
    ).encode("utf-8", "surrogateescape")
    + b"\n"
    + json.dumps({"id": "d", "text": "No newline at the end."}).encode(),
    "bom": codecs.BOM_UTF8 + json.dumps({"id": "e", "text": "After a BOM."}).encode() + b"\n",
    "empty": b"",
    "blank": b"\n\n  \n",
    "binary": b"\x00\x01\x02 binary",
    "utf16": codecs.BOM_UTF16_LE + "{}".encode("utf-16-le"),
}


@pytest.mark.parametrize("case", sorted(JSONL_CASES))
@pytest.mark.parametrize("chunk", [None, 7])
def test_jsonl_rows_become_what_the_local_reader_reads(tmp_path, case, chunk):
    path = tmp_path / f"{case}.jsonl"
    path.write_bytes(JSONL_CASES[case])
    options = InputConfig(max_chars=40, date_formats=["%d/%m/%Y"])
    assert _through_rows(path, options, chunk) == list(read_file(path, options))


def test_parquet_rows_become_what_the_local_reader_reads(tmp_path):
    path = tmp_path / "b.parquet"
    texts = ["Olaf Scholz in Warsaw.", "  ", None, "Emmanuel Macron in Lyon."] * 300  # several row batches
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(len(texts))], "text": texts}), path)
    options = InputConfig()
    assert _through_rows(path, options) == list(read_file(path, options))
    empty = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), empty)
    assert _through_rows(empty, options) == list(read_file(empty, options))
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(b"PAR1 not really")
    rows = list(parquet_rows(pa.OSFile(str(broken)), str(broken), broken.stat().st_size))
    assert [row[2] for row in rows] == [BAD, END]
    assert row_item(BAD, 0, rows[0][3], str(broken), options).reason == "binary file"


def test_seen_texts_keep_numbers_and_name_them_in_messages():
    names = ["a.jsonl", "b.parquet"]
    seen = SeenTexts(where=lambda packed: f"{names[packed >> 8]}#{packed & 255}")
    assert seen.check("x", text_key("one"), 0 << 8 | 3) is None
    assert seen.check("y", text_key("one"), 1 << 8 | 5) == "b.parquet#5 repeats a.jsonl#3"
    reused = seen.check("x", text_key("two"), 1 << 8 | 6)
    assert reused.reason == "id reused"
    assert reused.message == "b.parquet#6: id 'x' is already used by a.jsonl#3 for another text"


def test_inputs_the_cluster_reads_and_those_it_does_not(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "b.jsonl").write_text("{}\n")
    (tmp_path / "in" / "a.parquet").write_bytes(b"x")
    (tmp_path / "in" / ".hidden").mkdir()
    (tmp_path / "in" / ".hidden" / "c.jsonl").write_text("{}\n")
    found = row_inputs([str(tmp_path / "in")])
    assert [file.name for file in found.files] == [str(tmp_path / "in" / "a.parquet"), str(tmp_path / "in" / "b.jsonl")]
    assert found.total_bytes == 4 and len(found.groups) == 1
    # A URL: listed through pyarrow's filesystems, named by the URL.
    url = (tmp_path / "in").as_uri()
    by_url = row_inputs([url, str(tmp_path / "in" / "b.jsonl")])
    # A file given twice (by its URL, by its path) is read once.
    assert [file.name for file in by_url.files] == [f"{url}/a.parquet", f"{url}/b.jsonl"]
    # The output is never an input; a .txt input makes every input read by the driver.
    assert [f.name for f in row_inputs([str(tmp_path / "in")], exclude=str(tmp_path / "in" / "b.jsonl")).files] == [
        str(tmp_path / "in" / "a.parquet")
    ]
    (tmp_path / "t.txt").write_text("Olaf Scholz.")
    assert row_inputs([str(tmp_path / "in"), str(tmp_path / "t.txt")]) is None
    with pytest.raises(InputError, match="cannot be given beside a URL"):
        row_inputs([url, str(tmp_path / "t.txt")])
    with pytest.raises(InputError, match="no such file or folder"):
        row_inputs([url + "/missing.jsonl"])
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "u.txt").write_text("Olaf Scholz.")
    with pytest.raises(InputError, match="folder holds no .jsonl, .ndjson or .parquet file"):
        row_inputs([(tmp_path / "texts").as_uri()])
    with pytest.raises(InputError, match="unsupported file type"):
        row_inputs([(tmp_path / "t.txt").as_uri()])
    # Read locally, a URL is refused with what it needs.
    with pytest.raises(InputError, match="a URL input is read on a cluster") as refused:
        expand_inputs([url])
    assert "spacy.backend: ray" in refused.value.hint


def test_a_url_is_shown_without_its_keys_and_options():
    from toolkit.preannotate.readers.inputs import shown_url

    given = "s3://KEY:SECRET@newsroom/2024/a.jsonl?endpoint_override=127.0.0.1:9000&scheme=http"
    assert shown_url(given) == "s3://newsroom/2024/a.jsonl"
    assert shown_url("s3://newsroom/") == "s3://newsroom/"
    assert shown_url("file:///data/news@2024.jsonl") == "file:///data/news@2024.jsonl"
    with pytest.raises(InputError) as refused:  # read locally: refused, and named without the keys
        expand_inputs([given])
    assert "SECRET" not in refused.value.message and refused.value.message.startswith("s3://newsroom/2024/a.jsonl:")
