"""How the API's Lambdas answer a failure: SageMaker's and botocore's errors as a status, a short
fixed message a caller may see, and the detail for the log only.

Callers are anonymous, so a message never carries SageMaker's own text (it names the account, the
endpoint and its log group); only the model's own words about a bad photo pass, when they read as
such. The API's function (handler.py) and the drop folder's (drop_folder.py) share these rules.
"""

from __future__ import annotations

import json
import logging
import re
import reprlib
import unicodedata

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    HTTPClientError,
    IncompleteReadError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError

MAX_CONTAINER_MESSAGE_CHARS = 300
# What must never reach an anonymous caller: ARNs, 12-digit account ids, URLs, AWS host names.
LOOKS_PRIVATE = re.compile(r"arn:|\d{12}|://|www\.|amazonaws|console\.aws", re.IGNORECASE)
STATED_STATUS = re.compile(r"\((\d{3})\)")  # "Received client error (400) from primary ..."
_LOG_REPR = reprlib.Repr()  # bounded depth and length; keyword arguments need Python 3.12
_LOG_REPR.maxlevel, _LOG_REPR.maxstring, _LOG_REPR.maxother = 3, 1000, 200

MISCONFIGURED = "the API is not configured correctly"
MODEL_FAILED = "the model failed on this photo"
NOT_DEPLOYED = "the model is not deployed right now; try again later"
NOT_IN_SERVICE = "the model is not in service right now; try again in a few minutes"
BUSY = "the model is busy or starting; try again in a moment"
UPSTREAM_FAILED = "the model service failed; try again"
UPSTREAM_REFUSED = "the model service refused the request"
UNREACHABLE = "the model service cannot be reached right now; try again"
CONNECTION_BROKE = "the connection to the model broke; try again"
TIMED_OUT = "the model did not answer in time; try again"
# The container's own 4xx, when its message cannot be shown.
CONTAINER_4XX = {
    400: "the model could not read the photo",
    406: "the model cannot answer in the requested format",
    413: "the photo is too large for the model",
    415: "the model does not accept this Content-Type; send image/jpeg, image/png or application/json",
}
CONTAINER_REFUSED = "the model refused the request"
VALIDATION_CODES = {"ValidationError", "ValidationException"}
BUSY_CODES = {"ThrottlingException", "Throttling", "ServiceUnavailable", "ModelNotReadyException"}
FAILED_CODES = {"InternalFailure", "InternalDependencyException", "InternalServerError"}


class Refusal(Exception):
    """An answer other than 200: its status and fixed message for the caller, its detail for the log."""

    def __init__(
        self,
        status: int,
        message: str,
        detail: str = "",
        level: int = logging.INFO,
        extra: dict | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.detail = detail
        self.level = level
        self.extra = extra or {}  # more of the answer's JSON (the models an unknown one is not among)


def from_client_error(error: ClientError, endpoint_name: str = "") -> Refusal:
    """SageMaker's error as a refusal; `endpoint_name` is never shown to a caller."""
    response = error.response if isinstance(error.response, dict) else {}
    details = response.get("Error") if isinstance(response.get("Error"), dict) else {}
    code, message = str(details.get("Code", "")), str(details.get("Message", ""))
    detail = "; ".join(
        [f"{code}: {clip(message, 1000)}"]
        + [
            f"{key} {clip(response[key], 1000)}"
            for key in ("OriginalStatusCode", "OriginalMessage", "LogStreamArn")
            if key in response
        ]
    )
    lowered = message.lower()
    if code == "ModelError":
        return from_model_error(response, message, detail, endpoint_name)
    if code in VALIDATION_CODES and ("not found" in lowered or "could not find" in lowered):
        return Refusal(503, NOT_DEPLOYED, detail, logging.ERROR)
    if code in VALIDATION_CODES and ("inservice" in lowered or "not in service" in lowered):
        return Refusal(503, NOT_IN_SERVICE, detail, logging.WARNING)
    if code in BUSY_CODES:
        return Refusal(503, BUSY, detail, logging.WARNING)
    if code in FAILED_CODES:
        return Refusal(502, UPSTREAM_FAILED, detail, logging.WARNING)
    # Every other code (AccessDenied, a ValidationError we caused, ...) is ours to fix.
    return Refusal(502, UPSTREAM_REFUSED, detail, logging.ERROR)


def from_model_error(response: dict, message: str, detail: str, endpoint_name: str = "") -> Refusal:
    """The container answered an error: its 4xx is the caller's (a bad photo), its 5xx a 502."""
    status = response.get("OriginalStatusCode")
    if not isinstance(status, int) or isinstance(status, bool):
        stated = STATED_STATUS.search(message)
        status = int(stated.group(1)) if stated else 500
    if not 400 <= status < 500:
        return Refusal(502, MODEL_FAILED, detail, logging.WARNING)
    shown = container_message(response.get("OriginalMessage"), endpoint_name)
    return Refusal(status, shown or CONTAINER_4XX.get(status, CONTAINER_REFUSED), detail)


def container_message(original: object, endpoint_name: str = "") -> str | None:
    """The inference server's `{"error": "..."}` text about the photo, if it is safe to show."""
    try:
        document = json.loads(original) if isinstance(original, str) else None
    except (ValueError, RecursionError):
        return None
    message = document.get("error") if isinstance(document, dict) else None
    if not isinstance(message, str):
        return None
    # Line breaks and tabs become one space; other control and format characters go.
    visible = "".join(
        char for char in message if char.isspace() or not unicodedata.category(char).startswith("C")
    )
    cleaned = " ".join(visible.split())
    if not cleaned or LOOKS_PRIVATE.search(cleaned):
        return None
    if endpoint_name and endpoint_name.lower() in cleaned.lower():
        return None
    if len(cleaned) > MAX_CONTAINER_MESSAGE_CHARS:
        return cleaned[: MAX_CONTAINER_MESSAGE_CHARS - 1] + "…"
    return cleaned


def from_botocore_error(error: BotoCoreError) -> Refusal:
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, ReadTimeoutError | ConnectTimeoutError):
        return Refusal(504, TIMED_OUT, detail, logging.WARNING)
    if isinstance(error, BotoConnectionError):  # endpoint, proxy and TLS failures
        return Refusal(503, UNREACHABLE, detail, logging.WARNING)
    if isinstance(error, HTTPClientError | IncompleteReadError):  # closed or cut mid-answer
        return Refusal(502, CONNECTION_BROKE, detail, logging.WARNING)
    # No credentials, no region, a parameter botocore refused: a fault in this function's setup.
    return Refusal(500, MISCONFIGURED, detail, logging.ERROR)


def clip(value: object, limit: int = 200) -> str:
    """A value for the log: a bounded repr (never the whole of a huge or deeply nested event field),
    with its type when that is the point."""
    shown = _LOG_REPR.repr(value)
    if isinstance(value, str) and len(value) > limit:
        shown = f"{_LOG_REPR.repr(value[:limit])} ({len(value):,} characters)"
    return shown if isinstance(value, str) else f"{type(value).__name__} {shown}"


def one_line(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")
