"""Seeded random events and SageMaker outcomes: whatever arrives, the handler answers a well-formed
JSON answer (an error with a message, or the model's 200), never raises and leaks nothing.

Each event starts as a real one and has fields swapped for random values (any JSON type, nested,
huge, non-ASCII, control characters, non-UTF-8 bytes behind base64); SageMaker's side answers, fails
or raises at random, with messages full of account ids, ARNs and console URLs."""

from __future__ import annotations

import base64
import io
import json
import random
import re

import botocore.session
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
    SSLError,
)
from botocore.response import StreamingBody
from botocore.validate import validate_parameters

from proxy import handler as proxy_handler
from tests.functional.proxy.events import (
    ANSWER,
    CLOUDWATCH,
    ENDPOINT,
    ENDPOINT_URL,
    api_event,
    assert_leaks_nothing,
)

SEED = 20261126
EVENTS = 400
INVOKE_ENDPOINT = (
    botocore.session.get_session()
    .get_service_model("sagemaker-runtime")
    .operation_model("InvokeEndpoint")
    .input_shape
)
PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")
INFERENCE_ID = re.compile(r"\A\S[\x20-\x7e]*\Z")
FIELDS = ("version", "routeKey", "rawPath", "headers", "requestContext", "body", "isBase64Encoded")
LEAKY_WORDS = (
    "account 123456789012",
    "arn:aws:sagemaker:us-east-1:123456789012:endpoint/pose-dev",
    CLOUDWATCH,
    ENDPOINT,
    ENDPOINT_URL,
    "Traceback (most recent call last):",
    "the body is not a JPEG or PNG image",
    "\x00\x1b[31m\u202e",
)
ERROR_CODES = (
    "ValidationError",
    "ThrottlingException",
    "ServiceUnavailable",
    "InternalFailure",
    "AccessDeniedException",
    "SomethingNew",
)


def text(rng: random.Random) -> str:
    alphabet = rng.choice(["abc /;=+", "\x00\n\r\t\x7f", "é漢😀\u202e", "\ud800\udfff", "0123456789"])
    return "".join(rng.choice(alphabet) for _ in range(rng.choice([0, 1, 5, 40, 300])))


def huge(rng: random.Random) -> str:
    return rng.choice("A/é=") * rng.choice([1 << 16, 5_000_000, 9_000_000])


def junk(rng: random.Random, depth: int = 0) -> object:
    """Any value an event field could hold, if the event were hand-made or hostile."""
    kinds = [
        lambda: None,
        lambda: rng.choice([True, False]),
        lambda: rng.choice([0, -1, 7, 2**70, 6 * 1024 * 1024]),
        lambda: rng.choice([0.5, 1e308, -0.0]),
        lambda: text(rng),
        lambda: base64.b64encode(rng.randbytes(rng.choice([0, 3, 1000]))).decode(),
        lambda: rng.choice(["POST /predict", "true", "image/jpeg", "JKJaXmPLvHcESHA="]),
    ]
    if depth < 3:
        kinds += [
            lambda: [junk(rng, depth + 1) for _ in range(rng.randint(0, 3))],
            lambda: {text(rng): junk(rng, depth + 1) for _ in range(rng.randint(0, 3))},
        ]
    if rng.random() < 0.02:
        return huge(rng)
    return rng.choice(kinds)()


def photo_body(rng: random.Random) -> str:
    """Base64 of random bytes (rarely valid UTF-8), now and then over the limit or broken."""
    size = rng.choice([1, 100, 4096, 4096, 4096, proxy_handler.MAX_PHOTO_BYTES + rng.choice([0, 1])])
    encoded = base64.b64encode(rng.randbytes(size)).decode()
    return rng.choice([encoded] * 6 + [encoded[:-1], encoded + "!", "=" + encoded])


def hostile_event(rng: random.Random) -> object:
    if rng.random() < 0.05:
        return junk(rng)
    event = api_event(b"", rng.choice(["image/jpeg", "image/png", "application/json", "text/plain"]))
    event["body"] = photo_body(rng)
    for field in rng.sample(FIELDS, rng.choice([0, 0, 0, 1, 1, 2, 4])):
        if rng.random() < 0.3:
            del event[field]
        else:
            event[field] = junk(rng)
    if isinstance(event.get("headers"), dict) and rng.random() < 0.2:
        event["headers"][rng.choice(["content-type", "Content-Type", text(rng)])] = junk(rng)
    if isinstance(event.get("requestContext"), dict) and rng.random() < 0.2:
        event["requestContext"]["requestId"] = junk(rng)
    return event


def answer(rng: random.Random) -> dict:
    payload = rng.choice(
        [
            json.dumps(ANSWER).encode(),
            json.dumps(ANSWER).encode(),
            rng.randbytes(64),
            b'{"x": NaN}',
            json.dumps({"x": "a" * 7_000_000}).encode(),
            json.dumps({"leak": rng.choice(LEAKY_WORDS)}).encode()[:-1],
        ]
    )
    content_type = rng.choice(["application/json", "application/json; charset=utf-8", "text/html", ""])
    return {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": content_type}


def client_error(rng: random.Random) -> ClientError:
    message = " ".join(rng.choice(LEAKY_WORDS) for _ in range(3))
    code = "ModelError" if rng.random() < 0.5 else rng.choice(ERROR_CODES)
    response = {"Error": {"Code": code, "Message": message}}
    if rng.random() < 0.7:
        response["OriginalStatusCode"] = rng.choice([400, 404, 413, 415, 422, 500, 503, "400", None])
    if rng.random() < 0.8:
        response["OriginalMessage"] = rng.choice([json.dumps({"error": message})] * 3 + [message, "[1]"])
    return ClientError(response, "InvokeEndpoint")


class FakeRuntime:
    """invoke_endpoint holding every request to botocore's model and SageMaker's patterns, and
    noting the faults it injects that only a 500 may answer (missing credentials, a bug)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.calls = 0
        self.bad_requests: list[str] = []
        self.fault: Exception | None = None

    def invoke_endpoint(self, **params) -> dict:
        self.calls += 1
        try:
            validate_parameters(params, INVOKE_ENDPOINT)
            assert INFERENCE_ID.match(params["InferenceId"]) and len(params["InferenceId"]) <= 64
            assert PRINTABLE_ASCII.fullmatch(params["ContentType"]) and len(params["ContentType"]) <= 1024
            assert len(params["Body"]) <= proxy_handler.MAX_PHOTO_BYTES
        except Exception as error:
            self.bad_requests.append(repr(error)[:300])
            raise
        outcome = self.rng.random()
        if outcome < 0.4:
            return answer(self.rng)
        if outcome < 0.8:
            raise client_error(self.rng)
        failure = self.rng.choice(
            [
                ReadTimeoutError(endpoint_url=ENDPOINT_URL),
                ConnectionClosedError(endpoint_url=ENDPOINT_URL),
                EndpointConnectionError(endpoint_url=ENDPOINT_URL),
                SSLError(endpoint_url=ENDPOINT_URL, error="bad certificate"),
                NoCredentialsError(),
                RuntimeError(f"a bug in {ENDPOINT} for account 123456789012"),
            ]
        )
        if isinstance(failure, NoCredentialsError | RuntimeError):
            self.fault = failure
        raise failure


def check_answer(response: object) -> int:
    """What API Gateway needs from every answer, and what a caller may read in it."""
    assert isinstance(response, dict) and set(response) == {
        "statusCode",
        "headers",
        "body",
        "isBase64Encoded",
    }
    status = response["statusCode"]
    assert type(status) is int and (status == 200 or 400 <= status <= 599)
    assert all(isinstance(key, str) and isinstance(value, str) for key, value in response["headers"].items())
    document = json.loads(response["body"])
    assert isinstance(document, dict)
    if status != 200:
        assert isinstance(document.get("error"), str) and document["error"]
    assert len(json.dumps(response)) <= proxy_handler.MAX_RESPONSE_BYTES
    assert_leaks_nothing(response)
    return status


def test_any_event_and_any_sagemaker_outcome_get_a_clean_json_answer(monkeypatch):
    monkeypatch.setattr(proxy_handler, "ENDPOINT_NAME", ENDPOINT)
    rng = random.Random(SEED)
    runtime = FakeRuntime(rng)
    statuses = []
    for number in range(EVENTS):
        event = hostile_event(rng)
        runtime.fault = None
        try:
            status = check_answer(proxy_handler.handler(event, None, runtime=runtime))
            assert status != 500 or runtime.fault, "a 500 for something that is not a fault of ours"
        except AssertionError as failure:
            raise AssertionError(f"event {number} of seed {SEED}: {repr(event)[:500]}") from failure
        statuses.append(status)
    assert runtime.bad_requests == []
    # The generator reaches both sides: refusals before SageMaker, and SageMaker's every outcome.
    assert runtime.calls >= EVENTS // 5
    assert {200, 400, 404, 413, 415, 500, 502, 503, 504} <= set(statuses)
