"""The Lambda behind `POST /predict`: API Gateway (HTTP API, payload 2.0) to SageMaker InvokeEndpoint.

Browsers cannot sign SageMaker requests, so this function does it for them. It ships alone in
its zip (stdlib and the runtime's boto3 only) and maps every failure to a clear JSON answer.
CORS is configured on the HTTP API itself, for the web page's origin only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import os
import re

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError, ReadTimeoutError

log = logging.getLogger()
log.setLevel(logging.INFO)

ENDPOINT_NAME = os.environ.get("ENDPOINT_NAME", "")
# Lambda's synchronous payload limit is 6 MB, and base64 grows a body by a third on the way in.
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(6 * 1024 * 1024)))


@functools.cache
def _runtime():
    """Created once per Lambda container, on first use."""
    # HTTP APIs give an integration 30 s; answer 504 ourselves just before that.
    timeouts = Config(read_timeout=28, connect_timeout=2, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client("sagemaker-runtime", config=timeouts)


def handler(event: dict, context: object = None, runtime=None) -> dict:
    """The Lambda entry point; `runtime` is injectable for tests."""
    runtime = runtime or _runtime()
    request_id = event.get("requestContext", {}).get("requestId") or "unknown"
    try:
        body = _body(event)
        content_type = _header(event, "content-type") or "application/octet-stream"
        answer = runtime.invoke_endpoint(
            EndpointName=ENDPOINT_NAME,
            Body=body,
            ContentType=content_type,
            Accept="application/json",
            InferenceId=request_id[:64],
        )
        payload = answer["Body"].read()
        return _response(200, payload.decode(), request_id)
    except _Rejected as rejected:
        return _error(rejected.status, rejected.message, request_id)
    except ClientError as error:
        status, message = _from_client_error(error)
        return _error(status, message, request_id)
    except (ReadTimeoutError, ConnectTimeoutError):
        return _error(504, "the model did not answer in time", request_id)
    except EndpointConnectionError as error:
        return _error(503, f"SageMaker is not reachable ({error})", request_id)


class _Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body(event: dict) -> bytes:
    raw = event.get("body")
    if not raw:
        raise _Rejected(400, "the request has no body; send a JPEG or PNG photo")
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError) as error:
            raise _Rejected(400, f"the body is not valid base64 ({error})") from error
    else:
        body = raw.encode()
    if len(body) > MAX_BODY_BYTES:
        raise _Rejected(413, f"the body is {len(body):,} bytes; the limit is {MAX_BODY_BYTES:,} bytes")
    return body


def _header(event: dict, name: str) -> str | None:
    # Payload 2.0 lower-cases header names; tolerate hand-made events that don't.
    headers = {key.lower(): value for key, value in (event.get("headers") or {}).items()}
    return headers.get(name)


def _from_client_error(error: ClientError) -> tuple[int, str]:
    details = error.response.get("Error", {})
    code, message = details.get("Code", ""), details.get("Message", "")
    if code == "ModelError":
        # The container answered with an error: pass its 4xx through (a bad photo is the client's
        # mistake), turn its 5xx into 502.
        stated = re.search(r"\((\d{3})\)", message)  # "Received client error (400) from primary ..."
        original = error.response.get("OriginalStatusCode") or (int(stated.group(1)) if stated else 500)
        original_message = _original_error(error.response.get("OriginalMessage", "")) or message
        return (
            (original, original_message)
            if 400 <= original < 500
            else (502, f"model error: {original_message}")
        )
    if code in {"ValidationError", "ValidationException"} and (
        "not found" in message or "Could not find" in message
    ):
        return 503, f"the endpoint {ENDPOINT_NAME} does not exist ({message})"
    if code in {"ValidationError", "ValidationException"} and "InService" in message:
        return 503, f"the endpoint {ENDPOINT_NAME} is not in service ({message})"
    if code in {"ThrottlingException", "ServiceUnavailable", "InternalFailure", "ModelNotReadyException"}:
        return 503, f"the endpoint is busy or not ready ({code}); try again"
    if code == "ValidationError" or code == "ValidationException":
        return 400, message
    log.error("unexpected SageMaker error %s: %s", code, message)
    return 502, f"SageMaker error {code}"


def _original_error(text: str) -> str:
    try:
        document = json.loads(text)
    except ValueError:
        return text
    return document.get("error", text) if isinstance(document, dict) else text


def _error(status: int, message: str, request_id: str) -> dict:
    log.info("request %s answered %d: %s", request_id, status, message)
    return _response(status, json.dumps({"error": message}), request_id)


def _response(status: int, body: str, request_id: str) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Inference-Id": request_id[:64]},
        "body": body,
        "isBase64Encoded": False,
    }
