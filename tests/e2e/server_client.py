"""A client of the SageMaker inference container contract, for the server's end-to-end tests:
start `python -m inference serve` as a real process, speak HTTP to it, check its answers.

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

from tests.conftest import REPO

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
SERVER_ENVIRONMENT = (
    "MODEL_DIR",
    "PORT",
    "SAGEMAKER_BIND_TO_PORT",
    "SAGEMAKER_MODEL_SERVER_WORKERS",
    "POSE_MAX_PEOPLE",
    "POSE_TRACKING_PASSES",
    "SAGEMAKER_MULTI_MODEL",
    "POSE_MODELS_MEMORY_MB",
)


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
    keys = {"model", "image", "person_detected", "score", "keypoints", "people", "timing"}
    assert set(document) == keys | ({"landmarks"} if landmarks else set())
    assert document["model"] == model
    check_people(document, size, landmarks)
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


def check_people(document: dict, size: tuple[int, int], landmarks: int | None) -> None:
    """`people`: best first; the first is the top level's person; each box holds its landmarks."""
    people = document["people"]
    assert [person["score"] for person in people] == sorted((p["score"] for p in people), reverse=True)
    assert bool(people) == document["person_detected"]
    for person in people:
        assert set(person) == {"score", "box", "keypoints"} | ({"landmarks"} if landmarks else set())
        box = person["box"]
        assert set(box) == {"x", "y", "width", "height"}
        assert 0 <= box["x"] <= box["x"] + box["width"] <= size[0]
        assert 0 <= box["y"] <= box["y"] + box["height"] <= size[1]
        assert tuple(keypoint["name"] for keypoint in person["keypoints"]) == COCO_KEYPOINTS
    if people:
        top = {name: document[name] for name in ("score", "keypoints", "landmarks") if name in document}
        assert {name: people[0][name] for name in top} == top


def check_error(reply: Reply, status: int) -> None:
    assert (reply.status, reply.content_type) == (status, "application/json"), reply.body[:300]
    document = reply.json()
    assert set(document) == {"error"} and isinstance(document["error"], str) and document["error"]
    assert "Traceback" not in document["error"]


def check_still_serving(port: int, photo: bytes) -> None:
    reply = invoke(port, photo)
    assert reply.status == 200 and len(reply.json()["keypoints"]) == 17


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
