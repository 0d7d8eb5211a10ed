"""The local gateway: API Gateway + Lambda + SageMaker's data capture, played on 127.0.0.1.

`GET /` serves the web page, `POST /predict` runs the cloud's Lambda handler (`proxy.handler`,
see `function`) against the inference server's `/invocations`, and captures what the server
received and answered after answering, so capture never adds latency. `GET /monitoring` shows
the latest monitoring report, and `GET /healthz` says whether the inference server behind it
answers its /ping.

Every request gets an answer: a malformed one a precise 4xx in JSON, a bug a 500 (its
traceback goes to the log), and a client too slow to send one a 408 (see `connections`).
"""

from __future__ import annotations

import html
import json
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from deployment.local.capture import CaptureWriter
from deployment.local.connections import ClientGone, Connection, ConnectionServer, Limits
from deployment.local.function import LocalRuntime, call_function, configure_function, http_api_event
from deployment.local.http1 import (
    HttpError,
    RequestHead,
    body_length,
    escaped,
    read_head,
    response_head,
    shown,
)
from deployment.local.models import LocalModels
from deployment.local.schedule import latest_run
from deployment.local.supervisor import UpstreamStatus, ping
from monitoring.contract import MESSAGE_FILE, REPORT_FILE
from proxy.handler import MAX_PHOTO_BYTES, too_large
from webapp.render import content_type, render_index, static_file

log = logging.getLogger(__name__)

UPSTREAM_TIMEOUT_SECONDS = 60
PAGES = ("/", "/index.html", "/monitoring", "/healthz")
PAGE_METHODS = ("GET", "HEAD", "OPTIONS")
API_METHODS = ("POST", "OPTIONS")
EVERY_METHOD = "GET, HEAD, POST, OPTIONS"
DEFAULT_LIMITS = Limits()


class UpstreamSource(Protocol):
    """Where the inference server is now, and whether it is being restarted."""

    def status(self) -> UpstreamStatus: ...


@dataclass
class GatewayState:
    upstream: UpstreamSource
    model_name: str
    capture: CaptureWriter | None
    monitoring_runs: Path
    endpoint_name: str = "local"  # the function's ENDPOINT_NAME; the stack passes the endpoint's name
    models: LocalModels | None = None  # a multi-model endpoint's models (model_name is the default)

    @property
    def model_names(self) -> tuple[str, ...]:
        """The models the page offers, the default first; () for a single-model endpoint."""
        return self.models.names if self.models else ()


class Exchange:
    """One request on a connection, and the one answer it gets."""

    def __init__(self, connection: Connection, limits: Limits) -> None:
        self.connection = connection
        self.limits = limits
        self.head: RequestHead | None = None
        self.status: int | None = None
        self.close = False
        self.unread_body = False  # a declared body is still in the socket: the connection must close
        self.error = ""
        self.started = time.perf_counter()

    @property
    def keep_alive(self) -> bool:
        return self.status is not None and not self.close

    def send(
        self, status: int, body: bytes, kind: str, cache: str = "no-store", headers: Sequence = ()
    ) -> None:
        if self.unread_body or self.head is None:  # unread request bytes: drain them briefly, then close
            self.close = self.connection.linger = True
        self.close = self.close or not self.head.keep_alive
        fields = [("Content-Type", kind), ("Content-Length", str(len(body)))] if status != 204 else []
        fields += [("Cache-Control", cache), ("X-Content-Type-Options", "nosniff"), *headers]
        if self.close:
            fields.append(("Connection", "close"))
        self.status = status
        if self.head and self.head.method == "HEAD":
            body = b""
        self.connection.send(response_head(status, fields) + body, self.limits.write_seconds)
        self.connection.requests += 1

    def json(self, status: int, document: dict, headers: Sequence = ()) -> None:
        self.send(status, json.dumps(document).encode(), "application/json", headers=headers)

    def fail(self, error: HttpError) -> None:
        """Answer `error` and close, unless an answer is out already (then only closing is left).
        A 404 or 405 to a complete request leaves the connection usable, as for any answer."""
        self.error = error.message
        self.close = self.close or error.status not in (404, 405) or self.status is not None
        if self.status is None:
            try:
                self.json(error.status, {"error": error.message}, error.headers)
            except ClientGone:
                self.close = True

    def log(self) -> None:
        if self.status is None:
            return
        line = escaped(self.head.request_line, 200) if self.head else "-"
        elapsed = (time.perf_counter() - self.started) * 1000
        detail = f" ({self.error})" if self.error else ""
        log.info('%s "%s" %s %.1fms%s', self.connection.peer, line, self.status, elapsed, detail)


class GatewayServer(ConnectionServer):
    def __init__(
        self, address: tuple[str, int], state: GatewayState, limits: Limits = DEFAULT_LIMITS
    ) -> None:
        self.state = state
        configure_function(state.endpoint_name, state.model_names)
        super().__init__(address, self._serve_one, limits)

    def _serve_one(self, connection: Connection) -> bool:
        exchange = Exchange(connection, self.limits)
        try:
            exchange.head = self._read_head(connection)
            if exchange.head is None:
                return False
            self._route(exchange, exchange.head)
        except HttpError as error:
            exchange.fail(error)
        except ClientGone:
            return False
        except Exception:  # the last resort: a bug answers 500 and is logged, the connection is not dropped
            log.exception("internal error answering %s", exchange.head.request_line if exchange.head else "-")
            exchange.fail(HttpError(500, "internal error"))
        finally:
            exchange.log()
        return exchange.keep_alive

    def _read_head(self, connection: Connection) -> RequestHead | None:
        try:
            return read_head(connection)
        except TimeoutError as error:
            raise HttpError(
                408, f"the request head did not arrive within {self.limits.head_seconds:g}s"
            ) from error

    def _route(self, exchange: Exchange, head: RequestHead) -> None:
        try:
            length = body_length(head)
        except HttpError:
            exchange.unread_body = True  # the framing is unknown: nothing after this head can be trusted
            raise
        exchange.unread_body = bool(length)
        expect = head.header("expect").lower()
        if expect and expect != "100-continue":
            raise HttpError(417, f"Expect: {shown(expect)} is not supported; only 100-continue is")
        if head.target == "*":  # OPTIONS *: what the server as a whole accepts
            exchange.send(204, b"", "", headers=[("Allow", EVERY_METHOD)])
            return
        path = head.path
        methods = _methods(path)
        if methods is None:
            raise HttpError(404, f"no page {shown(path)}; the API is POST /predict")
        allow = [("Allow", ", ".join(methods))]
        if head.method == "OPTIONS":
            exchange.send(204, b"", "", headers=allow)
        elif head.method not in methods:
            raise HttpError(405, f"{shown(head.method)} is not allowed on {path}; use {allow[0][1]}", allow)
        elif head.method == "POST":
            self._predict(exchange, head, length)
        else:
            self._page(exchange, path)

    def _page(self, exchange: Exchange, path: str) -> None:
        if path in ("/", "/index.html"):
            page = render_index(
                api_url="/predict", model_name=self.state.model_name, models=self.state.model_names
            )
            exchange.send(200, page.encode(), "text/html; charset=utf-8", cache="no-cache")
        elif path == "/monitoring":
            exchange.send(
                200, _monitoring_page(self.state.monitoring_runs), "text/html; charset=utf-8", "no-cache"
            )
        elif path == "/healthz":
            self._health(exchange)
        else:
            found = static_file(path.removeprefix("/static/"))
            exchange.send(200, found.read_bytes(), content_type(found), cache="max-age=60")

    def _health(self, exchange: Exchange) -> None:
        """200 only when the inference server's /ping is 200; otherwise 503 and what it is doing."""
        upstream = self.state.upstream.status()
        if upstream.restarting:
            restarting = _restarting(upstream)
            exchange.json(503, {"status": "degraded", "upstream": "restarting"}, restarting.headers)
            return
        code = ping(upstream.address)
        if code == 200:
            exchange.json(200, {"status": "ok", "upstream": 200})
            return
        state = "unreachable" if code is None else "loading" if code == 503 else f"failing ({code})"
        exchange.json(503, {"status": "degraded", "upstream": state})

    def _predict(self, exchange: Exchange, head: RequestHead, length: int | None) -> None:
        if length is None:
            raise HttpError(411, "send the photo with a Content-Length")
        if length > MAX_PHOTO_BYTES:  # the handler's own limit, refused before reading the photo
            raise HttpError(413, too_large(length))
        upstream = self.state.upstream.status()
        if upstream.restarting:
            raise _restarting(upstream)
        if head.header("expect").lower() == "100-continue":
            exchange.connection.send(b"HTTP/1.1 100 Continue\r\n\r\n", self.limits.write_seconds)
        body = self._read_body(exchange.connection, length)
        exchange.unread_body = False
        request_id = str(uuid.uuid4())
        runtime = LocalRuntime(upstream.address, UPSTREAM_TIMEOUT_SECONDS, self.state.models)
        event = http_api_event(head, body, request_id, exchange.connection.peer)
        answer = call_function(event, request_id, runtime)
        if runtime.unreachable and (now := self.state.upstream.status()).restarting:
            raise _restarting(now)  # it died under this request: say when to retry, as before it
        exchange.send(answer.status, answer.body, answer.content_type, headers=answer.headers)
        capture = self.state.capture
        if capture and runtime.invocation and capture.sampled():
            capture.write(runtime.invocation)

    def _read_body(self, connection: Connection, length: int) -> bytes:
        seconds = self.limits.body_seconds(length)
        connection.deadline = time.monotonic() + seconds
        try:
            body = connection.read(length)
        except TimeoutError as error:
            raise HttpError(
                408,
                f"the body did not arrive within {seconds:.1f}s: {len(connection.buffer):,} of {length:,} bytes "
                f"(at least {self.limits.body_min_bytes_per_second // 1024} KiB/s after "
                f"{self.limits.body_grace_seconds:g}s)",
            ) from error
        if len(body) < length:
            raise HttpError(400, f"the body ended after {len(body):,} of the {length:,} bytes declared")
        return body


def _methods(path: str) -> tuple[str, ...] | None:
    """The methods a path answers, or None when there is nothing there."""
    if path == "/predict":
        return API_METHODS
    if path in PAGES or (path.startswith("/static/") and static_file(path.removeprefix("/static/"))):
        return PAGE_METHODS
    return None


def _restarting(upstream: UpstreamStatus) -> HttpError:
    seconds = upstream.retry_after_seconds
    return HttpError(
        503, f"the model server is restarting; retry in {seconds}s", [("Retry-After", str(seconds))]
    )


def _monitoring_page(runs: Path) -> bytes:
    run = latest_run(runs)
    report = run / REPORT_FILE if run else None
    if report and report.is_file():
        return report.read_bytes()
    text = "No monitoring run yet: it runs on its schedule, or now with `python -m deployment monitor --now --local`."
    if run:
        text = f"The latest run ({run.name}) wrote no report: " + _read(run / MESSAGE_FILE)
    return f"<!doctype html><title>Monitoring</title><p>{html.escape(text)}</p>".encode()


def _read(path: Path) -> str:
    return path.read_text().strip() if path.is_file() else "no message"
