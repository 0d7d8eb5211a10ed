"""The cloud API's Lambda, hosted locally: `proxy.handler` itself, as `chalice local` runs an app.

The gateway turns an HTTP request into the API Gateway (HTTP API, payload 2.0) event the function
gets in the cloud, calls the handler with a stand-in for its sagemaker-runtime client, and turns
the handler's answer back into HTTP. The stand-in POSTs to the local inference server's
/invocations and fails as SageMaker's runtime does, so the handler's own mapping decides what a
caller reads, locally as in the cloud.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
from dataclasses import dataclass
from datetime import UTC, datetime

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)
from botocore.response import StreamingBody

from deployment.local.http1 import RequestHead
from deployment.local.models import LoadFailed, LocalModels
from deployment.local.supervisor import Upstream
from deployment.multi_model import MODELS_VARIABLE, models_value
from monitoring.capture import Invocation
from proxy import handler as proxy_handler

ROUTE_KEY = f"POST {proxy_handler.ROUTE_PATH}"
FUNCTION_NAME = "predict"
# What an HTTP API passes as text; any other body (or one that is not UTF-8) arrives base64-encoded.
TEXT_TYPES = ("application/json", "application/javascript", "application/xml")


@dataclass(frozen=True)
class LambdaContext:
    """The part of Lambda's context object the handler reads."""

    aws_request_id: str
    function_name: str = FUNCTION_NAME


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    content_type: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


def configure_function(endpoint_name: str, models: tuple[str, ...] = ()) -> None:
    """The function's environment (ENDPOINT_NAME, POSE_MODELS), which Lambda sets before the handler
    module is loaded; one process hosts one function, so the setting is process-wide, as in a Lambda
    container."""
    proxy_handler.ENDPOINT_NAME = endpoint_name
    proxy_handler.MODELS = tuple(models)  # read from POSE_MODELS when the module loads, as ENDPOINT_NAME
    if models:
        os.environ[MODELS_VARIABLE] = models_value(models)
    else:
        os.environ.pop(MODELS_VARIABLE, None)


def call_function(event: dict, request_id: str, runtime: LocalRuntime) -> HttpAnswer:
    """The handler's answer to `event`, as API Gateway turns it into HTTP."""
    response = proxy_handler.handler(event, LambdaContext(request_id), runtime=runtime)
    return http_answer(response)


def http_api_event(head: RequestHead, body: bytes, request_id: str, peer: str) -> dict:
    """The payload 2.0 event for a request the HTTP API routed to POST /predict."""
    headers: dict[str, str] = {}
    for name, value in head.headers:  # already lower-case; repeated headers are joined with commas
        if name != "cookie":
            headers[name] = f"{headers[name]},{value}" if name in headers else value
    cookies = [part.strip() for value in head.values("cookie") for part in value.split(";") if part.strip()]
    raw_path, _, query = head.target.partition("?")
    text = _as_text(body, headers.get("content-type", ""))
    moment = datetime.now(UTC)
    event = {
        "version": "2.0",
        "routeKey": ROUTE_KEY,
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "apiId": "local",
            "domainName": headers.get("host", ""),
            "http": {
                "method": head.method,
                "path": head.path,
                "protocol": head.version,
                "sourceIp": peer.rpartition(":")[0],
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": ROUTE_KEY,
            "stage": "$default",
            "time": moment.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(moment.timestamp() * 1000),
        },
        "body": text if text is not None else base64.b64encode(body).decode("ascii"),
        "isBase64Encoded": text is None,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def _as_text(body: bytes, content_type: str) -> str | None:
    media_type = content_type.split(";")[0].strip().lower()
    if not (media_type.startswith("text/") or media_type in TEXT_TYPES or media_type.endswith("+json")):
        return None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return None


def http_answer(response: dict) -> HttpAnswer:
    """The Lambda's payload 2.0 response (statusCode, headers, body, isBase64Encoded) as HTTP."""
    body = response.get("body") or ""
    data = base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()
    headers = response.get("headers") or {}
    content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
    others = tuple((name, str(value)) for name, value in headers.items() if name.lower() != "content-type")
    return HttpAnswer(int(response["statusCode"]), content_type, others, data)


class LocalRuntime:
    """Stands in for boto3's sagemaker-runtime client, for one request: InvokeEndpoint is a POST to
    the local inference server's /invocations (or, with TargetModel on a multi-model endpoint, to
    /models/{name}/invoke, loading the model first if needed), and its failures are the ones
    botocore raises."""

    def __init__(self, upstream: Upstream, timeout_seconds: float, models: LocalModels | None = None) -> None:
        self.upstream = upstream
        self.timeout_seconds = timeout_seconds
        self.models = models  # a multi-model endpoint's models; None for a single-model one
        self.invocation: Invocation | None = None  # what the container received and answered
        self.unreachable = False  # the server could not be reached, or dropped the connection

    @property
    def url(self) -> str:
        return f"http://{self.upstream.host}:{self.upstream.port}/invocations"

    def invoke_endpoint(
        self,
        *,
        EndpointName: str,
        Body: bytes,
        ContentType: str,
        Accept: str,
        InferenceId: str = "",  # the API sends its request id; the drop folder none
        CustomAttributes: str | None = None,
        TargetModel: str | None = None,
    ) -> dict:
        moment = datetime.now(UTC)
        headers = {"Content-Type": ContentType, "Accept": Accept}
        if CustomAttributes is not None:  # as SageMaker passes them to the container
            headers["X-Amzn-SageMaker-Custom-Attributes"] = CustomAttributes
        if TargetModel is None and self.models is None:
            status, answer_type, answer = self._send("POST", "/invocations", Body, headers)
        else:
            headers["X-Amzn-SageMaker-Target-Model"] = TargetModel or ""
            status, answer_type, answer = self._invoke_model(TargetModel, Body, headers)
        self.invocation = Invocation(Body, ContentType, answer, answer_type, moment, inference_id=InferenceId)
        if status >= 400:
            raise model_error(status, answer)
        return {"Body": StreamingBody(io.BytesIO(answer), len(answer)), "ContentType": answer_type}

    def _invoke_model(
        self, target_model: str | None, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        """As SageMaker runs a multi-model endpoint: load the model if the container has not, then invoke."""
        if self.models is None:
            raise validation_error(
                "TargetModel is only for multi-model endpoints; this endpoint serves one model"
            )
        if target_model is None:
            raise validation_error("this is a multi-model endpoint: name the model with TargetModel")
        name = self.models.name_of(target_model)
        if name is None:
            raise validation_error(
                f"Failed to download model data for TargetModel {target_model!r}: no such artifact"
            )
        answer = self._send("POST", f"/models/{name}/invoke", body, headers)
        if answer[0] == 404:  # not loaded (yet, or any more: the server restarted)
            try:
                self.models.load(name, self._send)
            except LoadFailed as error:
                raise model_error(error.status, error.answer) from error
            answer = self._send("POST", f"/models/{name}/invoke", body, headers)
        self.models.used(name)
        return answer

    def _send(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        connection = http.client.HTTPConnection(
            self.upstream.host, self.upstream.port, timeout=self.timeout_seconds
        )
        try:
            try:
                connection.connect()
            except TimeoutError as error:
                raise ConnectTimeoutError(endpoint_url=self.url) from error
            except OSError as error:
                self.unreachable = True
                raise EndpointConnectionError(endpoint_url=self.url, error=error) from error
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                answer = response.read()
            except TimeoutError as error:
                raise ReadTimeoutError(endpoint_url=self.url) from error
            except (OSError, http.client.HTTPException) as error:
                self.unreachable = True
                raise ConnectionClosedError(endpoint_url=self.url) from error
            return response.status, response.getheader("Content-Type", "application/octet-stream"), answer
        finally:
            connection.close()


def validation_error(message: str) -> ClientError:
    """What SageMaker's runtime raises for a request it refuses itself (HTTP 400)."""
    response = {
        "Error": {"Code": "ValidationError", "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, "InvokeEndpoint")


def model_error(status: int, answer: bytes) -> ClientError:
    """What SageMaker's runtime raises when the container answers an error: ModelError (HTTP 424),
    with the container's status and body in OriginalStatusCode and OriginalMessage."""
    original = answer.decode("utf-8", errors="replace")
    kind = "client" if status < 500 else "server"
    message = (
        f'Received {kind} error ({status}) from primary with message "{original}". '
        "See the inference server's log for more information."
    )
    response = {
        "Error": {"Code": "ModelError", "Message": message},
        "OriginalStatusCode": status,
        "OriginalMessage": original,
        "ResponseMetadata": {"HTTPStatusCode": 424},
    }
    return ClientError(response, "InvokeEndpoint")
