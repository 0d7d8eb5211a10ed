"""The Lambda handler called directly with real API Gateway v2 events, against a stubbed
sagemaker-runtime client: botocore validates every request against the service model."""

from __future__ import annotations

import base64
import io
import json

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from deployment import lambda_proxy

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF a small jpeg"
ANSWER = {"person_detected": True, "keypoints": [], "timing": {"inference_ms": 20.0}}


def api_event(body: bytes | None, content_type: str = "image/jpeg", base64_encoded: bool = True) -> dict:
    """The shape API Gateway HTTP APIs send with payload format 2.0."""
    encoded = base64.b64encode(body).decode() if (body is not None and base64_encoded) else body
    return {
        "version": "2.0",
        "routeKey": "POST /predict",
        "rawPath": "/predict",
        "rawQueryString": "",
        "headers": {
            "content-type": content_type,
            "origin": "http://pose-web.s3-website-us-east-1.amazonaws.com",
        },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "POST", "path": "/predict", "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": "JKJaXmPLvHcESHA=",
            "routeKey": "POST /predict",
            "stage": "$default",
            "time": "26/Nov/2026:11:32:00 +0000",
            "timeEpoch": 1795692720000,
        },
        "body": encoded,
        "isBase64Encoded": base64_encoded and body is not None,
    }


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setattr(lambda_proxy, "ENDPOINT_NAME", "pose-dev")
    client = boto3.client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect_invoke(stubber: Stubber, body: bytes, content_type: str = "image/jpeg") -> None:
    payload = json.dumps(ANSWER).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
        {
            "EndpointName": "pose-dev",
            "Body": body,
            "ContentType": content_type,
            "Accept": "application/json",
            "InferenceId": "JKJaXmPLvHcESHA=",
        },
    )


def call(event: dict, client) -> tuple[int, dict, dict]:
    response = lambda_proxy.handler(event, None, runtime=client)
    assert response["headers"]["Content-Type"] == "application/json"
    return response["statusCode"], json.loads(response["body"]), response["headers"]


def test_base64_photo_reaches_the_endpoint_with_an_inference_id(runtime):
    client, stubber = runtime
    expect_invoke(stubber, PHOTO)
    status, body, headers = call(api_event(PHOTO), client)
    assert (status, body, headers["X-Inference-Id"]) == (200, ANSWER, "JKJaXmPLvHcESHA=")


def test_a_json_body_that_api_gateway_did_not_encode_passes_as_text(runtime):
    client, stubber = runtime
    document = json.dumps({"image": base64.b64encode(PHOTO).decode()})
    expect_invoke(stubber, document.encode(), "application/json")
    status, _, _ = call(api_event(document, "application/json", base64_encoded=False), client)
    assert status == 200


@pytest.mark.parametrize(
    ("event", "status", "fragment"),
    [
        (api_event(None), 400, "no body"),
        ({**api_event(PHOTO), "body": "%%% not base64"}, 400, "not valid base64"),
        (api_event(b"x" * (6 * 1024 * 1024 + 1)), 413, "the limit is 6,291,456 bytes"),
    ],
)
def test_bad_requests_are_refused_before_calling_sagemaker(runtime, event, status, fragment):
    client, _ = runtime  # no response queued: any call to SageMaker would fail the test
    answer_status, body, _ = call(event, client)
    assert answer_status == status and fragment in body["error"]


@pytest.mark.parametrize(
    ("error", "status", "fragment"),
    [
        (
            {
                "service_error_code": "ModelError",
                "service_message": "Received client error (400) from primary",
                "http_status_code": 424,
                "service_error_meta": {},
                "response_meta": {},
            },
            400,
            "",
        ),
        (
            {
                "service_error_code": "ValidationError",
                "service_message": "Endpoint pose-dev of account 123456789012 not found.",
                "http_status_code": 400,
            },
            503,
            "does not exist",
        ),
        (
            {
                "service_error_code": "ServiceUnavailable",
                "service_message": "busy",
                "http_status_code": 503,
            },
            503,
            "try again",
        ),
    ],
)
def test_sagemaker_errors_become_clear_statuses(runtime, error, status, fragment):
    client, stubber = runtime
    stubber.add_client_error("invoke_endpoint", **error)
    answer_status, body, _ = call(api_event(PHOTO), client)
    assert answer_status == status and fragment in body["error"]


def test_a_model_error_passes_the_containers_4xx_and_message_through(runtime):
    client, stubber = runtime
    original = json.dumps({"error": "the body is not a JPEG or PNG image"})
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error (400) from primary with message ...",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": 400, "OriginalMessage": original},
    )
    status, body, _ = call(api_event(PHOTO), client)
    assert (status, body) == (400, {"error": "the body is not a JPEG or PNG image"})


def test_a_model_5xx_is_a_502(runtime):
    client, stubber = runtime
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received server error (500)",
        http_status_code=424,
        modeled_fields={"OriginalStatusCode": 500, "OriginalMessage": '{"error": "internal error"}'},
    )
    status, body, _ = call(api_event(PHOTO), client)
    assert status == 502 and "internal error" in body["error"]


def test_a_read_timeout_is_a_504(runtime, monkeypatch):
    from botocore.exceptions import ReadTimeoutError

    client, _ = runtime

    def slow(**kwargs):
        raise ReadTimeoutError(endpoint_url="https://runtime.sagemaker.us-east-1.amazonaws.com")

    monkeypatch.setattr(client, "invoke_endpoint", slow)
    status, body, _ = call(api_event(PHOTO), client)
    assert status == 504 and "in time" in body["error"]
