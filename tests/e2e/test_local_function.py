"""The cloud handler hosted by the local gateway: the event it builds, the sagemaker-runtime
stand-in against a real HTTP server on 127.0.0.1 failing in each way SageMaker reports, and what a
client of the gateway then reads (the handler's words, not the gateway's)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from deployment.local.capture import CaptureSettings, CaptureWriter
from deployment.local.function import LocalRuntime, http_answer, http_api_event
from deployment.local.gateway import GatewayServer, GatewayState
from deployment.local.http1 import RequestHead
from deployment.local.supervisor import Upstream
from proxy import handler as proxy_handler
from proxy import refusals
from tests.conftest import free_port

PHOTO = b"\xff\xd8\xff\xe0 a jpeg"
UNSUPPORTED = {
    "error": "unsupported Content-Type 'text/plain'; send image/jpeg, image/png or application/json"
}
TIMEOUT = 0.5


class Container(BaseHTTPRequestHandler):
    """/invocations answering by the body: a pose, a 415, a 500, too late, or no answer at all."""

    protocol_version = "HTTP/1.1"
    received: ClassVar[list[tuple[bytes, str, str]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Container.received.append((body, self.headers["Content-Type"], self.headers["Accept"]))
        if body == b"slow":
            time.sleep(TIMEOUT * 3)
        if body == b"hang up":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, document = {b"415": (415, UNSUPPORTED), b"500": (500, {"error": "internal error"})}.get(
            body, (200, {"keypoints": [], "bytes": len(body)})
        )
        answer = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def container() -> Iterator[Upstream]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Container)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield Upstream("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


def invoke(runtime: LocalRuntime, body: bytes) -> dict:
    return runtime.invoke_endpoint(
        EndpointName="pose-dev",
        Body=body,
        ContentType="image/jpeg",
        Accept="application/json",
        InferenceId="r-1",
    )


# ---------------------------------------------------------------- the event and the answer


def head(*headers: tuple[str, str], target: str = "/predict?x=1") -> RequestHead:
    return RequestHead("POST", target, "HTTP/1.1", headers)


def test_a_photo_becomes_a_payload_2_event_the_handler_reads_as_api_gateways():
    event = http_api_event(
        head(("content-type", "image/jpeg"), ("x-a", "1"), ("x-a", "2"), ("cookie", "a=1; b=2")),
        PHOTO,
        "r-1",
        "127.0.0.1:5555",
    )
    assert (event["routeKey"], event["rawPath"], event["rawQueryString"]) == (
        "POST /predict",
        "/predict",
        "x=1",
    )
    assert (event["body"], event["isBase64Encoded"]) == (base64.b64encode(PHOTO).decode(), True)
    assert (event["headers"], event["cookies"]) == (
        {"content-type": "image/jpeg", "x-a": "1,2"},
        ["a=1", "b=2"],
    )
    context = event["requestContext"]
    assert (context["requestId"], context["http"]["method"], context["http"]["sourceIp"]) == (
        "r-1",
        "POST",
        "127.0.0.1",
    )
    # x=1 is not the model's business; no ?model= asks for none (None: the default)
    assert proxy_handler._request(event) == (PHOTO, "image/jpeg", {}, None)


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        ("application/json; charset=utf-8", b'{"image": "x"}', True),
        ("text/plain", "héllo".encode(), True),
        ("text/plain", b"\xff\xfe", False),  # not UTF-8: base64, as an HTTP API sends it
        ("", b"{}", False),
    ],
)
def test_only_text_bodies_travel_as_text(content_type, body, text):
    headers = (("content-type", content_type),) if content_type else ()
    event = http_api_event(head(*headers), body, "r-1", "127.0.0.1:1")
    assert event["isBase64Encoded"] is not text
    assert proxy_handler._body(event["body"], event["isBase64Encoded"]) == body


def test_the_handlers_answer_becomes_http():
    answer = http_answer(
        {"statusCode": 405, "headers": {"Content-Type": "application/json", "Allow": "POST"}, "body": "{}"}
    )
    assert (answer.status, answer.content_type, answer.headers, answer.body) == (
        405,
        "application/json",
        (("Allow", "POST"),),
        b"{}",
    )
    binary = http_answer(
        {"statusCode": 200, "body": base64.b64encode(b"\x00").decode(), "isBase64Encoded": True}
    )
    assert (binary.body, binary.content_type) == (b"\x00", "application/json")


# ---------------------------------------------------------------- the sagemaker-runtime stand-in


def test_the_stand_in_posts_to_invocations_and_records_what_the_container_saw(container):
    runtime = LocalRuntime(container, TIMEOUT)
    answer = invoke(runtime, PHOTO)
    assert (json.loads(answer["Body"].read()), answer["ContentType"]) == (
        {"keypoints": [], "bytes": len(PHOTO)},
        "application/json",
    )
    assert Container.received[-1] == (PHOTO, "image/jpeg", "application/json")
    invocation = runtime.invocation
    assert (invocation.request_body, invocation.response_body, invocation.inference_id) == (
        PHOTO,
        json.dumps({"keypoints": [], "bytes": len(PHOTO)}).encode(),
        "r-1",
    )


@pytest.mark.parametrize(("body", "status"), [(b"415", 415), (b"500", 500)])
def test_a_container_error_is_a_model_error_as_sagemaker_raises_it(container, body, status):
    runtime = LocalRuntime(container, TIMEOUT)
    with pytest.raises(ClientError) as raised:
        invoke(runtime, body)
    response = raised.value.response
    assert (response["Error"]["Code"], response["OriginalStatusCode"]) == ("ModelError", status)
    assert f"error ({status}) from primary" in response["Error"]["Message"]
    assert runtime.invocation.response_body == response["OriginalMessage"].encode()


def test_transport_failures_are_botocores(container):
    with pytest.raises(ReadTimeoutError):
        invoke(LocalRuntime(container, TIMEOUT), b"slow")
    hung_up = LocalRuntime(container, TIMEOUT)
    with pytest.raises(ConnectionClosedError):
        invoke(hung_up, b"hang up")
    nowhere = LocalRuntime(Upstream("127.0.0.1", free_port()), TIMEOUT)
    with pytest.raises(EndpointConnectionError):
        invoke(nowhere, PHOTO)
    assert (hung_up.unreachable, nowhere.unreachable, hung_up.invocation) == (True, True, None)


# ---------------------------------------------------------------- through the gateway


def post(port: int, body: bytes, content_type: str = "image/jpeg") -> tuple[int, dict, dict]:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(
            b"POST /predict HTTP/1.1\r\nContent-Type: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
            % (content_type.encode(), len(body), body)
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head_bytes, _, answer = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0][9:12]), headers, json.loads(answer)


@pytest.fixture
def gateway(container: Upstream, tmp_path: Path) -> Iterator[tuple[int, CaptureWriter]]:
    capture = CaptureWriter(CaptureSettings(tmp_path / "capture", "pose-dev", "AllTraffic", 100))
    server = GatewayServer(("127.0.0.1", 0), GatewayState(container, "m", capture, tmp_path, "pose-dev"))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1], capture
    server.shutdown()
    server.server_close()
    capture.close()


def test_a_prediction_is_the_handlers_answer_and_captures_what_the_container_saw(gateway):
    port, capture = gateway
    status, headers, answer = post(port, PHOTO)
    assert (status, answer) == (200, {"keypoints": [], "bytes": len(PHOTO)})
    deadline = time.monotonic() + 5
    while capture.written < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    (path,) = (capture.settings.root).rglob("*.jsonl")
    record = json.loads(path.read_text())
    assert base64.b64decode(record["captureData"]["endpointInput"]["data"]) == PHOTO
    assert record["eventMetadata"]["inferenceId"] == headers["X-Inference-Id"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error"),
    [
        (b"415", "text/plain", 415, UNSUPPORTED["error"]),  # the container's 4xx and its message
        (b"500", "image/jpeg", 502, refusals.MODEL_FAILED),
        (b"", "image/jpeg", 400, proxy_handler.NO_BODY),  # refused by the handler, before the container
    ],
)
def test_errors_are_the_handlers_answers(gateway, body, content_type, status, error):
    port, _ = gateway
    got_status, headers, answer = post(port, body, content_type)
    assert (got_status, answer) == (status, {"error": error, "request_id": headers["X-Inference-Id"]})


def test_an_unreachable_server_is_the_handlers_503(tmp_path):
    state = GatewayState(Upstream("127.0.0.1", free_port()), "m", None, tmp_path, "pose-dev")
    server = GatewayServer(("127.0.0.1", 0), state)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _, answer = post(server.server_address[1], PHOTO)
    finally:
        server.shutdown()
        server.server_close()
    assert (status, answer["error"]) == (503, refusals.UNREACHABLE)
