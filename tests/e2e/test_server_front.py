"""The server's front process over real sockets: `/ping` never queues behind the model, a dead
worker is replaced, idle and malformed connections cost nothing and get their 4xx.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import threading
from pathlib import Path

import psutil
import pytest

from tests.conftest import free_port
from tests.e2e.server_client import (
    HOST,
    JPEG,
    REQUEST_TIMEOUT_SECONDS,
    Server,
    check_error,
    check_still_serving,
    invoke,
    ping_status,
    read_reply,
    ready,
    request,
    request_head,
    running_server,
    send_while_reading,
    serve_args,
    wait_for,
)
from tests.unit.inference.test_hostile_photos import jpeg_claiming, png_claiming

# How long a client here waits for any answer; the server's own limits are far shorter.
ANSWER_TIMEOUT_SECONDS = 10.0


@pytest.fixture
def one_worker(movenet_dir: Path, tmp_path: Path):
    port = free_port()
    with running_server(tmp_path, serve_args(movenet_dir, port, workers=1), port) as server:
        yield ready(server, workers=1)


def workers_of(server: Server) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children()


def raw_exchange(port: int, data: bytes) -> bytes:
    """Send `data`, half-close, and read everything the server answers until it closes."""
    with socket.create_connection((HOST, port), timeout=ANSWER_TIMEOUT_SECONDS) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_ping_answers_at_once_while_the_only_worker_is_busy_and_requests_queue(one_worker, photo_785):
    port = one_worker.port
    with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT_SECONDS) as held:
        # The worker takes this request and waits for the rest of its body: it is busy.
        half = len(photo_785) // 2
        held.sendall(request_head(JPEG, len(photo_785)) + photo_785[:half])
        wait_for(lambda: _holds_a_client(one_worker), "the worker holding the half-sent request", one_worker)
        queued = [_in_thread(lambda: invoke(port, photo_785)) for _ in range(3)]
        for _ in range(5):  # a sync worker would leave these behind the held request and the queue
            connection = socket.create_connection((HOST, port), timeout=2.0)
            connection.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = read_reply(connection)
            connection.close()
            assert reply.status == 200 and reply.json()["status"] == "ready"
        held.sendall(photo_785[half:])
        assert read_reply(held).status == 200
    for thread, results in queued:
        thread.join(REQUEST_TIMEOUT_SECONDS)
        assert results[0].status == 200


def test_a_killed_worker_is_replaced_and_the_server_keeps_serving(one_worker, photo_785):
    (worker,) = workers_of(one_worker)
    os.kill(worker.pid, signal.SIGKILL)
    wait_for(
        lambda: [w.pid for w in workers_of(one_worker)] not in ([], [worker.pid])
        and ping_status(one_worker.port) == 200,
        "a replacement worker with its model loaded",
        one_worker,
    )
    check_still_serving(one_worker.port, photo_785)
    assert f"worker {worker.pid} exited (killed by SIGKILL)" in one_worker.log()


def test_idle_connections_do_not_hold_up_requests(one_worker, photo_785):
    idle = [socket.create_connection((HOST, one_worker.port)) for _ in range(150)]
    try:
        check_still_serving(one_worker.port, photo_785)
        assert ping_status(one_worker.port) == 200
        assert len(workers_of(one_worker)) == 1 and psutil.Process(one_worker.process.pid).num_threads() == 1
    finally:
        for sock in idle:
            sock.close()


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        pytest.param(
            b"POST /invocations HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, id="content-length-text"
        ),
        pytest.param(
            b"POST /invocations HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, id="content-length-negative"
        ),
        pytest.param(
            b"POST /invocations HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
            400,
            id="content-length-twice",
        ),
        pytest.param(
            b"POST /invocations HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400, id="transfer-gzip"
        ),
        pytest.param(b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\n\r\n", 414, id="request-line-9000"),
        pytest.param(
            b"POST /invocations HTTP/1.1\r\n" + b"X-A: b\r\n" * 200 + b"\r\n", 431, id="200-headers"
        ),
        pytest.param(b"GET /ping\0 HTTP/1.1\r\n\r\n", 400, id="nul-in-path"),
        pytest.param(
            b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 64 + b"\r\n\r\n", 400, id="tls-hello"
        ),
        pytest.param(b"BREW /invocations HTTP/1.1\r\n\r\n", 405, id="unknown-method"),
        pytest.param(b"GET /ping HTTP/9.9\r\n\r\n", 400, id="http-9.9"),
    ],
)
def test_malformed_http_gets_a_json_error(one_worker, photo_785, raw, status):
    answer = raw_exchange(one_worker.port, raw)
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    assert b'{"error":' in answer and b"Traceback" not in answer
    check_still_serving(one_worker.port, photo_785)


@pytest.mark.parametrize(
    ("content_type", "make_body", "status"),
    [
        pytest.param(
            "image/jpeg", lambda photo: jpeg_claiming(photo, 65500, 65500), 413, id="jpeg-65500x65500"
        ),
        pytest.param("image/png", lambda photo: png_claiming(30000, 30000), 413, id="png-header-30000x30000"),
        pytest.param("application/json", lambda photo: b"[" * 100_000, 400, id="json-100000-deep"),
        pytest.param("image/jpeg", lambda photo: photo[:-2000], 400, id="jpeg-truncated"),
    ],
)
def test_hostile_photos_over_http_get_their_4xx(one_worker, photo_785, content_type, make_body, status):
    reply = send_while_reading(one_worker.port, {"Content-Type": content_type}, make_body(photo_785))
    check_error(reply, status)
    check_still_serving(one_worker.port, photo_785)


def test_seeded_garbage_requests_each_get_an_answer_or_a_clean_close(one_worker, photo_785):
    rng = random.Random(1202)
    pieces = [
        b"GET",
        b"POST",
        b" ",
        b"/ping",
        b"/invocations",
        b"HTTP/1.1",
        b"\r\n",
        b":",
        b"Content-Length",
        b"9" * 30,
    ]
    for _ in range(60):
        raw = b"".join(
            rng.choice(pieces) if rng.random() < 0.7 else rng.randbytes(rng.randrange(1, 40))
            for _ in range(rng.randrange(1, 30))
        )
        answer = raw_exchange(one_worker.port, raw + b"\r\n\r\n")
        assert answer == b"" or answer.startswith(b"HTTP/1.1 "), answer[:200]
        assert b"Traceback" not in answer
    check_still_serving(one_worker.port, photo_785)
    assert (
        ping_status(one_worker.port) == 200
        and request(one_worker.port, "GET", "/ping").json()["status"] == "ready"
    )


def _holds_a_client(server: Server) -> bool:
    return any(
        connection.status == psutil.CONN_ESTABLISHED
        for worker in workers_of(server)
        for connection in worker.net_connections("tcp")
        if connection.raddr
    )


def _in_thread(call) -> tuple[threading.Thread, list]:
    results: list = []
    thread = threading.Thread(target=lambda: results.append(call()), daemon=True)
    thread.start()
    return thread, results


def test_sigterm_does_not_wait_for_connections_that_sent_nothing(one_worker):
    idle = [socket.create_connection((HOST, one_worker.port)) for _ in range(20)]
    try:
        wait_for(
            lambda: len(psutil.Process(one_worker.process.pid).net_connections("tcp")) > 20,
            "accepted",
            one_worker,
        )
        one_worker.process.send_signal(signal.SIGTERM)
        # They would otherwise hold the exit for the 10 s a client has to send its request line.
        assert one_worker.process.wait(timeout=5) == 0
    finally:
        for sock in idle:
            sock.close()
