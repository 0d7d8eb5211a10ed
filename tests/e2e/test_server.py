"""The SageMaker inference container contract, over real HTTP against `python -m inference serve`.

Every server here is a real process on 127.0.0.1; waits poll a condition against a deadline.
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest
from PIL import Image

from tests.conftest import REPO, free_port

HOST = "127.0.0.1"
START_DEADLINE_SECONDS = 30.0
EXIT_DEADLINE_SECONDS = 30.0
REQUEST_TIMEOUT_SECONDS = 30.0
POLL_SECONDS = 0.02
LIMIT_BYTES = 6 * 1024 * 1024  # SageMaker's real-time payload limit
COCO_KEYPOINTS = (
    "nose",
    "left_eye",
    "right_eye",
    "left_ear",
    "right_ear",
    "left_shoulder",
    "right_shoulder",
    "left_elbow",
    "right_elbow",
    "left_wrist",
    "right_wrist",
    "left_hip",
    "right_hip",
    "left_knee",
    "right_knee",
    "left_ankle",
    "right_ankle",
)
# A predicted keypoint "lands on the person" within this fraction of the ground-truth bbox diagonal.
NEAR = 0.2
# Pooled over the 17 single-person eval photos (145 labelled keypoints). Measured: BlazePose 0.87
# with the whole photo letterboxed, higher with the two-stage person crop; MoveNet Lightning 1.00;
# every keypoint at the image centre would score 0.44. (The COCO order above is written out on
# purpose: a contract test states the order, it does not import it from the code under test.)
BLAZEPOSE_FLOOR = 0.75
MOVENET_FLOOR = 0.9
# Environment that would change which model or port a server uses; each test sets its own.
SERVER_ENVIRONMENT = ("MODEL_DIR", "PORT", "SAGEMAKER_BIND_TO_PORT", "SAGEMAKER_MODEL_SERVER_WORKERS")


# ---------------------------------------------------------------- servers


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextmanager
def running_server(
    log_dir: Path, args: Iterable[str], port: int, environment: dict[str, str] | None = None
) -> Iterator[Server]:
    """`python -m inference serve ARGS`; on the way out SIGTERM, then SIGKILL its whole group."""
    env = {key: value for key, value in os.environ.items() if key not in SERVER_ENVIRONMENT}
    env.update({"PYTHONUNBUFFERED": "1", **(environment or {})})
    log_path = log_dir / f"server-{port}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "inference", "serve", *args],
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so no worker outlives the test
        )
    try:
        yield Server(process, port, log_path)
    finally:
        if process.poll() is None:
            process.terminate()
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=EXIT_DEADLINE_SECONDS)
        with suppress(ProcessLookupError):  # the group is gone once every worker has exited
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_for(
    condition: Callable[[], object], what: str, server: Server, timeout: float = START_DEADLINE_SECONDS
):
    """Poll `condition` until it is truthy; fail early if the server exits, or at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout} s; server log:\n{server.log()[-3000:]}")
        try:
            server.process.wait(timeout=POLL_SECONDS)  # the poll interval, and an early exit check
        except subprocess.TimeoutExpired:
            continue
        pytest.fail(f"server exited ({server.process.returncode}) before {what}:\n{server.log()[-3000:]}")


def ready(server: Server, workers: int) -> Server:
    """/ping 200 from one worker, and every worker has logged that it loaded the model.

    /ping 200 alone is not enough: another worker may still be loading and answer /invocations 503.
    """

    def all_loaded() -> bool:
        return ping_status(server.port) == 200 and server.log().count("loaded model") >= workers

    wait_for(all_loaded, f"/ping 200 with {workers} workers loaded", server)
    return server


def ping_status(port: int) -> int | None:
    try:
        return request(port, "GET", "/ping").status
    except OSError:
        return None


def listens(process: psutil.Process, port: int) -> bool:
    return any(
        connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
        for connection in process.net_connections("tcp")
    )


def serve_args(model_dir: Path, port: int, workers: int) -> list[str]:
    return ["--model-dir", str(model_dir), "--host", HOST, "--port", str(port), "--workers", str(workers)]


def model_info(model_dir: Path) -> dict:
    manifest = json.loads((model_dir / "model.json").read_text())
    return {"name": manifest["name"], "family": manifest["family"], "version": manifest["version"]}


@pytest.fixture(scope="module")
def blazepose_server(blazepose_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    args = serve_args(blazepose_dir, port, workers=2)
    with running_server(tmp_path_factory.mktemp("blazepose-server"), args, port) as server:
        yield ready(server, workers=2)


@pytest.fixture(scope="module")
def movenet_server(movenet_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    port = free_port()
    args = serve_args(movenet_dir, port, workers=1)
    with running_server(tmp_path_factory.mktemp("movenet-server"), args, port) as server:
        yield ready(server, workers=1)


# ---------------------------------------------------------------- HTTP


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes

    @classmethod
    def read(cls, response: http.client.HTTPResponse) -> Reply:
        return cls(
            response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
        )

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def json(self) -> dict:
        return json.loads(self.body)


def request(
    port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None
) -> Reply:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        return Reply.read(connection.getresponse())
    finally:
        connection.close()


def invoke(port: int, body: bytes, content_type: str | None = "image/jpeg", **headers: str) -> Reply:
    if content_type:
        headers["Content-Type"] = content_type
    return request(port, "POST", "/invocations", body, headers)


def read_reply(sock: socket.socket) -> Reply:
    response = http.client.HTTPResponse(sock, method="POST")
    response.begin()
    return Reply.read(response)


def request_head(headers: dict[str, str], length: int | None) -> bytes:
    """The request line and headers of POST /invocations; `length` None means chunked."""
    framing = {"Transfer-Encoding": "chunked"} if length is None else {"Content-Length": str(length)}
    lines = ["POST /invocations HTTP/1.1", f"Host: {HOST}"]
    lines += [f"{name}: {value}" for name, value in {**headers, **framing}.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def send_while_reading(port: int, headers: dict[str, str], body: bytes, chunked: bool = False) -> Reply:
    """Write the body from a thread while reading the reply, as curl does.

    A server may answer (413) before reading the whole body and then close; a client that reads
    only after writing everything gets a broken pipe instead of the answer.
    """
    if chunked:
        pieces = [b"%x\r\n%s\r\n" % (len(part), part) for part in split(body, 1 << 16)] + [b"0\r\n\r\n"]
    else:
        pieces = split(body, 1 << 16)

    def write() -> None:
        try:
            for piece in pieces:
                sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered early and closed

    with socket.create_connection((HOST, port), timeout=REQUEST_TIMEOUT_SECONDS) as sock:
        sock.sendall(request_head(headers, None if chunked else len(body)))
        writer = threading.Thread(target=write, daemon=True)
        writer.start()
        reply = read_reply(sock)
        writer.join(REQUEST_TIMEOUT_SECONDS)
    return reply


def split(data: bytes, size: int) -> list[bytes]:
    return [data[start : start + size] for start in range(0, len(data), size)]


# ---------------------------------------------------------------- photos and checks


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


ENCODINGS: dict[str, Callable[[bytes], tuple[bytes, str]]] = {
    "jpeg": lambda jpeg: (jpeg, "image/jpeg"),
    "png": lambda jpeg: (encode(Image.open(io.BytesIO(jpeg)), "PNG"), "image/png"),
    "json-base64": lambda jpeg: (json.dumps({"image": b64(jpeg)}).encode(), "application/json"),
    "json-data-url": lambda jpeg: (
        json.dumps({"image": f"data:image/jpeg;base64,{b64(jpeg)}"}).encode(),
        "application/json",
    ),
}


def single_person(eval_photos) -> list:
    return [photo for photo in eval_photos if len(photo.people) == 1]


def photo_named(eval_photos, name: str):
    return next(photo for photo in eval_photos if photo.path.name == name)


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def keypoint_xy(document: dict) -> np.ndarray:
    return np.array([[keypoint["x"], keypoint["y"]] for keypoint in document["keypoints"]])


def on_person(document: dict, person, scale: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """For each labelled keypoint, whether the prediction is within NEAR × the bbox diagonal."""
    labelled = person.keypoints[:, 2] > 0
    truth = person.keypoints[labelled, :2] * scale
    diagonal = np.hypot(person.bbox[2] * scale[0], person.bbox[3] * scale[1])
    return np.hypot(*(keypoint_xy(document)[labelled] - truth).T) <= NEAR * diagonal


def check_document(document: dict, model: dict, size: tuple[int, int], landmarks: int | None) -> None:
    """The response schema exactly as the README documents it."""
    keys = {"model", "image", "person_detected", "score", "keypoints", "timing"}
    assert set(document) == keys | ({"landmarks"} if landmarks else set())
    assert document["model"] == model
    assert document["image"] == {"width": size[0], "height": size[1]}
    assert isinstance(document["person_detected"], bool)
    assert 0.0 <= document["score"] <= 1.0
    assert tuple(keypoint["name"] for keypoint in document["keypoints"]) == COCO_KEYPOINTS
    for point in document["keypoints"] + document.get("landmarks", []):
        assert set(point) == {"name", "x", "y", "score"}
        assert 0 <= point["x"] < size[0] and 0 <= point["y"] < size[1] and 0 <= point["score"] <= 1
    if landmarks:
        assert len(document["landmarks"]) == landmarks
        by_name = {point["name"]: point for point in document["landmarks"]}
        assert document["keypoints"] == [by_name[name] for name in COCO_KEYPOINTS]
    timing = document["timing"]
    assert set(timing) == {"decode_ms", "inference_ms", "total_ms"}
    assert all(type(value) in (int, float) and value >= 0 for value in timing.values())
    assert timing["total_ms"] >= timing["inference_ms"]


def check_error(reply: Reply, status: int) -> None:
    assert (reply.status, reply.content_type) == (status, "application/json"), reply.body[:300]
    document = reply.json()
    assert set(document) == {"error"} and isinstance(document["error"], str) and document["error"]
    assert "Traceback" not in document["error"]


def check_still_serving(port: int, photo: bytes) -> None:
    reply = invoke(port, photo)
    assert reply.status == 200 and len(reply.json()["keypoints"]) == 17


@pytest.fixture(scope="module")
def photo_12mp(photo_785: bytes) -> bytes:
    """A phone-sized 4032x3024 JPEG (about 1 MB) made by upscaling the 640x425 photo."""
    upscaled = Image.open(io.BytesIO(photo_785)).resize((4032, 3024), Image.Resampling.BICUBIC)
    return encode(upscaled, "JPEG", quality=90)


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


# ---------------------------------------------------------------- /invocations with real photos


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_photos_in_every_encoding_put_keypoints_on_the_person(
    blazepose_server: Server, blazepose_dir: Path, eval_photos, encoding: str
):
    landed = []
    for photo in single_person(eval_photos):
        body, content_type = ENCODINGS[encoding](photo.data)
        reply = invoke(blazepose_server.port, body, content_type)
        assert reply.status == 200, (photo.path.name, reply.body[:300])
        check_document(reply.json(), model_info(blazepose_dir), image_size(photo.path), landmarks=33)
        landed.append(on_person(reply.json(), photo.people[0]))
    assert np.concatenate(landed).mean() >= BLAZEPOSE_FLOOR


def test_movenet_server_gives_17_keypoints_without_landmarks_on_the_person(
    movenet_server: Server, movenet_dir: Path, eval_photos
):
    landed = []
    for photo in single_person(eval_photos):
        reply = invoke(movenet_server.port, photo.data)
        assert reply.status == 200, (photo.path.name, reply.body[:300])
        check_document(reply.json(), model_info(movenet_dir), image_size(photo.path), landmarks=None)
        landed.append(on_person(reply.json(), photo.people[0]))
    assert np.concatenate(landed).mean() >= MOVENET_FLOOR


def test_12_megapixel_photo_reports_keypoints_in_its_own_pixels(
    blazepose_server: Server, eval_photos, photo_12mp: bytes
):
    reply = invoke(blazepose_server.port, photo_12mp)
    assert reply.status == 200, reply.body[:300]
    assert reply.json()["image"] == {"width": 4032, "height": 3024}
    person = photo_named(eval_photos, "000000000785.jpg").people[0]
    assert on_person(reply.json(), person, scale=(4032 / 640, 3024 / 425)).mean() >= BLAZEPOSE_FLOOR


def test_exif_rotated_photo_gives_keypoints_in_the_upright_frame(
    blazepose_server: Server, eval_photos, photo_785: bytes
):
    # Stored on its side, tagged "rotate 90° clockwise to view" (orientation 6), as a phone does.
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = Image.open(io.BytesIO(photo_785)).transpose(Image.Transpose.ROTATE_90)
    rotated = invoke(blazepose_server.port, encode(sideways, "JPEG", quality=95, exif=exif.tobytes())).json()
    upright = invoke(blazepose_server.port, photo_785).json()
    assert rotated["image"] == upright["image"] == {"width": 640, "height": 425}
    # Re-encoding moves keypoints by a few pixels (measured at most 3 px, here 12 px).
    allowed = 0.03 * photo_named(eval_photos, "000000000785.jpg").people[0].diagonal
    assert np.hypot(*(keypoint_xy(rotated) - keypoint_xy(upright)).T).max() <= allowed


def test_unknown_request_headers_are_ignored(blazepose_server: Server, photo_785: bytes):
    plain = invoke(blazepose_server.port, photo_785)
    decorated = invoke(
        blazepose_server.port,
        photo_785,
        **{
            "X-Amzn-SageMaker-Custom-Attributes": "trace_id=abc,user=42",
            "X-Amzn-SageMaker-Inference-Id": "7d2f0c9e",
            "X-Something-Random": "whatever; q=1",
        },
    )
    assert (plain.status, decorated.status) == (200, 200)
    assert decorated.json()["keypoints"] == plain.json()["keypoints"]


def test_eight_concurrent_requests_all_succeed_with_the_same_answer(
    blazepose_server: Server, photo_785: bytes
):
    start = threading.Barrier(8)
    replies: list[Reply] = []

    def client() -> None:
        start.wait(REQUEST_TIMEOUT_SECONDS)
        replies.append(invoke(blazepose_server.port, photo_785))

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(REQUEST_TIMEOUT_SECONDS)
    assert [reply.status for reply in replies] == [200] * 8
    assert all(reply.json()["keypoints"] == replies[0].json()["keypoints"] for reply in replies)


# ---------------------------------------------------------------- bad requests


JPEG = {"Content-Type": "image/jpeg"}
JSON = {"Content-Type": "application/json"}


def as_gif(photo: bytes) -> bytes:
    return encode(Image.open(io.BytesIO(photo)), "GIF")


def over_limit(photo: bytes) -> bytes:
    """A valid JPEG padded past 6 MB: only the size check can refuse it."""
    return photo + b"\0" * (LIMIT_BYTES + 1024 - len(photo))


def decompression_bomb(photo: bytes) -> bytes:
    """144 megapixels in about 18 KB of PNG."""
    return encode(Image.new("1", (12000, 12000)), "PNG")


@pytest.mark.parametrize(
    ("headers", "make_body", "chunked", "status"),
    [
        pytest.param(JPEG, lambda photo: b"", False, 400, id="empty-body"),
        pytest.param(JPEG, lambda photo: b"a text body, not a photo", False, 400, id="text-as-jpeg"),
        pytest.param(JPEG, lambda photo: photo[: len(photo) // 2], False, 400, id="truncated-jpeg"),
        pytest.param(JPEG, as_gif, False, 400, id="gif"),
        pytest.param({"Content-Type": "text/plain"}, lambda photo: photo, False, 415, id="text-plain"),
        pytest.param({}, lambda photo: photo, False, 415, id="no-content-type"),
        pytest.param(JSON, lambda photo: b'{"image": "', False, 400, id="invalid-json"),
        pytest.param(
            JSON, lambda photo: json.dumps({"photo": b64(photo)}).encode(), False, 400, id="json-no-image"
        ),
        pytest.param(JSON, lambda photo: b'{"image": "not base64 at all!"}', False, 400, id="invalid-base64"),
        pytest.param(JPEG, over_limit, False, 413, id="over-6mb-content-length"),
        pytest.param(JPEG, over_limit, True, 413, id="over-6mb-chunked"),
        pytest.param({**JPEG, "Accept": "text/csv"}, lambda photo: photo, False, 406, id="accept-csv"),
        pytest.param({"Content-Type": "image/png"}, decompression_bomb, False, 413, id="decompression-bomb"),
    ],
)
def test_bad_request_gets_its_status_and_a_json_error_then_the_server_still_serves(
    blazepose_server: Server, photo_785: bytes, headers, make_body, chunked, status
):
    reply = send_while_reading(blazepose_server.port, headers, make_body(photo_785), chunked=chunked)
    check_error(reply, status)
    check_still_serving(blazepose_server.port, photo_785)


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
