"""Which Label Studio server to talk to, and a client for it.

The server comes from ``LABEL_STUDIO_URL`` and ``LABEL_STUDIO_API_KEY`` (the
environment first, then a ``.env`` file in the working directory); when neither is
set and the local server (``toolkit labelstudio up``) is running, from the local one.
The API key is held as a ``SecretStr`` so it never shows in a repr, a log or a message.

Every client comes from ``connect`` (which wires in the installed HTTP hooks); requests the
SDK cannot make go through ``post_json``/``get_json``, the only users of its internals;
``transient`` is the one answer to "may this failure be retried?" for push and pull.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from toolkit import hooks
from toolkit.errors import ServerError
from toolkit.labelstudio import localserver

if TYPE_CHECKING:  # the SDK imports pandas: load it only where a server is used
    from label_studio_sdk import LabelStudio

URL_VARIABLE = "LABEL_STUDIO_URL"
KEY_VARIABLE = "LABEL_STUDIO_API_KEY"


def public_url(url: str) -> str:
    """The server URL without user, password, query or fragment: safe to print or write down.

    A URL may carry credentials (``http://user:pw@host``) or a token in its query;
    every message that names the server uses this form.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:  # not a number: shown as the host alone
        port = None
    if port:
        host = f"{host}:{port}"
    return urlunsplit((parts.scheme, host, parts.path.rstrip("/"), "", ""))


@dataclass(frozen=True)
class ServerSettings:
    url: str  # as configured, possibly with credentials: never printed (see public_url)
    api_key: SecretStr
    origin: str  # where the settings came from, for messages

    @property
    def public_url(self) -> str:
        return public_url(self.url)

    def __repr__(self) -> str:
        return f"ServerSettings(url={self.public_url!r}, api_key=SecretStr('**********'), origin={self.origin!r})"


def _dotenv_values(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    from dotenv import dotenv_values

    return {key: value for key, value in dotenv_values(path).items() if value}


def resolve_server(*, env_file: Path = Path(".env"), home: Path = localserver.DEFAULT_HOME) -> ServerSettings:
    """Find the server to use; raises ServerError saying how to configure one."""
    sources: list[tuple[str, dict[str, str]]] = [
        ("environment", dict(os.environ)),
        (str(env_file), _dotenv_values(env_file)),
    ]
    for origin, values in sources:
        url, key = values.get(URL_VARIABLE, "").strip(), values.get(KEY_VARIABLE, "").strip()
        if url and key:
            _check_url(url, origin)
            return ServerSettings(url=url.rstrip("/"), api_key=SecretStr(key), origin=origin)
        if url or key:
            missing = KEY_VARIABLE if url else URL_VARIABLE
            raise ServerError(
                f"{origin} sets {URL_VARIABLE if url else KEY_VARIABLE} but not {missing}",
                hint="set both, or neither to use the local server from `toolkit labelstudio up`",
            )
    credentials = localserver.read_credentials(home)
    if credentials is not None and localserver.is_up(credentials):
        return ServerSettings(url=credentials.url, api_key=credentials.api_key, origin=f"local server ({home})")
    raise ServerError(
        "no Label Studio server configured and the local one is not running",
        hint=f"start it with `toolkit labelstudio up`, or set {URL_VARIABLE} and {KEY_VARIABLE}",
    )


def _check_url(url: str, origin: str) -> None:
    parts = urlsplit(url)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ServerError(
            f"{origin} sets {URL_VARIABLE} to {public_url(url) or 'something'!r}, "
            "which is not a usable http(s) URL (a scheme, a host, a numeric port)",
            hint="e.g. http://localhost:8080",
        )


def describe_api_error(error: Exception, settings: ServerSettings, action: str) -> ServerError:
    """A ServerError for a failed request, with what to do about it."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    where = f"Label Studio at {settings.public_url} ({settings.origin})"
    if isinstance(error, ApiError):
        status = error.status_code
        if status == 401:
            return ServerError(
                f"{where} refused the API key while trying to {action} (401)",
                hint=f"check {KEY_VARIABLE}; for the local server run `toolkit labelstudio up`",
                status=status,
            )
        if status == 403:
            return ServerError(f"{where} forbids this user to {action} (403)", status=status)
        body_text = str(error.body)
        if status == 500 and "cannot access body after reading" in body_text:
            # Label Studio's answer to a body over its DATA_UPLOAD_MAX_MEMORY_SIZE: Django
            # refuses to read it and the import view fails on the half-read request.
            # Nothing was imported; report it as what it is.
            status = 413
        if status == 413:
            return ServerError(
                f"{where} rejected a request as too large while trying to {action} (413)",
                hint="lower push.max_request_mb (or push.batch_size) in the config",
                status=status,
            )
        body = error.body if isinstance(error.body, (str, dict, list)) else ""
        return ServerError(f"{where} answered {status} while trying to {action}: {str(body)[:300]}", status=status)
    if isinstance(error, httpx.TimeoutException):
        return ServerError(f"{where} did not answer in time while trying to {action}")
    if isinstance(error, httpx.HTTPError):
        return ServerError(
            f"cannot reach {where} to {action} ({type(error).__name__})",
            hint="is it running? `toolkit labelstudio status` checks the local one",
        )
    return ServerError(f"{where}: failed to {action} ({type(error).__name__}: {error})")


# Per-call options for requests that create something (projects, tasks, predictions).
# The SDK retries POSTs on 5xx, 408/409/429 and connection errors, which can import
# the same batch twice; these calls go out once and the caller checks what landed
# before sending again (see toolkit.labelstudio.tasks.write_once_then_check).
NO_RETRY: dict[str, Any] = {"max_retries": 0, "timeout": 600}
# Statuses that say the server was busy or in a conflict, not that it refused the request.
TRANSIENT_STATUSES = frozenset({408, 409, 429})


def connect(settings: ServerSettings, *, timeout: float = 60, check: bool = True) -> LabelStudio:
    """A client for the server, with the installed HTTP hooks (``toolkit.hooks``) wired in.

    With ``check`` the client is tried with one cheap authenticated request, so a wrong
    URL or key fails here; without it the caller's first request does that (and fails
    the same way, as a ServerError naming the API key), one request saved.
    Reads keep the SDK's retries (they are safe to repeat); writes pass NO_RETRY.
    """
    import httpx
    from label_studio_sdk import LabelStudio
    from label_studio_sdk.core.api_error import ApiError

    try:
        http = httpx.Client(timeout=timeout, follow_redirects=True, event_hooks=hooks.current().http_event_hooks())
        client = LabelStudio(
            base_url=settings.url, api_key=settings.api_key.get_secret_value(), timeout=timeout, httpx_client=http
        )
        if check:
            client.users.whoami()
    except (ApiError, httpx.HTTPError) as error:
        raise describe_api_error(error, settings, "log in") from None
    return client


def _request(client: LabelStudio, path: str, **options: Any) -> Any:
    # The SDK has no public way to send a body it did not build or to read an answer
    # without its typed models: this is the one place that reaches into it.
    return client._client_wrapper.httpx_client.request(path, **options)


def post_json(client: LabelStudio, path: str, body: bytes) -> Any:
    """POST a body already encoded as JSON, once, with the client's authentication.

    Imports are built and size-checked as JSON by the caller; sending those bytes
    saves the SDK's per-field re-encoding of thousands of tasks.
    """
    response = _request(
        client,
        path,
        method="POST",
        content=body,
        headers={"Content-Type": "application/json"},
        request_options=NO_RETRY,
    )
    raise_for_status(response)
    try:
        return response.json() if response.content else None
    except ValueError:  # a success without a JSON body (the labeling config check may answer so)
        return None


def raise_for_status(response: Any) -> None:
    """Raise the SDK's ApiError for an error answer, as the SDK's own calls do (JSON body, else text)."""
    from label_studio_sdk.core.api_error import ApiError

    if response.status_code >= 400:
        try:
            detail: Any = response.json()
        except ValueError:
            detail = response.text
        raise ApiError(status_code=response.status_code, headers=dict(response.headers), body=detail)


def get_json(client: LabelStudio, path: str, params: dict[str, Any], *, missing_ok: bool = False) -> Any:
    """GET a JSON answer as plain Python objects (reads keep the SDK's retries).

    For listings of thousands of tasks: the SDK's typed models cost more time to build
    than the request takes. With ``missing_ok`` a 404 answers None.
    """
    response = _request(client, path, method="GET", params=params)
    if missing_ok and response.status_code == 404:
        return None
    raise_for_status(response)
    return response.json()


def transient(error: BaseException) -> bool:
    """Whether a failed request says nothing definite: worth looking and sending again.

    A timeout, a dropped connection, a 5xx or a 408/409/429 says nothing about what the
    server did: a write may still have been carried out (so push looks before sending
    it again), a read (the export download) may work the next time. Any other 4xx is a
    definite refusal. Takes a ServerError (from ``call``) as well as the SDK's and
    httpx's own errors.
    """
    if isinstance(error, ServerError):
        # No status: no answer came (a timeout, a dropped connection).
        return error.status is None or error.status >= 500 or error.status in TRANSIENT_STATUSES
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    if isinstance(error, ApiError):
        status = error.status_code
        return status is not None and (status >= 500 or status in TRANSIENT_STATUSES)
    return isinstance(error, httpx.TransportError)


def call(settings: ServerSettings, action: str, function: Any, *args: Any, **kwargs: Any) -> Any:
    """Run one SDK call, turning transport and API errors into a ServerError about ``action``."""
    import httpx
    from label_studio_sdk.core.api_error import ApiError

    try:
        return function(*args, **kwargs)
    except (ApiError, httpx.HTTPError) as error:
        raise describe_api_error(error, settings, action) from None
