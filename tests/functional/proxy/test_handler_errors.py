"""SageMaker's errors and botocore's own failures, as the Lambda handler answers them: a fixed
message per case for the anonymous caller, the full detail in one log line with the request id."""

from __future__ import annotations

import json
import logging

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    IncompleteReadError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProxyConnectionError,
    ReadTimeoutError,
    ResponseStreamingError,
    SSLError,
)

from proxy import handler as proxy_handler
from proxy import refusals
from tests.functional.proxy.events import (
    CLOUDWATCH,
    ENDPOINT,
    ENDPOINT_URL,
    PHOTO,
    REQUEST_ID,
    api_event,
    call,
    invoke_params,
)

# ---------------------------------------------------------------- SageMaker's errors


def model_error(status: int | None, original: str | None, message: str = "") -> dict:
    fields = {"OriginalStatusCode": status, "OriginalMessage": original}
    kind = "client" if status and status < 500 else "server"
    return {
        "service_error_code": "ModelError",
        "service_message": message
        or f'Received {kind} error ({status}) from primary with message "{original}". See {CLOUDWATCH} for more information.',
        "http_status_code": 424,
        "modeled_fields": {
            **{key: value for key, value in fields.items() if value is not None},
            "LogStreamArn": f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/{ENDPOINT}",
        },
    }


def service_error(code: str, message: str, http_status: int = 400) -> dict:
    return {"service_error_code": code, "service_message": message, "http_status_code": http_status}


def container(message: object) -> str:
    return json.dumps({"error": message})


CONTAINER_400 = refusals.CONTAINER_4XX[400]
CLIENT_ERRORS = {
    "model-400-shown": (
        model_error(400, container("the body is not a JPEG or PNG image")),
        400,
        "the body is not a JPEG or PNG image",
    ),
    "model-415-shown": (
        model_error(415, container("unsupported Content-Type 'text/plain'; send image/jpeg")),
        415,
        "unsupported Content-Type 'text/plain'; send image/jpeg",
    ),
    "model-400-url": (model_error(400, container(f"see {CLOUDWATCH}")), 400, CONTAINER_400),
    "model-400-account": (model_error(400, container("account 123456789012 said no")), 400, CONTAINER_400),
    "model-400-arn": (model_error(400, container("arn:aws:s3:::bucket/key is bad")), 400, CONTAINER_400),
    "model-400-endpoint": (model_error(400, container(f"the {ENDPOINT} model is sad")), 400, CONTAINER_400),
    "model-400-host": (model_error(400, container("ask s3.amazonaws.com")), 400, CONTAINER_400),
    "model-400-blank": (model_error(400, container(" \n\x00 ")), 400, CONTAINER_400),
    "model-400-not-text": (model_error(400, container(["a", 1])), 400, CONTAINER_400),
    "model-400-no-error-key": (model_error(400, json.dumps({"message": "bad photo"})), 400, CONTAINER_400),
    "model-400-control-chars": (
        model_error(400, container("bad\x00 photo\u202e\r\nname\t!")),
        400,
        "bad photo name !",
    ),
    "model-400-long": (model_error(400, container("a" * 1000)), 400, "a" * 299 + "…"),
    "model-413-plain-text": (
        model_error(413, "Request Entity Too Large"),
        413,
        refusals.CONTAINER_4XX[413],
    ),
    "model-422-unknown": (model_error(422, container(5)), 422, refusals.CONTAINER_REFUSED),
    "model-400-no-original": (model_error(400, None), 400, CONTAINER_400),
    "model-stated-400-only": (
        model_error(None, None, f"Received client error (400) from primary. See {CLOUDWATCH}."),
        400,
        CONTAINER_400,
    ),
    "model-500": (model_error(500, container("internal error")), 502, refusals.MODEL_FAILED),
    "model-503": (model_error(503, container("the model is still loading")), 502, refusals.MODEL_FAILED),
    "model-stated-500-only": (
        model_error(None, None, f"Received server error (500) from primary with message. See {CLOUDWATCH}."),
        502,
        refusals.MODEL_FAILED,
    ),
    "model-no-status": (model_error(None, None, "something odd"), 502, refusals.MODEL_FAILED),
    "validation-not-found": (
        service_error("ValidationError", "Endpoint pose-pr-1 of account 123456789012 not found."),
        503,
        refusals.NOT_DEPLOYED,
    ),
    "validation-could-not-find": (
        service_error(
            "ValidationError",
            f'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}".',
        ),
        503,
        refusals.NOT_DEPLOYED,
    ),
    "validation-not-in-service": (
        service_error("ValidationError", f"Endpoint {ENDPOINT} of account 123456789012 is not in service."),
        503,
        refusals.NOT_IN_SERVICE,
    ),
    "validation-creating": (
        service_error("ValidationError", f"Endpoint {ENDPOINT} is Creating; it must be InService."),
        503,
        refusals.NOT_IN_SERVICE,
    ),
    "validation-other": (
        service_error(
            "ValidationError",
            "1 validation error detected: Value at 'inferenceId' failed to satisfy constraint",
        ),
        502,
        refusals.UPSTREAM_REFUSED,
    ),
    "throttling": (
        service_error("ThrottlingException", "Rate exceeded for account 123456789012"),
        503,
        refusals.BUSY,
    ),
    "model-not-ready": (service_error("ModelNotReadyException", "not ready", 429), 503, refusals.BUSY),
    "service-unavailable": (service_error("ServiceUnavailable", "busy", 503), 503, refusals.BUSY),
    "internal-failure": (
        service_error("InternalFailure", f"oops in {ENDPOINT}", 500),
        502,
        refusals.UPSTREAM_FAILED,
    ),
    "internal-dependency": (
        service_error("InternalDependencyException", "oops", 530),
        502,
        refusals.UPSTREAM_FAILED,
    ),
    "access-denied": (
        service_error(
            "AccessDeniedException",
            "User: arn:aws:sts::123456789012:assumed-role/pose-dev-api/pose-dev-api is not authorized to "
            f"perform: sagemaker:InvokeEndpoint on resource: arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}",
            403,
        ),
        502,
        refusals.UPSTREAM_REFUSED,
    ),
    "unknown": (
        service_error("SomethingNew", f"account 123456789012 {CLOUDWATCH}", 418),
        502,
        refusals.UPSTREAM_REFUSED,
    ),
}


@pytest.mark.parametrize(("error", "status", "message"), CLIENT_ERRORS.values(), ids=CLIENT_ERRORS.keys())
def test_sagemaker_errors_become_fixed_messages_and_a_one_line_log(runtime, caplog, error, status, message):
    client, stubber = runtime
    caplog.set_level(logging.INFO)
    stubber.add_client_error("invoke_endpoint", expected_params=invoke_params(PHOTO), **error)
    answer_status, body, _ = call(api_event(PHOTO), client)  # call() checks that nothing leaks
    assert (answer_status, body) == (status, {"error": message, "request_id": REQUEST_ID})
    [line] = [record.getMessage() for record in caplog.records if "answered" in record.getMessage()]
    assert line.startswith(f"request {REQUEST_ID} answered {status} ") and "\n" not in line
    assert error["service_error_code"] in line and error["service_message"][:40] in line


# ---------------------------------------------------------------- botocore's own failures


BOTOCORE_ERRORS = {
    "read-timeout": (ReadTimeoutError(endpoint_url=ENDPOINT_URL), 504, refusals.TIMED_OUT),
    "connect-timeout": (ConnectTimeoutError(endpoint_url=ENDPOINT_URL), 504, refusals.TIMED_OUT),
    "no-connection": (EndpointConnectionError(endpoint_url=ENDPOINT_URL), 503, refusals.UNREACHABLE),
    "proxy": (
        ProxyConnectionError(proxy_url="http://proxy:3128", error="refused"),
        503,
        refusals.UNREACHABLE,
    ),
    "ssl": (SSLError(endpoint_url=ENDPOINT_URL, error="bad certificate"), 503, refusals.UNREACHABLE),
    "closed": (ConnectionClosedError(endpoint_url=ENDPOINT_URL), 502, refusals.CONNECTION_BROKE),
    "streaming": (ResponseStreamingError(error="reset by peer"), 502, refusals.CONNECTION_BROKE),
    "incomplete": (
        IncompleteReadError(actual_bytes=1, expected_bytes=2),
        502,
        refusals.CONNECTION_BROKE,
    ),
    "no-credentials": (NoCredentialsError(), 500, proxy_handler.MISCONFIGURED),
    "partial-credentials": (
        PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"),
        500,
        proxy_handler.MISCONFIGURED,
    ),
    "param-validation": (ParamValidationError(report=f"bad {ENDPOINT}"), 500, proxy_handler.MISCONFIGURED),
    "no-region": (NoRegionError(), 500, proxy_handler.MISCONFIGURED),
    "a-bug": (
        RuntimeError(f"bug near arn:aws:sagemaker:us-east-1:123456789012:endpoint/{ENDPOINT}"),
        500,
        proxy_handler.INTERNAL,
    ),
    "a-key-error": (KeyError("Body"), 500, proxy_handler.INTERNAL),
}


@pytest.mark.parametrize(("error", "status", "message"), BOTOCORE_ERRORS.values(), ids=BOTOCORE_ERRORS.keys())
def test_transport_and_setup_failures_become_fixed_messages(
    runtime, monkeypatch, caplog, error, status, message
):
    client, _ = runtime

    def failing(**kwargs):
        raise error

    monkeypatch.setattr(client, "invoke_endpoint", failing)
    answer_status, body, _ = call(api_event(PHOTO), client)
    assert (answer_status, body["error"]) == (status, message)
    if status == 500:  # a fault of ours: the log has the traceback, the answer never does
        assert any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize(
    ("error", "status"),
    [(ReadTimeoutError(endpoint_url=ENDPOINT_URL), 504), (ResponseStreamingError(error="reset"), 502)],
)
def test_a_failure_while_reading_the_answer_is_answered_too(runtime, monkeypatch, error, status):
    client, _ = runtime

    class BrokenBody:
        def read(self, amount=None):
            raise error

        def close(self):
            pass

    monkeypatch.setattr(client, "invoke_endpoint", lambda **kwargs: {"Body": BrokenBody()})
    assert call(api_event(PHOTO), client)[0] == status


def test_an_unset_endpoint_name_is_a_500_without_calling_sagemaker(runtime, monkeypatch):
    client, _ = runtime
    monkeypatch.setattr(proxy_handler, "ENDPOINT_NAME", "")
    assert call(api_event(PHOTO), client)[:2] == (
        500,
        {"error": proxy_handler.MISCONFIGURED, "request_id": REQUEST_ID},
    )
