"""`/ping` and routing of `python -m inference serve`, over real HTTP."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.conftest import free_port
from tests.e2e.server_client import (
    HOST,
    Server,
    check_error,
    model_info,
    request,
    running_server,
    serve_args,
    wait_for,
)

# ---------------------------------------------------------------- /ping and routing


def test_ping_is_ready_json_naming_the_model(blazepose_server: Server, blazepose_dir: Path):
    reply = request(blazepose_server.port, "GET", "/ping")
    assert (reply.status, reply.content_type) == (200, "application/json")
    assert reply.json() == {"status": "ready", "model": model_info(blazepose_dir)}


def test_head_ping_is_200_without_a_body(blazepose_server: Server):
    reply = request(blazepose_server.port, "HEAD", "/ping")
    assert (reply.status, reply.body) == (200, b"")


@pytest.mark.parametrize(
    ("method", "path", "status", "allow"),
    [
        ("POST", "/ping", 405, "GET, HEAD"),
        ("GET", "/invocations", 405, "POST"),
        ("GET", "/metrics", 404, None),
    ],
)
def test_wrong_method_or_path_is_a_json_error(blazepose_server: Server, method, path, status, allow):
    reply = request(blazepose_server.port, method, path, body=b"" if method == "POST" else None)
    check_error(reply, status)
    assert reply.headers.get("allow") == allow


def test_port_accepts_connections_and_ping_says_loading_until_ready(movenet_dir: Path, tmp_path: Path):
    port = free_port()
    with running_server(tmp_path, serve_args(movenet_dir, port, workers=1), port) as server:

        def connects() -> bool:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
            except OSError:
                return False
            return True

        wait_for(connects, "accepted connection", server)
        replies = []

        def ping_ready() -> bool:
            replies.append(request(port, "GET", "/ping"))  # the port is open: no connection errors now
            return replies[-1].status == 200

        wait_for(ping_ready, "/ping 200", server)
    loading = [reply.json() for reply in replies[:-1]]
    assert all(reply.status == 503 for reply in replies[:-1]) and loading == [{"status": "loading"}] * len(
        loading
    )
