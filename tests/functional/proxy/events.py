"""What the Lambda handler's tests share: API Gateway payload 2.0 events, the InvokeEndpoint call
they should cause, and the checks every answer must pass (JSON, no leak)."""

from __future__ import annotations

import base64
import io
import json
import re

from botocore.response import StreamingBody
from botocore.stub import Stubber

from proxy import handler as proxy_handler

PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF a small jpeg"
ANSWER = {"person_detected": True, "keypoints": [], "timing": {"inference_ms": 20.0}}
REQUEST_ID = "JKJaXmPLvHcESHA="
ENDPOINT = "pose-dev"
ENDPOINT_URL = f"https://runtime.sagemaker.us-east-1.amazonaws.com/endpoints/{ENDPOINT}/invocations"
CLOUDWATCH = (
    "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
    f"#logEventViewer:group=/aws/sagemaker/Endpoints/{ENDPOINT} in account 123456789012"
)
# What an anonymous caller must never read: tracebacks, account ids, ARNs, AWS URLs, our endpoint.
# (A UUID's last group may be 12 digits: a run joined by a hyphen is a request id, not an account.)
LEAKS = re.compile(
    r"Traceback|(?<![\d-])\d{12}(?![\d-])|arn:|amazonaws\.com|console\.aws|" + ENDPOINT, re.IGNORECASE
)


def api_event(
    body: bytes | str | None, content_type: str = "image/jpeg", base64_encoded: bool = True
) -> dict:
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
            "requestId": REQUEST_ID,
            "routeKey": "POST /predict",
            "stage": "$default",
            "time": "26/Nov/2026:11:32:00 +0000",
            "timeEpoch": 1795692720000,
        },
        "body": encoded,
        "isBase64Encoded": base64_encoded and body is not None,
    }


def with_fields(event: dict, **fields) -> dict:
    return {**event, **fields}


def assert_leaks_nothing(response: dict) -> None:
    text = json.dumps(response)
    assert not LEAKS.search(text), text


def invoke_params(body: bytes, content_type: str = "image/jpeg", inference_id: str = REQUEST_ID) -> dict:
    return {
        "EndpointName": ENDPOINT,
        "Body": body,
        "ContentType": content_type,
        "Accept": "application/json",
        "InferenceId": inference_id,
    }


def expect_invoke(stubber: Stubber, body: bytes, content_type: str = "image/jpeg", **answer) -> None:
    payload = answer.get("payload", json.dumps(ANSWER).encode())
    stubber.add_response(
        "invoke_endpoint",
        {
            "Body": StreamingBody(io.BytesIO(payload), len(payload)),
            "ContentType": answer.get("answer_type", "application/json"),
        },
        invoke_params(body, content_type, answer.get("inference_id", REQUEST_ID)),
    )


def call(event: object, client, context: object = None) -> tuple[int, dict, dict]:
    """The handler's answer, checked for what every answer must be: JSON, and no leak."""
    response = proxy_handler.handler(event, context, runtime=client)
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["isBase64Encoded"] is False
    assert_leaks_nothing(response)
    body = json.loads(response["body"])
    if response["statusCode"] != 200:
        assert set(body) == {"error", "request_id"} and isinstance(body["error"], str)
        assert body["request_id"] == response["headers"]["X-Inference-Id"]
    return response["statusCode"], body, response["headers"]
