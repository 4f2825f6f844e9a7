"""The export download: retried as a whole, streamed to gzip with its sha256, read back as a stream."""

from __future__ import annotations

import gzip
import hashlib
import json
from types import SimpleNamespace

import httpx
import pytest
from label_studio_sdk.core.api_error import ApiError
from pydantic import SecretStr

from toolkit.errors import InputError, ServerError
from toolkit.labelstudio.client import ServerSettings
from toolkit.labelstudio.export import download_export, iter_tasks
from toolkit.progress import ProgressEvent

SETTINGS = ServerSettings(url="http://127.0.0.1:9", api_key=SecretStr("k"), origin="test")
BODY = json.dumps([{"id": 1, "data": {"text": "Paris."}}, {"id": 2, "data": {"text": "Lyon."}}]).encode()


class Exports:
    """Stands in for ``client.projects.exports``: each download fails with the next of ``failures``."""

    def __init__(self, failures):
        self.failures = list(failures)
        self.calls = 0

    def download_sync(self, **_):
        self.calls += 1
        yield BODY[:10]
        if self.failures:
            raise self.failures.pop(0)
        yield BODY[10:]


def client(exports):
    return SimpleNamespace(projects=SimpleNamespace(exports=exports))


def test_a_broken_download_is_tried_again_whole(tmp_path):
    exports = Exports([httpx.RemoteProtocolError("cut")])
    events: list[ProgressEvent] = []
    dest = tmp_path / "export.json.gz"
    download = download_export(client(exports), SETTINGS, 3, dest, timeout=5, retries=1, on_progress=events.append)
    assert (download.attempts, exports.calls, download.size) == (2, 2, len(BODY))
    assert download.sha256 == hashlib.sha256(BODY).hexdigest() and gzip.decompress(dest.read_bytes()) == BODY
    assert {event.phase for event in events} == {"download"}
    assert sum(event.advance for event in events) == 10 + len(BODY)  # the broken attempt's bytes too
    assert [task["id"] for task in iter_tasks(dest)] == [1, 2]
    assert not list(tmp_path.glob(".*.part"))


def test_a_refusal_is_not_tried_again_and_the_last_failure_names_the_attempts(tmp_path):
    refused = Exports([ApiError(status_code=403, headers={}, body="no")])
    with pytest.raises(ServerError, match=r"forbids this user to export project 3 \(after 1 attempts\)"):
        download_export(client(refused), SETTINGS, 3, tmp_path / "e.json.gz", timeout=5, retries=3)
    assert refused.calls == 1
    broken = Exports([ApiError(status_code=502, headers={}, body="bad gateway")] * 2)
    with pytest.raises(ServerError, match=r"answered 502 .*\(after 2 attempts\)") as error:
        download_export(client(broken), SETTINGS, 3, tmp_path / "e.json.gz", timeout=5, retries=1)
    assert "pull.retries" in error.value.hint and not list(tmp_path.iterdir())


def test_a_broken_export_file_is_an_input_error(tmp_path):
    path = tmp_path / "e.json.gz"
    path.write_bytes(gzip.compress(b'[{"id": 1}, {"id": '))
    with pytest.raises(InputError, match="the export is not valid JSON"):
        list(iter_tasks(path))
    path.write_bytes(gzip.compress(b"[1]"))
    with pytest.raises(InputError, match="holds a int where a task belongs"):
        list(iter_tasks(path))
    path.write_bytes(b"not gzip")
    with pytest.raises(InputError, match="cannot read the raw pull"):
        list(iter_tasks(path))


def test_the_review_tasks_come_from_the_review_projects_export_and_the_file_goes_once_read(tmp_path):
    from toolkit.labelstudio.review import export_review_tasks

    exports = Exports([httpx.ReadTimeout("slow")])
    dest = tmp_path / "raw" / ".review-export.json.gz"
    tasks = export_review_tasks(client(exports), SETTINGS, 7, dest, timeout=5, retries=1)
    assert [task["data"]["text"] for task in tasks] == ["Paris.", "Lyon."]
    assert exports.calls == 2  # the review export is retried as the main one is
    assert not dest.exists() and not list(dest.parent.glob(".*.part"))
