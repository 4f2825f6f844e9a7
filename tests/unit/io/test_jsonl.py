"""JSON Lines as every reader of the toolkit reads them."""

from __future__ import annotations

import io

import pytest

from toolkit.errors import InputError
from toolkit.io.jsonl import BadLine, json_lines, read_json_lines


def _lines(data: bytes):
    return list(json_lines(io.BytesIO(data)))


def test_only_newline_ends_a_line_and_a_first_bom_is_dropped():
    data = '\ufeff{"text": "a\u2028b\u0085c"}\r\n\n   \n{"n": 2}\n'.encode()
    assert _lines(data) == [(1, {"text": "a\u2028b\u0085c"}), (4, {"n": 2})]


def test_bad_lines_are_values_and_the_next_lines_go_on():
    data = b'{"text": \n\xff\xfe\n[1]\n'
    assert _lines(data) == [
        (1, BadLine("broken JSON", "broken JSON (Expecting value at column 10)")),
        (2, BadLine("invalid UTF-8", "not valid UTF-8 (byte 1 of the line)")),
        (3, [1]),
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"a": 1}\n{"a": \n', r"x.jsonl:2: broken JSON \(Expecting value at column 7\)"),
        (b'{"a": 1}\n\xff\n', r"x.jsonl:2: not valid UTF-8 \(byte 1 of the line\)"),
        (b'{"a": 1}\n[1]\n', r"x.jsonl:2: expected a JSON object, got list"),
    ],
)
def test_read_json_lines_names_the_file_and_line(tmp_path, data, message):
    path = tmp_path / "x.jsonl"
    path.write_bytes(data)
    with pytest.raises(InputError, match=message):
        list(read_json_lines(path))


def test_a_missing_file(tmp_path):
    with pytest.raises(InputError, match="none.jsonl: file not found"):
        list(read_json_lines(tmp_path / "none.jsonl"))
