"""Content types to image bytes and results to JSON: the one table of what clients may send.

Every client-facing error (400/406/413/415) is raised here as a RequestError, so the server
never builds error text itself and a client never sees a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re

from inference.errors import RequestError

# SageMaker real-time endpoints refuse larger payloads: InvokeEndpoint's Body is at most 6,291,456
# bytes (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).
MAX_BODY_BYTES = 6 * 1024 * 1024
DISCARD_LIMIT_BYTES = 4 * MAX_BODY_BYTES
JSON_TYPE = "application/json"
# Raw image bodies. application/x-image is the SageMaker built-in algorithms' name for "an image";
# the actual format is sniffed from the bytes either way.
IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/jpg", "image/png", "application/x-image", "application/octet-stream"}
)
SUPPORTED = 'image/jpeg, image/png, or application/json with {"image": "<base64>"}'
# SageMaker passes InvokeEndpoint's CustomAttributes to the container as this header, unread.
CUSTOM_ATTRIBUTES_HEADER = "X-Amzn-SageMaker-Custom-Attributes"
MAX_PEOPLE_ATTRIBUTE = "max_people"
MAX_PEOPLE_LIMIT = 20  # a person costs one landmark pass or more: bound the work one request asks for
# How many people a response lists unless the request or the container says otherwise.
DEFAULT_MAX_PEOPLE = 5


def media_type(content_type: str | None) -> str:
    """`Image/JPEG; charset=x` -> `image/jpeg`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def check_body_size(length: int) -> None:
    if length > MAX_BODY_BYTES:
        raise RequestError(413, f"the body is {length:,} bytes; the limit is {MAX_BODY_BYTES:,} bytes (6 MB)")


def discard_body(stream, length: int) -> None:
    """Read and drop a refused body (up to a bound), so the client reads our 413 instead of a
    connection reset; anything past the bound is cut off with the connection."""
    remaining = min(length, DISCARD_LIMIT_BYTES)
    while remaining > 0 and (chunk := stream.read(min(remaining, 1 << 20))):
        remaining -= len(chunk)


def image_bytes(content_type: str | None, body: bytes) -> bytes:
    """The encoded image inside a request body, whichever supported way it was sent."""
    kind = media_type(content_type)
    if kind in IMAGE_TYPES:
        return body
    if kind == JSON_TYPE:
        return _image_from_json(body)
    shown = content_type or "none"
    raise RequestError(415, f"unsupported Content-Type {shown!r}; send {SUPPORTED}")


def check_accept(accept: str | None) -> None:
    """Only JSON comes back; refuse a client that will accept nothing else."""
    if not accept:
        return
    kinds = {media_type(part) for part in accept.split(",")}
    if kinds & {JSON_TYPE, "application/*", "*/*", "*"}:
        return
    raise RequestError(406, f"responses are application/json; the Accept header {accept!r} excludes it")


def max_people(custom_attributes: str | None, default: int) -> int:
    """`max_people=N` among the request's custom attributes (separated by `,` or `;`), else `default`.

    Other attributes are someone else's business and are ignored.
    """
    for attribute in re.split(r"[,;]", custom_attributes or ""):
        key, _, value = attribute.partition("=")
        if key.strip().lower() == MAX_PEOPLE_ATTRIBUTE:
            count = people_count(value)
            if count is None:
                shown = value.strip()[:40]
                raise RequestError(
                    400,
                    f"{CUSTOM_ATTRIBUTES_HEADER}: {MAX_PEOPLE_ATTRIBUTE} must be an integer from 1 to"
                    f" {MAX_PEOPLE_LIMIT}, got {shown!r}",
                )
            return count
    return default


def people_count(text: str) -> int | None:
    """A whole number of people from 1 to MAX_PEOPLE_LIMIT written in decimal digits, else None."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= MAX_PEOPLE_LIMIT:
        return None
    return int(text)


def encode_json(document: dict) -> bytes:
    """Strict JSON: a non-finite number (a model can output NaN) becomes null, never `NaN`."""
    try:
        return json.dumps(document, separators=(",", ":"), allow_nan=False).encode()
    except ValueError:
        return json.dumps(_finite(document), separators=(",", ":"), allow_nan=False).encode()


def _finite(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(item) for item in value]
    return value


def _image_from_json(body: bytes) -> bytes:
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise RequestError(400, f"the body is not valid JSON ({error})") from error
    except RecursionError as error:  # e.g. "[" x 100,000: the parser gives up at Python's depth limit
        raise RequestError(400, 'the JSON body is nested too deeply; send {"image": "<base64>"}') from error
    if not isinstance(document, dict) or not isinstance(document.get("image"), str):
        raise RequestError(400, 'the JSON body must be an object with an "image" field holding base64 text')
    encoded = document["image"]
    if encoded.startswith("data:"):  # a data URL straight from a browser's FileReader
        encoded = encoded.partition(",")[2]
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        try:
            return base64.b64decode("".join(encoded.split()), validate=True)
        except (binascii.Error, ValueError) as error:
            raise RequestError(400, f'the "image" field is not valid base64 ({error})') from error
