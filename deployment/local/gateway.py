"""The local gateway: API Gateway + Lambda + SageMaker's data capture, played on 127.0.0.1.

`GET /` serves the web page, `POST /predict` forwards the photo to the inference server's
`/invocations` exactly as the cloud Lambda does, and captures the exchange after answering,
so capture never adds latency. `GET /monitoring` shows the latest monitoring report.
"""

from __future__ import annotations

import html
import http.client
import json
import logging
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from deployment.local.capture import CaptureWriter
from deployment.local.schedule import latest_run
from inference import codec
from inference.errors import RequestError
from monitoring.capture import Invocation
from webapp.render import content_type, render_index, static_file

log = logging.getLogger(__name__)

UPSTREAM_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Upstream:
    host: str
    port: int


@dataclass
class GatewayState:
    upstream: Upstream
    model_name: str
    capture: CaptureWriter | None
    monitoring_runs: Path


class GatewayServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], state: GatewayState) -> None:
        self.state = state
        super().__init__(address, GatewayHandler)


class GatewayHandler(BaseHTTPRequestHandler):
    server: GatewayServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path in ("/", "/index.html"):
            page = render_index(api_url="/predict", model_name=self.server.state.model_name)
            self._send(200, page.encode(), "text/html; charset=utf-8", cache="no-cache")
        elif path.startswith("/static/") and (found := static_file(path.removeprefix("/static/"))):
            self._send(200, found.read_bytes(), content_type(found), cache="max-age=60")
        elif path == "/monitoring":
            self._monitoring_report()
        elif path == "/healthz":
            self._json(200, {"status": "ok", "upstream": self._upstream_ping()})
        else:
            self._json(404, {"error": f"no page {path}"})

    def do_POST(self) -> None:
        if self.path.split("?", 1)[0] != "/predict":
            self._json(404, {"error": f"no route {self.path}; POST /predict"})
            return
        length = self.headers.get("Content-Length")
        if length is None or not length.isdigit():
            self._json(411, {"error": "send the photo with a Content-Length"})
            return
        try:
            codec.check_body_size(int(length))
        except RequestError as error:
            self.close_connection = True
            codec.discard_body(self.rfile, int(length))
            self._json(error.status, {"error": error.message})
            return
        body = self.rfile.read(int(length))
        self._predict(body, self.headers.get("Content-Type", ""))

    def _predict(self, body: bytes, request_type: str) -> None:
        inference_id = str(uuid.uuid4())
        moment = datetime.now(UTC)
        try:
            status, response_type, answer = _invoke(self.server.state.upstream, body, request_type)
        except (ConnectionError, socket.gaierror) as error:
            self._json(502, {"error": f"the inference server is not reachable ({error})"})
            return
        except TimeoutError:
            self._json(
                504, {"error": f"the inference server did not answer within {UPSTREAM_TIMEOUT_SECONDS}s"}
            )
            return
        self._send(status, answer, response_type, extra={"X-Inference-Id": inference_id})
        capture = self.server.state.capture
        if capture and capture.sampled():
            capture.write(
                Invocation(body, request_type, answer, response_type, moment, inference_id=inference_id)
            )

    def _monitoring_report(self) -> None:
        run = latest_run(self.server.state.monitoring_runs)
        report = run / "report.html" if run else None
        if report and report.is_file():
            self._send(200, report.read_bytes(), "text/html; charset=utf-8", cache="no-cache")
            return
        text = "No monitoring run yet: it runs on its schedule, or now with `python -m deployment monitor --now --local`."
        if run:
            text = f"The latest run ({run.name}) wrote no report: " + _read(run / "message")
        self._send(
            200,
            f"<!doctype html><title>Monitoring</title><p>{html.escape(text)}</p>".encode(),
            "text/html; charset=utf-8",
        )

    def _upstream_ping(self) -> int | str:
        upstream = self.server.state.upstream
        connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=2)
        try:
            connection.request("GET", "/ping")
            return connection.getresponse().status
        except OSError as error:
            return f"unreachable: {error}"
        finally:
            connection.close()

    def _json(self, status: int, document: dict) -> None:
        self._send(status, json.dumps(document).encode(), "application/json")

    def _send(
        self, status: int, body: bytes, kind: str, cache: str = "no-store", extra: dict | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        elapsed = (time.perf_counter() - getattr(self, "_started", time.perf_counter())) * 1000
        log.info('%s "%s" %s %.1fms', self.address_string(), self.requestline, code, elapsed)

    def parse_request(self) -> bool:
        self._started = time.perf_counter()
        return super().parse_request()

    def log_message(self, format: str, *args: object) -> None:
        log.debug(format, *args)


def _invoke(upstream: Upstream, body: bytes, request_type: str) -> tuple[int, str, bytes]:
    """POST /invocations, as SageMaker's runtime would: the body and its content type untouched."""
    connection = http.client.HTTPConnection(upstream.host, upstream.port, timeout=UPSTREAM_TIMEOUT_SECONDS)
    try:
        headers = {"Content-Type": request_type} if request_type else {}
        connection.request("POST", "/invocations", body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", "application/json"), response.read()
    finally:
        connection.close()


def _read(path: Path) -> str:
    return path.read_text().strip() if path.is_file() else "no message"
