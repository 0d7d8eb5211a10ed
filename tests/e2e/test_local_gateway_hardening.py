"""The local gateway against odd and hostile clients, over raw sockets on 127.0.0.1.

The gateway runs in this process with its timeouts cut to half a second, in front of a tiny
fake inference server, so every "answered within" bound below is a second or two.
"""

from __future__ import annotations

import json
import logging
import random
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from deployment.local import gateway as gateway_module
from deployment.local.connections import Limits
from deployment.local.gateway import GatewayServer, GatewayState
from deployment.local.supervisor import Upstream, UpstreamStatus
from tests.conftest import free_port

FAST = Limits(
    head_seconds=0.5,
    keep_alive_seconds=0.5,
    body_grace_seconds=0.5,
    write_seconds=2,
    linger_seconds=0.3,
    workers=4,
    max_connections=400,
)
BOUND = 2.0  # seconds within which every odd request is answered and its connection closed
STATUS_LINE = re.compile(rb"HTTP/1\.1 (\d{3}) [A-Za-z -]+\r\n")


class FakeInference(BaseHTTPRequestHandler):
    """/ping and /invocations as the real server answers them, without a model."""

    protocol_version = "HTTP/1.1"
    ping_status = 200

    def do_GET(self) -> None:
        self._json(self.ping_status, {"status": "ready" if self.ping_status == 200 else "loading"})

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self._json(200, {"keypoints": [], "bytes": len(body)})

    def _json(self, status: int, document: dict) -> None:
        body = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@dataclass(frozen=True)
class Restarting:
    """An upstream whose supervisor is between a crash and the next start."""

    address: Upstream

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(self.address, restarting=True, retry_after_seconds=3)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes
    seconds: float  # from sending the request to the end of the answer
    closed: bool  # the gateway closed the connection after answering


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeInference)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Upstream("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def start_gateway(upstream, limits: Limits = FAST, tmp: Path = Path("/nonexistent")) -> GatewayServer:
    server = GatewayServer(("127.0.0.1", 0), GatewayState(upstream, "test-model", None, tmp), limits)
    threading.Thread(target=server.serve_forever, name="gateway-loop", daemon=True).start()
    return server


@pytest.fixture
def gateway(upstream) -> Iterator[int]:
    server = start_gateway(upstream)
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def read_reply(sock: socket.socket, started: float, wait: float = BOUND, head_request: bool = False) -> Reply:
    """One response from `sock` (the body by its Content-Length), and whether the server closed."""
    sock.settimeout(wait)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"the connection closed without an answer after {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert STATUS_LINE.match(head + b"\r\n"), head
    headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
    length = 0 if head_request else int(headers.get("Content-Length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, "the connection closed in the middle of the body"
        body += chunk
    closed = headers.get("Connection") == "close" and _closes(sock)
    return Reply(int(head[9:12]), headers, body, time.monotonic() - started, closed)


def _closes(sock: socket.socket) -> bool:
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def send(port: int, data: bytes, wait: float = BOUND) -> Reply:
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as sock:
        started = time.monotonic()
        sock.sendall(data)
        return read_reply(sock, started, wait, head_request=data.startswith(b"HEAD "))


def error_of(reply: Reply) -> str:
    assert reply.headers["Content-Type"] == "application/json"
    return json.loads(reply.body)["error"]


GET = b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n"


@pytest.mark.parametrize(
    ("request_bytes", "status", "message"),
    [
        (GET % (b"/static/" + b"a" * 4000), 404, "no page '/static/aaa"),
        (b"GET /static/\0x HTTP/1.1\r\n\r\n", 400, "control character"),
        (GET % b"/static/%00", 400, "control character"),
        (GET % b"/healthz?x=\0", 400, "control character"),
        (GET % b"/static/..%2f..%2fetc%2fpasswd", 404, "no page"),
        (GET % b"/%ff", 400, "not UTF-8"),
        (GET % b"healthz", 400, "must be a path starting with /"),
        (GET % b"http://example.com/", 400, "must be a path starting with /"),
        (b"GET / HTTP/2.0\r\n\r\n", 505, "use HTTP/1.1"),
        (b"GET / HTTX/1.1\r\n\r\n", 400, "is not an HTTP version"),
        (b"GET  / HTTP/1.1\r\n\r\n", 400, "malformed request line"),
        (b"G\xe9T / HTTP/1.1\r\n\r\n", 400, "must be ASCII"),
        (b"GET /\r\n", 400, "no HTTP version"),
        (b"GET / HTTP/1.1\r\nX-Long: " + b"a" * 9000 + b"\r\n\r\n", 431, "longer than 8,192 bytes"),
        (b"GET / HTTP/1.1\r\n" + b"X-A: b\r\n" * 101 + b"\r\n", 431, "more than 100 header fields"),
        (b"GET / HTTP/1.1\r\nno colon here\r\n\r\n", 400, "malformed header line"),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "malformed header line"),
        (b"GET / HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400, "control character"),
        (b"GET / HTTP/1.1\r\n folded\r\n\r\n", 400, "line folding"),
        (b"GET / HTTP/1.1\r\nExpect: magic\r\n\r\n", 417, "only 100-continue"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "not 'abc'"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "not '-5'"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: \xb2\r\n\r\n", 400, "whole number of bytes"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400, "whole number of bytes"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400, "exactly one"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 100000000000000000000\r\n\r\n", 413, "21-digit"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n", 413, "5000-digit"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 7000000\r\n\r\n", 413, "7,000,000 bytes"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 4500001\r\n\r\n", 413, "the limit is 4,500,000 bytes"),
        (
            b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
            411,
            "chunked",
        ),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "'gzip' is not implemented"),
        (b"POST /predict HTTP/1.1\r\n\r\n", 411, "Content-Length"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 408, "3 of 10 bytes"),
        (b"PUT / HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi", 405, "use GET, HEAD, OPTIONS"),
    ],
)
def test_each_odd_request_gets_a_precise_error_and_its_connection_closed(
    gateway, request_bytes, status, message
):
    reply = send(gateway, request_bytes)
    # Only a well-formed request with no body (a 404 or 405) leaves its connection usable.
    kept = status in (404, 405) and b"Content-Length" not in request_bytes
    assert (reply.status, reply.closed) == (status, not kept), reply
    assert message in error_of(reply)
    assert reply.seconds < BOUND


def test_a_client_that_sends_nothing_hears_408_and_is_closed(gateway):
    with socket.create_connection(("127.0.0.1", gateway)) as sock:
        reply = read_reply(sock, time.monotonic())
    assert (reply.status, reply.closed) == (408, True)
    assert FAST.head_seconds <= reply.seconds < FAST.head_seconds + 1


def test_a_slowloris_client_hears_408_at_the_head_deadline(gateway):
    with socket.create_connection(("127.0.0.1", gateway)) as sock:
        started = time.monotonic()
        sock.settimeout(0.05)
        answer = b""
        for byte in b"GET / HTTP/1.1\r\n" + b"X-Drip: " + b"a" * 1000:  # never ends: one byte per 50 ms
            try:
                sock.send(bytes([byte]))
                answer = sock.recv(65536)
            except (TimeoutError, BlockingIOError):
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if answer:
                break
        elapsed = time.monotonic() - started
    assert answer.startswith(b"HTTP/1.1 408 ")
    assert elapsed < FAST.head_seconds + 1


def test_a_refused_huge_body_is_answered_at_once_without_waiting_for_the_body(gateway):
    with socket.create_connection(("127.0.0.1", gateway)) as sock:
        started = time.monotonic()
        sock.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 7000000\r\n\r\n" + b"x" * 1000)
        reply = read_reply(sock, started)
    assert (reply.status, reply.closed) == (413, True)
    assert reply.seconds < FAST.linger_seconds + 0.5


def test_a_kept_alive_connection_serves_several_requests_then_closes_when_idle(gateway):
    with socket.create_connection(("127.0.0.1", gateway)) as sock:
        for _ in range(3):
            sock.sendall(GET % b"/healthz")
            reply = read_reply(sock, time.monotonic())
            assert (reply.status, reply.headers.get("Connection")) == (200, None)
        started = time.monotonic()
        sock.settimeout(BOUND)
        assert sock.recv(1) == b""  # closed quietly: no 408 for a connection that is only idle
    assert FAST.keep_alive_seconds <= time.monotonic() - started + 0.05 < FAST.keep_alive_seconds + 1


def test_pipelined_requests_are_answered_in_order(gateway):
    last = b"GET /static/app.js HTTP/1.1\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", gateway), timeout=BOUND) as sock:
        sock.sendall(GET % b"/healthz" + GET % b"/nowhere" + last)
        stream = b""
        while chunk := sock.recv(65536):
            stream += chunk
    statuses = []
    while stream:  # the answers back to back, each as long as its Content-Length says
        head, _, rest = stream.partition(b"\r\n\r\n")
        statuses.append(int(head[9:12]))
        stream = rest[int(re.search(rb"Content-Length: (\d+)", head).group(1)) :]
    assert statuses == [200, 404, 200]


def test_head_options_and_expect_100_continue(gateway):
    head = send(gateway, b"HEAD / HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert (head.status, head.body) == (200, b"") and int(head.headers["Content-Length"]) > 100
    options = send(gateway, b"OPTIONS /predict HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert (options.status, options.headers["Allow"]) == (204, "POST, OPTIONS")
    anything = send(gateway, b"OPTIONS * HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert anything.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    wrong = send(gateway, b"GET /predict HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST, OPTIONS")
    with socket.create_connection(("127.0.0.1", gateway), timeout=BOUND) as sock:
        sock.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
        assert sock.recv(100) == b"HTTP/1.1 100 Continue\r\n\r\n"
        sock.sendall(b"jpeg")
        reply = read_reply(sock, time.monotonic())
    assert (reply.status, json.loads(reply.body)["bytes"]) == (200, 4)


def test_a_bug_answers_500_and_logs_its_traceback(gateway, monkeypatch, caplog):
    def broken(**_: object) -> str:
        raise RuntimeError("a bug in rendering")

    monkeypatch.setattr(gateway_module, "render_index", broken)
    with caplog.at_level(logging.ERROR, logger="deployment.local.gateway"):
        reply = send(gateway, GET % b"/")
    assert (reply.status, json.loads(reply.body), reply.closed) == (500, {"error": "internal error"}, True)
    assert "RuntimeError: a bug in rendering" in caplog.text
    assert send(gateway, GET % b"/healthz").status == 200


def odd_request(rng: random.Random) -> bytes:
    """A request that is wrong in one random way (or several)."""
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
    word = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(rng.randrange(1, 9)))
    method = rng.choice([word, "DELETE", "PATCH", "TRACE", "CONNECT", "PROPFIND"]).encode()
    kind = rng.randrange(6)
    if kind == 0:  # an unknown method
        return b"%s /%s HTTP/1.1\r\nHost: t\r\n\r\n" % (method, rng.choice([b"", b"predict", b"healthz"]))
    if kind == 1:  # random bytes in the path
        return b"GET /nope-%s HTTP/1.1\r\n\r\n" % junk.replace(b"\r\n\r\n", b"")
    if kind == 2:  # a garbage header line
        return b"GET / HTTP/1.1\r\n%s\x00: %s\r\n\r\n" % (junk.replace(b"\n", b""), junk.replace(b"\n", b""))
    if kind == 3:  # a bad length
        length = rng.choice([b"-1", b"1e9", b"0x10", b" ", b"12,12", junk.replace(b"\n", b"").strip() + b"z"])
        return b"POST /predict HTTP/1.1\r\nContent-Length: %s\r\n\r\n" % length
    if kind == 4:  # a bad version
        return b"GET / %s\r\n\r\n" % rng.choice([b"HTTP/9.9", b"HTTP/1", b"http/1.1", b"HTTP/1.1 x", junk])
    return junk + b"\r\n\r\n"  # nothing like HTTP at all


def test_a_seeded_storm_of_odd_requests_gets_only_well_formed_errors(gateway):
    rng = random.Random(20240605)
    statuses = set()
    for _ in range(200):
        data = odd_request(rng)
        reply = send(gateway, data)
        assert 400 <= reply.status < 600 and reply.seconds < BOUND, (data, reply)
        assert b"Traceback" not in reply.body and "error" in json.loads(reply.body), (data, reply)
        statuses.add(reply.status)
    assert statuses >= {400, 405}
    assert send(gateway, GET % b"/healthz").status == 200


def test_idle_and_dripping_sockets_cost_no_threads_and_do_not_block_others(upstream):
    server = start_gateway(upstream, Limits(head_seconds=5, workers=4, max_connections=400))
    port = server.server_address[1]
    send(port, GET % b"/healthz")  # the loop and a first worker exist now
    threads = threading.active_count()
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(150)]
    try:
        for index, sock in enumerate(sockets):
            if index % 2:
                sock.sendall(b"GET / HTTP/1.1\r\nX-Half: ")  # a head that never ends
        time.sleep(0.2)  # let the loop read what they sent
        started = time.monotonic()
        assert send(port, GET % b"/healthz").status == 200
        assert time.monotonic() - started < 1
        assert threading.active_count() <= threads + FAST.workers
    finally:
        for sock in sockets:
            sock.close()
        server.shutdown()
        server.server_close()


def test_past_max_connections_a_new_client_pushes_out_the_oldest_idle_one(upstream):
    server = start_gateway(upstream, Limits(head_seconds=5, workers=2, max_connections=20))
    port = server.server_address[1]
    sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(30)]
    try:
        time.sleep(0.1)
        assert send(port, GET % b"/healthz").status == 200
        oldest = read_reply(sockets[0], time.monotonic())
        assert (oldest.status, oldest.closed) == (408, True)
    finally:
        for sock in sockets:
            sock.close()
        server.shutdown()
        server.server_close()


def test_past_max_connections_with_none_idle_a_new_client_hears_503(upstream):
    limits = Limits(head_seconds=5, body_grace_seconds=5, workers=1, max_connections=2)
    server = start_gateway(upstream, limits)
    port = server.server_address[1]
    waiting_for_bodies = [socket.create_connection(("127.0.0.1", port)) for _ in range(2)]
    try:
        for sock in waiting_for_bodies:  # complete heads: both go to the pool, none waits in the loop
            sock.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 10\r\n\r\n")
        time.sleep(0.1)
        reply = send(port, GET % b"/healthz")
    finally:
        for sock in waiting_for_bodies:
            sock.close()
        server.shutdown()
        server.server_close()
    assert (reply.status, reply.headers["Retry-After"], reply.closed) == (503, "1", True)
    assert "connection limit" in error_of(reply)


def test_while_the_model_server_restarts_predict_and_healthz_say_503_with_retry_after(upstream):
    server = start_gateway(Restarting(upstream))
    port = server.server_address[1]
    try:
        predict = send(port, b"POST /predict HTTP/1.1\r\nContent-Length: 4\r\n\r\njpeg")
        health = send(port, GET % b"/healthz")
    finally:
        server.shutdown()
        server.server_close()
    assert (predict.status, predict.headers["Retry-After"]) == (503, "3")
    assert error_of(predict) == "the model server is restarting; retry in 3s"
    assert (health.status, json.loads(health.body)) == (503, {"status": "degraded", "upstream": "restarting"})


def test_healthz_reports_an_unreachable_or_loading_upstream_as_degraded(upstream, monkeypatch):
    nowhere = start_gateway(Upstream("127.0.0.1", free_port()))
    loading = start_gateway(upstream)
    monkeypatch.setattr(FakeInference, "ping_status", 503)
    try:
        gone = send(nowhere.server_address[1], GET % b"/healthz")
        busy = send(loading.server_address[1], GET % b"/healthz")
    finally:
        for server in (nowhere, loading):
            server.shutdown()
            server.server_close()
    assert (gone.status, json.loads(gone.body)) == (503, {"status": "degraded", "upstream": "unreachable"})
    assert (busy.status, json.loads(busy.body)) == (503, {"status": "degraded", "upstream": "loading"})
