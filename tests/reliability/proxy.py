"""A small fault-injecting HTTP proxy in front of a real Label Studio server.

The command under test talks to the proxy (``LABEL_STUDIO_URL``); the proxy forwards
each request to the real server, unless a fault says otherwise. Faults are decided per
request, in request order, by a seeded ``random.Random`` (the same seed gives the same
faults) or by rules keyed on the method and path (for faults at an exact point, such
as "the third import").

Faults:

- ``delay``: wait, then forward (a slow server);
- ``fail_before``: answer 500 without forwarding (the server never saw the request);
- ``fail_after``: forward, then answer 500 (the server did the work, the client hears
  an error: the case that duplicates non-idempotent requests when retried);
- ``drop_after``: forward, then close the connection without an answer;
- ``truncate``: forward, send the headers and half the body, then close.

When the real server does not accept the connection (it was stopped), the proxy
closes the client's connection without an answer, as a dead server would.
"""

from __future__ import annotations

import hashlib
import http.client
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-connection",
    "content-length",
}


@dataclass(frozen=True)
class Fault:
    kind: str  # pass | delay | fail_before | fail_after | drop_after | truncate
    delay: float = 0.0


PASS = Fault("pass")


@dataclass(frozen=True)
class Request:
    number: int  # 1-based, in arrival order
    method: str
    path: str
    body: bytes

    @property
    def key(self) -> str:
        """Same key for the same request sent again (a retry)."""
        return hashlib.sha256(f"{self.method} {self.path}\n".encode() + self.body).hexdigest()[:16]


@dataclass
class SeededFaults:
    """Delays and 500s on a share of requests, the same for the same seed."""

    seed: int
    fail_share: float = 0.0
    delay_share: float = 0.0
    delay_range: tuple[float, float] = (0.2, 1.0)
    # 500s after forwarding, as a share of the failures (the server did the work).
    fail_after_share: float = 0.5
    # Requests whose path contains one of these are never faulted (e.g. the health check).
    spare: tuple[str, ...] = ("/health",)
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def __call__(self, request: Request) -> Fault:
        # Three draws per request, always, so one decision never shifts the next.
        fail, after, slow = self._random.random(), self._random.random(), self._random.random()
        if any(part in request.path for part in self.spare):
            return PASS
        if fail < self.fail_share:
            return Fault("fail_after" if after < self.fail_after_share else "fail_before")
        if slow < self.delay_share:
            low, high = self.delay_range
            return Fault("delay", delay=low + (high - low) * self._random.random())
        return PASS


@dataclass
class Record:
    request: Request
    fault: Fault
    status: int | None  # what the client got; None for a dropped connection


class FaultProxy:
    """``with FaultProxy(upstream, plan) as proxy:`` ... ``proxy.url``."""

    def __init__(
        self,
        upstream: str,
        plan: Callable[[Request], Fault] | None = None,
        *,
        on_request: Callable[[Request], None] | None = None,
        on_forwarded: Callable[[Request], None] | None = None,
    ) -> None:
        self.upstream = urlsplit(upstream)
        self.plan = plan or (lambda request: PASS)
        self.on_request = on_request  # called before a request is forwarded
        # Called once the server answered, before the client hears it (e.g. to stop the
        # server after it did the work of an import, and before the client knows).
        self.on_forwarded = on_forwarded
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._count = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # What happened, for assertions.
    def faults(self, *kinds: str) -> list[Record]:
        return [r for r in self.records if r.fault.kind in kinds]

    def max_sends_of_one_request(self) -> int:
        """How often the most-sent request was sent: 1 + its retries."""
        counts = Counter(r.request.key for r in self.records)
        return max(counts.values(), default=0)

    def _next(self, method: str, path: str, body: bytes) -> tuple[Request, Fault]:
        with self._lock:
            self._count += 1
            request = Request(self._count, method, path, body)
            fault = self.plan(request)
        return request, fault

    def _record(self, request: Request, fault: Fault, status: int | None) -> None:
        with self._lock:
            self.records.append(Record(request, fault, status))

    def _forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=600)
        try:
            connection.request(method, path, body=body or None, headers=headers)
            response = connection.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            connection.close()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                return

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            def _answer(
                self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes, *, cut: bool = False
            ) -> None:
                self.send_response_only(status, reason)
                for name, value in headers:
                    if name.lower() not in HOP_BY_HOP:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body[: len(body) // 2] if cut else body)
                self.wfile.flush()
                self.close_connection = True
                if cut:
                    self._drop()

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                request, fault = proxy._next(self.command, self.path, body)
                if proxy.on_request is not None:
                    proxy.on_request(request)
                if fault.kind == "delay":
                    time.sleep(fault.delay)
                if fault.kind == "fail_before":
                    proxy._record(request, fault, 500)
                    self._answer(500, "Internal Server Error", [("Content-Type", "text/plain")], b"injected fault")
                    return
                headers = {
                    name: value for name, value in self.headers.items() if name.lower() not in HOP_BY_HOP | {"host"}
                }
                headers["Host"] = self.upstream_host
                try:
                    status, reason, response_headers, response_body = proxy._forward(
                        self.command, self.path, headers, body
                    )
                except OSError:  # the server is down or died mid-answer: so is the answer
                    proxy._record(request, fault, None)
                    self._drop()
                    return
                if proxy.on_forwarded is not None:
                    proxy.on_forwarded(request)
                if fault.kind == "fail_after":
                    proxy._record(request, fault, 500)
                    self._answer(500, "Internal Server Error", [("Content-Type", "text/plain")], b"injected fault")
                elif fault.kind == "drop_after":
                    proxy._record(request, fault, None)
                    self._drop()
                elif fault.kind == "truncate":
                    proxy._record(request, fault, None)
                    self._answer(status, reason, response_headers, response_body, cut=True)
                else:
                    proxy._record(request, fault, status)
                    self._answer(status, reason, response_headers, response_body)

            upstream_host = f"{proxy.upstream.hostname}:{proxy.upstream.port}"
            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

        return Handler
