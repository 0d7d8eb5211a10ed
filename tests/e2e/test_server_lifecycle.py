"""Configuration and lifecycle: SageMaker's port variable, SIGTERM draining, models that fail."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import REPO, free_port
from tests.e2e.server_client import (
    EXIT_DEADLINE_SECONDS,
    HOST,
    JPEG,
    REQUEST_TIMEOUT_SECONDS,
    SERVER_ENVIRONMENT,
    check_error,
    invoke,
    listens,
    model_info,
    ping_status,
    read_reply,
    ready,
    request,
    request_head,
    running_server,
    serve_args,
    wait_for,
)

# ---------------------------------------------------------------- configuration and lifecycle


def test_sagemaker_bind_to_port_wins_over_port_and_model_dir_comes_from_the_environment(
    movenet_dir: Path, tmp_path: Path
):
    bind_port, plain_port = free_port(), free_port()
    environment = {
        "MODEL_DIR": str(movenet_dir),
        "SAGEMAKER_BIND_TO_PORT": str(bind_port),
        "PORT": str(plain_port),
    }
    args = ["--host", HOST, "--workers", "1"]
    with running_server(tmp_path, args, bind_port, environment) as server:
        ready(server, workers=1)
        assert request(bind_port, "GET", "/ping").json()["model"] == model_info(movenet_dir)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((HOST, plain_port), timeout=5)


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(
    blazepose_dir: Path, tmp_path: Path, photo_785: bytes
):
    port = free_port()
    with running_server(tmp_path, serve_args(blazepose_dir, port, workers=1), port) as server:
        ready(server, workers=1)
        with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT_SECONDS) as sock:
            half = len(photo_785) // 2
            sock.sendall(request_head(JPEG, len(photo_785)) + photo_785[:half])
            client_port = sock.getsockname()[1]

            def worker_holds_the_request() -> bool:
                return any(
                    connection.status == psutil.CONN_ESTABLISHED and connection.raddr.port == client_port
                    for worker in psutil.Process(server.process.pid).children()
                    for connection in worker.net_connections("tcp")
                    if connection.raddr
                )

            wait_for(worker_holds_the_request, "worker holding the half-sent request", server)
            server.process.send_signal(signal.SIGTERM)
            # The master closes its listening socket, then passes SIGTERM on to the worker. (The
            # worker's inherited copy still accepts, so probing the port would just queue behind us.)
            master = psutil.Process(server.process.pid)
            wait_for(lambda: not listens(master, port), "master closing its socket after SIGTERM", server)
            sock.sendall(photo_785[half:])
            reply = read_reply(sock)
        assert reply.status == 200 and len(reply.json()["keypoints"]) == 17
        assert server.process.wait(timeout=EXIT_DEADLINE_SECONDS) == 0


def test_sigterm_when_idle_exits_0_without_waiting_out_the_grace_period(movenet_dir: Path, tmp_path: Path):
    port = free_port()
    with running_server(tmp_path, serve_args(movenet_dir, port, workers=1), port) as server:
        ready(server, workers=1)
        server.process.send_signal(signal.SIGTERM)
        # The grace period for in-flight requests is 25 s; an idle server has nothing to wait for.
        assert server.process.wait(timeout=10) == 0


def test_model_dir_without_model_json_fails_fast_with_one_error_line(tmp_path: Path):
    empty = tmp_path / "model"
    empty.mkdir()
    finished = subprocess.run(
        [sys.executable, "-m", "inference", "serve", *serve_args(empty, free_port(), workers=1)],
        cwd=REPO,
        env={key: value for key, value in os.environ.items() if key not in SERVER_ENVIRONMENT},
        capture_output=True,
        text=True,
        timeout=EXIT_DEADLINE_SECONDS,
        check=False,
    )
    assert finished.returncode != 0
    lines = finished.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "model.json" in lines[0], finished.stderr


TRACKING_HINT = " (hint: unset it for the default (3 passes, most accurate); 1 is the fastest)"


@pytest.mark.parametrize(
    ("variable", "value", "error"),
    [
        (
            "POSE_MAX_PEOPLE",
            "0",
            "POSE_MAX_PEOPLE: must be an integer from 1 to 20, got '0'"
            " (hint: set model.max_people in config.yml, or unset the variable for the default)",
        ),
        ("POSE_TRACKING_PASSES", "0", "POSE_TRACKING_PASSES: must be 1, 2 or 3, got '0'" + TRACKING_HINT),
        ("POSE_TRACKING_PASSES", "4", "POSE_TRACKING_PASSES: must be 1, 2 or 3, got '4'" + TRACKING_HINT),
        (
            "POSE_TRACKING_PASSES",
            "three",
            "POSE_TRACKING_PASSES: must be 1, 2 or 3, got 'three'" + TRACKING_HINT,
        ),
    ],
)
def test_a_bad_setting_stops_the_server_before_it_starts(
    movenet_dir: Path, variable: str, value: str, error: str
):
    finished = subprocess.run(
        [sys.executable, "-m", "inference", "serve", *serve_args(movenet_dir, free_port(), workers=1)],
        cwd=REPO,
        env={**{k: v for k, v in os.environ.items() if k not in SERVER_ENVIRONMENT}, variable: value},
        capture_output=True,
        text=True,
        timeout=EXIT_DEADLINE_SECONDS,
        check=False,
    )
    assert finished.returncode == 2
    assert finished.stderr.strip().splitlines() == [f"error: {error}"]


def test_unloadable_model_is_never_reported_ready(movenet_dir: Path, tmp_path: Path, photo_785: bytes):
    broken = tmp_path / "model"
    broken.mkdir()
    manifest = json.loads((movenet_dir / "model.json").read_text())
    (broken / "model.json").write_text(json.dumps(manifest))
    for filename in manifest["files"].values():
        (broken / filename).write_bytes(b"not a TFLite flatbuffer")
    port = free_port()
    with running_server(tmp_path, serve_args(broken, port, workers=1), port) as server:
        wait_for(lambda: ping_status(port) not in (None, 503), "/ping verdict on the broken model", server)
        ping = request(port, "GET", "/ping")
        assert ping.status == 500 and ping.json()["status"] == "failed"
        check_error(invoke(port, photo_785), 503)
