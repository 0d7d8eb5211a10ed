"""The Lambda handler called directly with real API Gateway v2 events, against a stubbed
sagemaker-runtime client: botocore validates every request against the service model."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from proxy import handler as proxy_handler
from tests.functional.proxy.events import (
    ANSWER,
    PHOTO,
    REQUEST_ID,
    api_event,
    call,
    expect_invoke,
    with_fields,
)

INDEX_HTML = Path(proxy_handler.__file__).resolve().parents[1] / "webapp" / "templates" / "index.html"


# ---------------------------------------------------------------- photos that reach the model


def test_base64_photo_reaches_the_endpoint_with_an_inference_id(runtime):
    client, stubber = runtime
    expect_invoke(stubber, PHOTO)
    status, body, headers = call(api_event(PHOTO), client)
    assert (status, body, headers["X-Inference-Id"]) == (200, ANSWER, REQUEST_ID)


def test_a_json_body_that_api_gateway_did_not_encode_passes_as_text(runtime):
    client, stubber = runtime
    document = json.dumps({"image": base64.b64encode(PHOTO).decode()})
    expect_invoke(stubber, document.encode(), "application/json")
    status, _, _ = call(api_event(document, "application/json", base64_encoded=False), client)
    assert status == 200


def test_the_largest_photo_accepted_reaches_the_endpoint(runtime):
    client, stubber = runtime
    photo = b"\xff" * proxy_handler.MAX_PHOTO_BYTES
    expect_invoke(stubber, photo)
    assert call(api_event(photo), client)[0] == 200


def test_the_largest_photo_accepted_still_fits_lambdas_6_mb_event_with_full_headers():
    """The arithmetic behind MAX_PHOTO_BYTES: a photo of that size, plus the 10,240 bytes of request
    line and headers an HTTP API allows (here all escaped by JSON), is an event Lambda accepts."""
    event = api_event(b"\xff" * proxy_handler.MAX_PHOTO_BYTES)
    event["headers"]["x-padding"] = "\x01" * 10_240  # each byte becomes \u0001 in the event
    event["rawPath"] = "/predict" + "/" * 10_240
    assert len(json.dumps(event)) < 6 * 1024 * 1024


def test_a_missing_content_type_or_headers_object_is_sent_as_octet_stream(runtime):
    client, stubber = runtime
    expect_invoke(stubber, PHOTO, "application/octet-stream")
    expect_invoke(stubber, PHOTO, "application/octet-stream")
    assert call(with_fields(api_event(PHOTO), headers=None), client)[0] == 200
    assert call(api_event(PHOTO, content_type=""), client)[0] == 200


def test_a_content_type_of_1024_characters_is_still_sent(runtime):
    client, stubber = runtime
    content_type = "image/jpeg;" + "x" * 1013
    expect_invoke(stubber, PHOTO, content_type)
    assert call(api_event(PHOTO, content_type), client)[0] == 200


@pytest.mark.parametrize(
    "request_id",
    ["x" * 65, " leading-space", "tab\tinside", "é-not-ascii", "", 42, None],
    ids=["too-long", "leading-space", "control-char", "non-ascii", "empty", "int", "none"],
)
def test_an_unusable_request_id_gives_way_to_lambdas(runtime, request_id):
    client, stubber = runtime
    lambda_id = "8a1c5d3e-6f0b-4c2a-9e7d-1b2c3d4e5f60"
    event = api_event(PHOTO)
    event["requestContext"]["requestId"] = request_id
    expect_invoke(stubber, PHOTO, inference_id=lambda_id)
    status, _, headers = call(event, client, SimpleNamespace(aws_request_id=lambda_id))
    assert (status, headers["X-Inference-Id"]) == (200, lambda_id)


def test_without_any_usable_request_id_one_is_made(runtime, monkeypatch):
    client, stubber = runtime
    made = uuid.UUID(int=7)
    monkeypatch.setattr(proxy_handler.uuid, "uuid4", lambda: made)
    event = api_event(PHOTO)
    del event["requestContext"]["requestId"]
    expect_invoke(stubber, PHOTO, inference_id=str(made))
    assert call(event, client)[2]["X-Inference-Id"] == str(made)


# ---------------------------------------------------------------- requests refused before SageMaker


def nested(depth: int) -> list:
    """A list inside a list, `depth` deep: deeper than repr() can print."""
    outer = inner = []
    for _ in range(depth):
        inner.append([])
        inner = inner[0]
    return outer


NOT_JSON_EVENT = [[], "POST /predict", None, 7, 1.5, True]
MALFORMED_EVENTS = [
    pytest.param(event, 400, proxy_handler.MALFORMED, id=f"event-{type(event).__name__}")
    for event in NOT_JSON_EVENT
]


@pytest.mark.parametrize(
    ("event", "status", "message"),
    [
        pytest.param(api_event(None), 400, proxy_handler.NO_BODY, id="no-body"),
        pytest.param(with_fields(api_event(PHOTO), body=""), 400, proxy_handler.NO_BODY, id="empty-body"),
        pytest.param(
            with_fields(api_event(PHOTO), body="%%% not base64"),
            400,
            proxy_handler.NOT_BASE64,
            id="bad-base64",
        ),
        pytest.param(with_fields(api_event(PHOTO), body="Zm9v4pyT"), 200, None, id="valid-base64"),
        pytest.param(
            with_fields(api_event(PHOTO), body="Zm9vüü=="), 400, proxy_handler.NOT_BASE64, id="non-ascii"
        ),
        pytest.param(
            api_event("\ud800 lone surrogate", "application/json", base64_encoded=False),
            400,
            proxy_handler.NOT_UTF8,
            id="lone-surrogate",
        ),
        pytest.param(
            api_event(b"x" * (proxy_handler.MAX_PHOTO_BYTES + 1)),
            413,
            "the photo is 4,500,001 bytes; the limit is 4,500,000 bytes (4.5 MB)",
            id="photo-over-limit",
        ),
        pytest.param(
            api_event("x" * (proxy_handler.MAX_PHOTO_BYTES + 1), "application/json", base64_encoded=False),
            413,
            "the photo is 4,500,001 bytes; the limit is 4,500,000 bytes (4.5 MB)",
            id="text-over-limit",
        ),
        *(
            pytest.param(
                with_fields(api_event(PHOTO), requestContext=value), 400, proxy_handler.MALFORMED, id=name
            )
            for name, value in [("context-null", None), ("context-string", "abc"), ("context-list", [1])]
        ),
        pytest.param(
            {key: value for key, value in api_event(PHOTO).items() if key != "requestContext"},
            400,
            proxy_handler.MALFORMED,
            id="context-missing",
        ),
        pytest.param(
            with_fields(api_event(PHOTO), headers=["a"]), 400, proxy_handler.MALFORMED, id="headers-list"
        ),
        pytest.param(
            with_fields(api_event(PHOTO), headers="a"), 400, proxy_handler.MALFORMED, id="headers-str"
        ),
        pytest.param(
            with_fields(api_event(PHOTO), headers=nested(5000)),
            400,
            proxy_handler.MALFORMED,
            id="headers-deeply-nested",
        ),
        pytest.param(
            with_fields(api_event(PHOTO), headers={"content-type": "image/jpeg", "content-length": 12}),
            400,
            proxy_handler.HEADER_NOT_TEXT,
            id="header-int",
        ),
        pytest.param(
            with_fields(api_event(PHOTO), headers={"content-type": None}),
            400,
            proxy_handler.HEADER_NOT_TEXT,
            id="header-null",
        ),
        *(
            pytest.param(with_fields(api_event(PHOTO), body=value), 400, proxy_handler.MALFORMED, id=name)
            for name, value in [
                ("body-int", 5),
                ("body-dict", {"a": 1}),
                ("body-list", ["x"]),
                ("body-true", True),
            ]
        ),
        pytest.param(
            with_fields(api_event(PHOTO), isBase64Encoded="true"),
            400,
            proxy_handler.MALFORMED,
            id="base64-flag-str",
        ),
        pytest.param(
            with_fields(api_event(PHOTO), routeKey="GET /predict"), 405, proxy_handler.NOT_ALLOWED, id="get"
        ),
        pytest.param(
            with_fields(api_event(PHOTO), routeKey="POST /other"), 404, proxy_handler.NO_ROUTE, id="path"
        ),
        pytest.param(
            with_fields(api_event(PHOTO), routeKey="$default"), 404, proxy_handler.NO_ROUTE, id="default"
        ),
        pytest.param(with_fields(api_event(PHOTO), routeKey=5), 400, proxy_handler.MALFORMED, id="route-int"),
        pytest.param(
            api_event(PHOTO, "image/jpeg;" + "x" * 1014),
            415,
            proxy_handler.BAD_CONTENT_TYPE,
            id="type-1025-chars",
        ),
        pytest.param(
            api_event(PHOTO, "image/jpeg\r\nX-Evil: 1"), 415, proxy_handler.BAD_CONTENT_TYPE, id="type-crlf"
        ),
        pytest.param(
            api_event(PHOTO, "image/jpég"), 415, proxy_handler.BAD_CONTENT_TYPE, id="type-non-ascii"
        ),
        *MALFORMED_EVENTS,
    ],
)
def test_bad_requests_are_refused_before_calling_sagemaker(runtime, event, status, message):
    client, stubber = runtime  # nothing queued unless 200: any other call to SageMaker fails the test
    if status == 200:
        expect_invoke(stubber, b"foo\xe2\x9c\x93")
    answer_status, body, _ = call(event, client)
    assert (answer_status, body.get("error")) == (status, message)


def test_a_405_names_the_method_allowed(runtime):
    client, _ = runtime
    response = proxy_handler.handler(
        with_fields(api_event(PHOTO), routeKey="PUT /predict"), None, runtime=client
    )
    assert (response["statusCode"], response["headers"]["Allow"]) == (405, "POST")


def test_the_page_states_the_photo_limit_the_api_enforces():
    assert proxy_handler.MAX_PHOTO_BYTES / 1_000_000 == 4.5
    assert "accepts photos up to 4.5&nbsp;MB" in INDEX_HTML.read_text()


# ---------------------------------------------------------------- what the model answers


@pytest.mark.parametrize(
    ("payload", "answer_type", "status", "message"),
    [
        pytest.param(
            b'{"a": "\xff\xfe"}', "application/json", 502, proxy_handler.UNEXPECTED_ANSWER, id="not-utf8"
        ),
        pytest.param(b"<html>hi</html>", "text/html", 502, proxy_handler.UNEXPECTED_ANSWER, id="html"),
        pytest.param(
            json.dumps(ANSWER).encode(), "text/plain", 502, proxy_handler.UNEXPECTED_ANSWER, id="text-type"
        ),
        pytest.param(
            b'{"truncated": ', "application/json", 502, proxy_handler.UNEXPECTED_ANSWER, id="bad-json"
        ),
        pytest.param(b"[1, 2]", "application/json", 502, proxy_handler.UNEXPECTED_ANSWER, id="json-list"),
        pytest.param(b'{"score": NaN}', "application/json", 502, proxy_handler.UNEXPECTED_ANSWER, id="nan"),
        pytest.param(b"[" * 100_000, "application/json", 502, proxy_handler.UNEXPECTED_ANSWER, id="deep"),
        pytest.param(
            json.dumps({"x": "a" * 7_000_000}).encode(),
            "application/json",
            502,
            proxy_handler.ANSWER_TOO_LARGE,
            id="7mb",
        ),
        pytest.param(
            # 4.2 MB of JSON that escaping makes 7 MB as Lambda serialises the response
            json.dumps({"keypoints": [""] * 1_050_000}).encode(),
            "application/json",
            502,
            proxy_handler.ANSWER_TOO_LARGE,
            id="escaped-over",
        ),
        pytest.param(
            json.dumps(ANSWER).encode(), "application/json; charset=utf-8", 200, None, id="json-with-charset"
        ),
        pytest.param(
            json.dumps({"x": "a" * 6_000_000}).encode(), "application/json", 200, None, id="6mb-fits"
        ),
    ],
)
def test_the_models_answer_is_checked_before_it_is_returned(runtime, payload, answer_type, status, message):
    client, stubber = runtime
    expect_invoke(stubber, PHOTO, payload=payload, answer_type=answer_type)
    response = proxy_handler.handler(api_event(PHOTO), None, runtime=client)
    assert len(json.dumps(response)) <= proxy_handler.MAX_RESPONSE_BYTES
    assert (response["statusCode"], json.loads(response["body"]).get("error")) == (status, message)
