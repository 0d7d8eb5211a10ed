"""The inference server under `make demo` dies (kill -9) and comes back; /healthz tells the truth meanwhile."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pytest

if not Path("/proc").is_dir():
    pytest.skip("these tests read processes from Linux's /proc", allow_module_level=True)

from deployment.local.connections import Limits
from deployment.local.gateway import GatewayServer, GatewayState
from deployment.local.stack import server_command
from deployment.local.supervisor import Backoff, ServerSupervisor, SupervisorSettings, Upstream
from tests.conftest import REPO, local_stack

# A stand-in server that is ready at once: /ping (and anything else) answers 200.
PING_SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
class Ping(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
HTTPServer((sys.argv[1], int(sys.argv[2])), Ping).serve_forever()
"""


def ping_server(address: Upstream) -> list[str]:
    return [sys.executable, "-c", PING_SERVER, address.host, str(address.port)]


def request(url: str, body: bytes | None = None) -> tuple[int, dict, bytes]:
    headers = {"Content-Type": "image/jpeg"} if body else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> object:
    deadline = time.monotonic() + seconds
    while not (result := condition()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds}s")
        time.sleep(0.05)
    return result


@dataclass(frozen=True)
class Process:
    pid: int
    parent: int
    group: int
    state: str
    command: str


def processes() -> list[Process]:
    """Every process on this Linux machine, from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # it ended while we looked
        found.append(Process(int(stat.parent.name), int(fields[1]), int(fields[2]), fields[0], command))
    return found


def group_is_gone(pgid: int) -> bool:
    """No live process left in the group (killed orphans may stay zombies until init reaps them)."""
    return not any(process.group == pgid and process.state != "Z" for process in processes())


@pytest.fixture
def supervised_stack(blazepose_dir, tmp_path) -> Iterator[tuple[ServerSupervisor, str]]:
    """The real inference server under a supervisor, behind the gateway, in this process."""
    settings = SupervisorSettings(backoff=Backoff(first_seconds=0.5), poll_seconds=0.1, cwd=REPO)
    supervisor = ServerSupervisor(partial(server_command, blazepose_dir), settings)
    try:
        supervisor.start()
        gateway = GatewayServer(
            ("127.0.0.1", 0), GatewayState(supervisor, "blazepose-full", None, tmp_path), Limits(workers=4)
        )
        threading.Thread(target=gateway.serve_forever, daemon=True).start()
        yield supervisor, f"http://127.0.0.1:{gateway.server_address[1]}"
        gateway.shutdown()
        gateway.server_close()
    finally:
        supervisor.stop()


def test_a_killed_server_is_restarted_and_healthz_and_predict_tell_the_truth_meanwhile(
    supervised_stack, photo_785
):
    supervisor, base = supervised_stack
    assert request(f"{base}/healthz")[::2] == (200, b'{"status": "ok", "upstream": 200}')
    killed = supervisor.pid
    os.killpg(killed, signal.SIGKILL)

    # For a moment the server may be gone but not yet reaped: then /healthz says "unreachable".
    status, _, body = request(f"{base}/healthz")
    assert (status, json.loads(body)["status"]) == (503, "degraded")
    assert json.loads(body)["upstream"] in ("restarting", "unreachable")
    wait_for(lambda: b'"restarting"' in request(f"{base}/healthz")[2], 5, "the supervisor to notice")
    status, headers, body = request(f"{base}/predict", photo_785)
    assert (status, int(headers["Retry-After"]) >= 1) == (503, True)
    assert json.loads(body)["error"].startswith("the model server is restarting; retry in ")

    wait_for(lambda: request(f"{base}/healthz")[0] == 200, 30, "the restart")
    status, _, body = request(f"{base}/predict", photo_785)
    assert (status, len(json.loads(body)["keypoints"])) == (200, 17)
    assert supervisor.pid != killed
    wait_for(lambda: group_is_gone(killed), 5, "the killed server's workers to go")
    supervisor.stop()
    wait_for(lambda: group_is_gone(supervisor.pid), 5, "the server to stop")  # no orphan worker is left


def test_each_restart_is_one_log_line_and_the_wait_doubles(caplog):
    settings = SupervisorSettings(backoff=Backoff(first_seconds=0.1, most_seconds=0.4), poll_seconds=0.05)
    supervisor = ServerSupervisor(ping_server, settings)
    try:
        supervisor.start()
        with caplog.at_level(logging.WARNING, logger="deployment.local.supervisor"):
            for restart in (1, 2, 3, 4):
                os.killpg(supervisor.pid, signal.SIGKILL)
                wait_for(lambda: supervisor.restarts == restart, 5, f"restart {restart}")  # noqa: B023
                wait_for(lambda: not supervisor.status().restarting, 5, f"start {restart}")
    finally:
        supervisor.stop()
    # Only the restart lines: other tests may have left the root logger at INFO.
    restarts = [record.getMessage() for record in caplog.records if "; restart " in record.getMessage()]
    assert [line.rpartition(" in ")[2] for line in restarts] == ["0.1s", "0.2s", "0.4s", "0.4s"]
    assert "was killed by SIGKILL; restart 1 in 0.1s" in restarts[0]


def test_stop_during_the_back_off_starts_nothing_and_returns_at_once():
    settings = SupervisorSettings(backoff=Backoff(first_seconds=30), poll_seconds=0.05)
    supervisor = ServerSupervisor(ping_server, settings)
    try:
        supervisor.start()
        killed = supervisor.pid
        os.killpg(killed, signal.SIGKILL)
        wait_for(lambda: supervisor.restarts == 1, 5, "the crash to be noticed")
        assert supervisor.status().retry_after_seconds >= 29
    finally:
        started = time.monotonic()
        supervisor.stop()
    assert time.monotonic() - started < 2
    assert supervisor.pid == killed  # no new server was started


def test_a_server_that_cannot_start_fails_the_first_start_instead_of_looping():
    supervisor = ServerSupervisor(lambda address: [sys.executable, "-c", "raise SystemExit(3)"])
    with pytest.raises(Exception, match="the inference server exited with code 3"):
        supervisor.start()
    supervisor.stop()


def test_make_demo_restarts_a_killed_server_and_sigterm_leaves_no_process_behind(tmp_path, blazepose_dir):
    with local_stack(tmp_path) as base:
        (stack,) = [p for p in processes() if f"--state-dir {tmp_path} " in p.command]
        (server,) = [p for p in processes() if p.parent == stack.pid and "inference serve" in p.command]
        os.killpg(server.group, signal.SIGKILL)
        wait_for(lambda: b'"restarting"' in request(f"{base}/healthz")[2], 5, "the crash to be noticed")
        wait_for(lambda: request(f"{base}/healthz")[0] == 200, 30, "the restart")
        (restarted,) = [p for p in processes() if p.parent == stack.pid and "inference serve" in p.command]
    wait_for(lambda: group_is_gone(restarted.group), 5, "the server to stop with the stack")
    assert "was killed by SIGKILL; restart 1 in 1s" in (tmp_path / "stack.log").read_text()
