"""The client's settings, error descriptions and the one retry predicate, without a server."""

from __future__ import annotations

import httpx
import pytest
from label_studio_sdk.core.api_error import ApiError
from pydantic import SecretStr

from toolkit.errors import ServerError
from toolkit.labelstudio.client import ServerSettings, connect, describe_api_error, public_url, transient


def _settings() -> ServerSettings:
    return ServerSettings(url="http://127.0.0.1:9", api_key=SecretStr("k"), origin="test")


def test_a_request_over_the_server_limit_says_which_setting_to_lower():
    error = describe_api_error(ApiError(status_code=413, headers={}, body="too large"), _settings(), "import tasks")
    assert "rejected a request as too large" in error.message and "push.max_request_mb" in error.hint
    assert not transient(error)
    assert transient(ServerError("x", status=503)) and transient(ServerError("timeout"))


def test_label_studios_answer_to_a_body_over_its_limit_is_reported_as_too_large():
    """Seen with DATA_UPLOAD_MAX_MEMORY_SIZE=100000 and a 0.8 MB import: a 500 with this detail."""
    body = {"status_code": 500, "detail": "You cannot access body after reading from request's data stream"}
    error = describe_api_error(ApiError(status_code=500, headers={}, body=body), _settings(), "import tasks")
    assert error.status == 413 and "too large" in error.message
    assert not transient(error)  # nothing was imported: no check-and-resend round


def test_public_url_drops_credentials_and_query():
    assert public_url("https://user:pw@ls.example.org:8443/sub/?token=abc#x") == "https://ls.example.org:8443/sub"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ServerError("no answer"), True),
        (ServerError("x", status=502), True),
        (ServerError("x", status=409), True),
        (ServerError("x", status=400), False),
        (ServerError("x", status=404), False),
        (ApiError(status_code=503, headers={}, body=""), True),
        (ApiError(status_code=429, headers={}, body=""), True),
        (ApiError(status_code=401, headers={}, body=""), False),
        (httpx.ReadTimeout("slow"), True),
        (httpx.RemoteProtocolError("cut"), True),
        (ValueError("a bug"), False),
    ],
)
def test_one_retry_predicate_for_writes_and_downloads(error, expected):
    assert transient(error) is expected


def test_connect_without_the_check_sends_nothing():
    # Port 9 (discard) is closed here: a request would fail, so none is made.
    client = connect(_settings(), check=False)
    assert client is not None
    with pytest.raises(ServerError, match="cannot reach Label Studio at http://127.0.0.1:9"):
        connect(_settings(), timeout=2)
