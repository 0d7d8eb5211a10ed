"""The Lambda behind `POST /predict`: API Gateway (HTTP API, payload 2.0) to SageMaker InvokeEndpoint.

Browsers cannot sign SageMaker requests, so this function does it for them. It ships with only
its package in its zip (stdlib and the runtime's boto3; see requirements.txt), and `make demo`
runs this same code in its local gateway, with a stand-in for the sagemaker-runtime client.
Callers are anonymous: every answer is JSON with a short fixed message and the request id, never
SageMaker's own text (it names the account, the endpoint and its log group); the full detail goes
to the function's log, one line per request.
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
import urllib.parse
import uuid

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from proxy.refusals import (
    LOOKS_PRIVATE,
    MISCONFIGURED,
    Refusal,
    clip,
    from_botocore_error,
    from_client_error,
    one_line,
)

log = logging.getLogger()
log.setLevel(logging.INFO)

ENDPOINT_NAME = os.environ.get("ENDPOINT_NAME", "")
# A multi-model stage's models, the default first (`?model=` chooses one); () on a single-model stage.
MODELS = tuple(name for name in os.environ.get("POSE_MODELS", "").split(",") if name)
ARTIFACT_SUFFIX = ".tar.gz"  # TargetModel is the model's artifact under the endpoint's S3 prefix
MOST_MODEL_NAME_CHARS = 64
MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
ROUTE_PATH = "/predict"
MOST_PEOPLE = 20  # the server's own limit on max_people
# Lambda refuses a synchronous invocation event over 6 MB (6,291,456 bytes) before the handler
# runs, and API Gateway base64-encodes a photo into that event (4 bytes for every 3). 4,500,000
# bytes of photo make 6,000,000 bytes of base64, leaving 291,456 bytes for the rest of the event:
# many times the HTTP API's 10,240-byte cap on request line plus headers, which the event repeats
# (rawPath, rawQueryString, headers, cookies, requestContext) and JSON may escape. Bigger photos
# never reach this code, so this is the limit a caller can actually meet, with a clear 413.
# https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
# https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html
MAX_PHOTO_BYTES = 4_500_000
# Lambda's synchronous response payload quota is 6 MB too (the same quotas page); an answer over it
# makes Lambda fail the invocation and API Gateway answer for us. Measured on the whole response
# as the runtime serialises it (json.dumps, ASCII-escaped), with 64 KiB to spare.
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 - 64 * 1024
MAX_CONTENT_TYPE_CHARS = 1024  # botocore's model for InvokeEndpoint.ContentType
DEFAULT_CONTENT_TYPE = "application/octet-stream"

# InvokeEndpoint.InferenceId: 1-64 characters matching \A\S[\p{Print}]*\z (Java's ASCII classes).
INFERENCE_ID = re.compile(r"[\x21-\x7e][\x20-\x7e]{0,63}")
PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]*")

MALFORMED = "the request is malformed"
INTERNAL = "internal error"
NO_BODY = "the request has no body; send a JPEG or PNG photo"
NOT_BASE64 = "the body is not valid base64"
NOT_UTF8 = "the body is not valid UTF-8 text"
HEADER_NOT_TEXT = "a request header is not text"
BAD_MAX_PEOPLE = "max_people must be a whole number from 1 to 20"
TWICE = "max_people is given twice"
MODEL_TWICE = "model is given twice"
BAD_CONTENT_TYPE = (
    f"the Content-Type header must be printable ASCII of at most {MAX_CONTENT_TYPE_CHARS:,} characters; "
    "send image/jpeg, image/png or application/json"
)
NO_ROUTE = f"not found; the API answers POST {ROUTE_PATH}"
NOT_ALLOWED = f"method not allowed; the API answers POST {ROUTE_PATH}"
UNEXPECTED_ANSWER = "the model returned an unexpected answer"
ANSWER_TOO_LARGE = f"the model's answer is larger than the API can return ({MAX_RESPONSE_BYTES:,} bytes)"


@functools.cache
def _runtime():
    """Created once per Lambda container, on first use."""
    # HTTP APIs give an integration 30 s; answer 504 ourselves just before that.
    timeouts = Config(read_timeout=28, connect_timeout=2, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client("sagemaker-runtime", config=timeouts)


def handler(event: object, context: object = None, runtime=None) -> dict:
    """The Lambda entry point; `runtime` is injectable for tests. It never raises: an exception
    would reach API Gateway as a bare 500, and Lambda's error text (with our traceback) to the log only."""
    request_id = str(uuid.uuid4())
    try:
        request_id = _request_id(event, context)
        return _handle(event, request_id, runtime)
    except Exception as error:  # the last resort: a bug, answered with a fixed message
        log.error("request %s answered 500 %s: %r", request_id, INTERNAL, error, exc_info=True)
        return _response(500, json.dumps({"error": INTERNAL, "request_id": request_id}), request_id)


def _handle(event: object, request_id: str, runtime) -> dict:
    try:
        body, content_type, options, asked = _request(event)
        if not ENDPOINT_NAME:
            raise Refusal(500, MISCONFIGURED, "ENDPOINT_NAME is not set", logging.ERROR)
        answer = (runtime or _runtime()).invoke_endpoint(
            EndpointName=ENDPOINT_NAME,
            Body=body,
            ContentType=content_type,
            Accept="application/json",
            InferenceId=request_id,
            **options,
            **_target_model(asked),
        )
        return _answer(answer, request_id, asked)
    except Refusal as refusal:
        return _error(refusal, request_id)
    except ClientError as error:
        return _error(from_client_error(error, ENDPOINT_NAME), request_id)
    except BotoCoreError as error:
        return _error(from_botocore_error(error), request_id)


def _request_id(event: object, context: object) -> str:
    """API Gateway's request id (it names the capture record too), else Lambda's, else a new one."""
    request_context = event.get("requestContext") if isinstance(event, dict) else None
    candidates = (
        request_context.get("requestId") if isinstance(request_context, dict) else None,
        getattr(context, "aws_request_id", None),
    )
    for candidate in candidates:
        if isinstance(candidate, str) and INFERENCE_ID.fullmatch(candidate):
            return candidate
    return str(uuid.uuid4())


# ------------------------------------------------------------------ the request


def _request(event: object) -> tuple[bytes, str, dict, str | None]:
    """The photo, its Content-Type, the InvokeEndpoint options the query asks for (`?max_people=N`)
    and the model it names (`?model=`, None: the default) from an API Gateway payload 2.0 event,
    or a 4xx refusal."""
    if not isinstance(event, dict):
        raise Refusal(400, MALFORMED, f"the event is a {type(event).__name__}, not an object")
    if not isinstance(event.get("requestContext"), dict):
        raise Refusal(400, MALFORMED, f"requestContext is {clip(event.get('requestContext'))}")
    _check_route(event.get("routeKey"))
    headers = _headers(event.get("headers"))
    content_type = _content_type(headers.get("content-type"))
    options, asked = _options(event.get("rawQueryString"))
    return _body(event.get("body"), event.get("isBase64Encoded", False)), content_type, options, asked


def _options(query: object) -> tuple[dict, str | None]:
    """`max_people=N` (1-20) becomes the endpoint's custom attributes, which the server reads;
    `model=NAME` is the model asked for (None when not given)."""
    if query in (None, ""):
        return {}, None
    if not isinstance(query, str):
        raise Refusal(400, MALFORMED, f"rawQueryString is {clip(query)}")
    # Other parameters (a cache-buster, say) are none of the model's business and pass unread.
    pairs = [part.partition("=") for part in query.split("&")]
    models = [value for name, _, value in pairs if name == "model"]
    if len(models) > 1:
        raise Refusal(400, MODEL_TWICE, f"query {clip(query)}")
    asked = urllib.parse.unquote(models[0], errors="replace") if models else None
    return _max_people([value for name, _, value in pairs if name == "max_people"], query), asked


def _max_people(values: list[str], query: str) -> dict:
    if not values:
        return {}
    if len(values) > 1:
        raise Refusal(400, TWICE, f"query {clip(query)}")
    value = values[0]
    if not (value.isascii() and value.isdigit() and 1 <= int(value) <= MOST_PEOPLE):
        raise Refusal(400, BAD_MAX_PEOPLE, f"max_people={clip(value)}")
    return {"CustomAttributes": f"max_people={int(value)}"}


def _target_model(asked: str | None) -> dict:
    """On a multi-model stage, the model to run (the default unless one is asked for): an unknown
    one is refused before SageMaker is called. A single-model stage's model is checked on its answer."""
    if not MODELS:
        return {}
    name = MODELS[0] if asked is None else asked
    if name not in MODELS:
        raise _unknown_model(name, MODELS)
    return {"TargetModel": f"{name}{ARTIFACT_SUFFIX}"}


def _unknown_model(asked: str, models: tuple[str, ...] | list[str]) -> Refusal:
    """400, naming the models there are; the name asked for is quoted only if it reads as a name."""
    quoted = MODEL_NAME.fullmatch(asked) and not LOOKS_PRIVATE.search(asked)
    quoted = quoted and not (ENDPOINT_NAME and ENDPOINT_NAME.lower() in asked.lower())
    named = f" '{asked}'" if quoted else ""
    message = f"unknown model{named}; this endpoint serves: {', '.join(models)}"
    return Refusal(400, message, f"model={clip(asked)}", extra={"models": list(models)})


def _check_route(route_key: object) -> None:
    """The HTTP API routes only POST /predict here; a hand-made event may leave routeKey out."""
    if route_key is None:
        return
    if not isinstance(route_key, str):
        raise Refusal(400, MALFORMED, f"routeKey is {clip(route_key)}")
    method, _, path = route_key.partition(" ")
    if path != ROUTE_PATH:
        raise Refusal(404, NO_ROUTE, f"routeKey {clip(route_key)}")
    if method != "POST":
        raise Refusal(405, NOT_ALLOWED, f"routeKey {clip(route_key)}")


def _headers(raw: object) -> dict[str, str]:
    # Payload 2.0 lower-cases header names; tolerate hand-made events that don't.
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise Refusal(400, MALFORMED, f"headers is {clip(raw)}")
    for name, value in raw.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise Refusal(400, HEADER_NOT_TEXT, f"header {clip(name)} is {clip(value)}")
    return {name.lower(): value for name, value in raw.items()}


def _content_type(value: str | None) -> str:
    if not value:
        return DEFAULT_CONTENT_TYPE
    if len(value) > MAX_CONTENT_TYPE_CHARS or not PRINTABLE_ASCII.fullmatch(value):
        raise Refusal(415, BAD_CONTENT_TYPE, f"Content-Type {clip(value)} ({len(value):,} characters)")
    return value


def _body(raw: object, base64_encoded: object) -> bytes:
    if raw is None or raw == "":
        raise Refusal(400, NO_BODY)
    if not isinstance(raw, str) or not isinstance(base64_encoded, bool):
        raise Refusal(400, MALFORMED, f"body is {clip(raw)}, isBase64Encoded is {clip(base64_encoded)}")
    try:
        body = base64.b64decode(raw, validate=True) if base64_encoded else raw.encode()
    except (binascii.Error, ValueError) as error:
        message = NOT_UTF8 if isinstance(error, UnicodeError) else NOT_BASE64
        raise Refusal(400, message, clip(str(error))) from error
    if len(body) > MAX_PHOTO_BYTES:
        raise Refusal(413, too_large(len(body)))
    return body


def too_large(size: int) -> str:
    """The 413 message for a photo over the API's limit (the local gateway refuses a declared
    Content-Length over it early, with the same words)."""
    return (
        f"the photo is {size:,} bytes; the limit is {MAX_PHOTO_BYTES:,} bytes ({MAX_PHOTO_BYTES / 1e6:g} MB)"
    )


# ------------------------------------------------------------------ the answer


def _answer(answer: dict, request_id: str, asked: str | None = None) -> dict:
    """The model's JSON as the 200 body, if it is JSON and Lambda can return it (and, on a
    single-model stage asked for a model, if that model answered)."""
    stream = answer["Body"]
    try:
        payload = stream.read(MAX_RESPONSE_BYTES + 1)
    finally:
        stream.close()
    content_type = answer.get("ContentType")
    media_type = content_type.split(";")[0].strip().lower() if isinstance(content_type, str) else ""
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise Refusal(502, UNEXPECTED_ANSWER, f"ContentType {clip(content_type)}", logging.ERROR)
    if len(payload) > MAX_RESPONSE_BYTES:
        raise Refusal(502, ANSWER_TOO_LARGE, f"over {MAX_RESPONSE_BYTES:,} bytes", logging.ERROR)
    try:
        text = payload.decode()
        document = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError) as error:
        raise Refusal(502, UNEXPECTED_ANSWER, f"not JSON: {clip(str(error))}", logging.ERROR) from error
    if not isinstance(document, dict):
        raise Refusal(502, UNEXPECTED_ANSWER, f"a JSON {type(document).__name__}", logging.ERROR)
    _check_answered_by(document, asked)
    response = _response(200, text, request_id)
    size = len(json.dumps(response))
    if size > MAX_RESPONSE_BYTES:
        raise Refusal(502, ANSWER_TOO_LARGE, f"the response would be {size:,} bytes", logging.ERROR)
    return response


def _check_answered_by(document: dict, asked: str | None) -> None:
    """A single-model stage knows its model only from its answers (`model.name`, which every answer
    carries): a request that named another is refused as unknown, listing the one deployed."""
    if asked is None or MODELS:
        return
    model = document.get("model")
    name = model.get("name") if isinstance(model, dict) else None
    known = isinstance(name, str) and 0 < len(name) <= MOST_MODEL_NAME_CHARS and name.isprintable()
    if known and name != asked:
        raise _unknown_model(asked, [name])


def _refuse_constant(name: str) -> None:
    # Python reads NaN and Infinity; a browser's JSON.parse does not.
    raise ValueError(f"{name} is not JSON")


def _error(refusal: Refusal, request_id: str) -> dict:
    log.log(
        refusal.level,
        "request %s answered %d %s%s",
        request_id,
        refusal.status,
        refusal.message,
        f" ({one_line(refusal.detail)})" if refusal.detail else "",
        exc_info=refusal.status == 500,
    )
    body = json.dumps({"error": refusal.message, **refusal.extra, "request_id": request_id})
    extra = {"Allow": "POST"} if refusal.status == 405 else {}
    return _response(refusal.status, body, request_id, extra)


def _response(status: int, body: str, request_id: str, extra: dict | None = None) -> dict:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Inference-Id": request_id, **(extra or {})},
        "body": body,
        "isBase64Encoded": False,
    }
