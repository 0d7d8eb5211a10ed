"""SageMaker's data-capture format both ways: write one capture record, and skim one back (CONTRACTS.md §2).

A capture line is ~55 KB of base64 photo around the ~5 KB monitoring needs, so reading never parses
a whole line: the photo is measured where it lies (never decoded, not even copied), the small
eventMetadata object is decoded on its own, and a response in SageMaker's layout is skimmed in place,
still escaped (response.py). A line in any other layout takes the careful path through the JSON decoder.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from monitoring.response import Response, read_response

JSON = "JSON"
CSV = "CSV"
BASE64 = "BASE64"
_BACKSLASH = 0x5C
# The flat endpointInput object, matched piece by piece so its ~55 KB data string is only ever memchr'd.
_OBJECT_START = re.compile(rb"\s*:\s*\{\s*")
_STRING_FIELD = re.compile(rb'"([^"\\]*)"\s*:\s*"')  # a key, then the quote opening its string value
_SEPARATOR = re.compile(rb"\s*([,}])\s*")
_SAGEMAKER_INPUT_HEAD = re.compile(rb':\{"observedContentType":"[^"\\]*","mode":"INPUT","data":"')
_SAGEMAKER_OUTPUT_HEAD = re.compile(rb':\{"observedContentType":"[^"\\]*","mode":"OUTPUT","data":"')
_SAGEMAKER_ENCODING_TAIL = re.compile(rb'","encoding":"([A-Z0-9]*)"\}')
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class CaptureContentTypes:
    """DataCaptureConfig.CaptureContentTypeHeader: bodies of these types are stored as text, others as base64."""

    json_types: tuple[str, ...] = ("application/json",)
    csv_types: tuple[str, ...] = ("text/csv",)

    def encoding(self, content_type: str) -> str:
        kind = content_type.split(";", 1)[0].strip().lower()
        if kind in self.json_types:
            return JSON
        return CSV if kind in self.csv_types else BASE64


@dataclass(frozen=True)
class Invocation:
    """One request and its response as the endpoint saw them: what data capture records."""

    request_body: bytes
    request_type: str
    response_body: bytes
    response_type: str
    inference_time: datetime
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    inference_id: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """The part of one capture record that monitoring uses."""

    inference_time: datetime
    request_bytes: int | None  # decoded size of the request body; None when only output was captured
    response: Response | None  # None when only input was captured


class UnreadableRecord(ValueError):
    """A capture line that cannot be used (truncated, not JSON, fields missing): counted and skipped."""


def capture_record(
    invocation: Invocation, content_types: CaptureContentTypes = CaptureContentTypes()
) -> dict:
    """The JSON object SageMaker writes for one invocation, keys in SageMaker's order."""
    metadata = {"eventId": invocation.event_id}
    if invocation.inference_id is not None:
        metadata["inferenceId"] = invocation.inference_id
    metadata["inferenceTime"] = invocation.inference_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "captureData": {
            "endpointInput": _captured_data(
                invocation.request_body, invocation.request_type, "INPUT", content_types
            ),
            "endpointOutput": _captured_data(
                invocation.response_body, invocation.response_type, "OUTPUT", content_types
            ),
        },
        "eventMetadata": metadata,
        "eventVersion": "0",
    }


def capture_line(invocation: Invocation, content_types: CaptureContentTypes = CaptureContentTypes()) -> str:
    """One line of a capture file, newline included."""
    return encode_record(capture_record(invocation, content_types))


def encode_record(record: dict) -> str:
    """`json.dumps(record)` to the byte, plus a newline, without the JSON encoder scanning the photos.

    Base64 needs no escaping, so each base64 body is swapped for a short marker, the small rest is
    encoded, and the body is spliced back in: half the cost of capturing a photo.
    """
    sections = record["captureData"]
    shallow = {**record, "captureData": {name: dict(part) for name, part in sections.items()}}
    # An unguessable marker per call, so no captured text can impersonate it.
    markers = {}
    for part in shallow["captureData"].values():
        if part["encoding"] == BASE64:
            marker = f"\0{uuid.uuid4().hex}\0"
            markers[json.dumps(marker)[1:-1]] = part["data"]
            part["data"] = marker
    text = json.dumps(shallow, separators=(",", ":"))
    for encoded_marker, body in markers.items():
        text = text.replace(encoded_marker, body, 1)
    return text + "\n"


def capture_path(root: Path, endpoint: str, variant: str, opened_at: datetime, file_id: str = "") -> Path:
    """`{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/{mm-ss-mmm}-{uuid}.jsonl`, as SageMaker names capture files."""
    moment = opened_at.astimezone(UTC)
    name = f"{moment:%M-%S}-{moment.microsecond // 1000:03d}-{file_id or uuid.uuid4()}.jsonl"
    return root / endpoint / variant / f"{moment:%Y/%m/%d/%H}" / name


def _captured_data(body: bytes, content_type: str, mode: str, content_types: CaptureContentTypes) -> dict:
    encoding = content_types.encoding(content_type)
    text = base64.b64encode(body).decode("ascii") if encoding == BASE64 else body.decode("utf-8", "replace")
    return {"observedContentType": content_type, "mode": mode, "data": text, "encoding": encoding}


def read_record(line: bytes) -> Record:
    """Skim one capture line; raises UnreadableRecord for a line that cannot be used."""
    metadata_key = line.rfind(b'"eventMetadata"')
    if metadata_key < 0:
        raise UnreadableRecord("no eventMetadata (truncated, or not a capture record)")
    input_key = line.find(b'"endpointInput"')
    output_key = line.rfind(b'"endpointOutput"')
    keys = (input_key, output_key, metadata_key)
    metadata = _object_after(
        _decode(line, metadata_key, _section_end(line, metadata_key, keys)), "eventMetadata"
    )
    return Record(
        inference_time=_inference_time(metadata),
        request_bytes=_request_bytes(line, input_key) if input_key >= 0 else None,
        response=(
            _response(line, output_key, _section_end(line, output_key, keys)) if output_key >= 0 else None
        ),
    )


def _section_end(line: bytes, start: int, keys: tuple[int, ...]) -> int:
    """Where the top-level section starting at `start` ends at the latest: the next key's position."""
    return min((key for key in keys if key > start), default=len(line))


def _decode(line: bytes, start: int, end: int) -> str:
    try:
        return line[start:end].decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableRecord(f"not UTF-8 ({error.reason})") from error


def _object_after(text: str, key: str) -> dict:
    """The JSON object after `"key":` in text, decoded on its own."""
    colon = _skip_whitespace(text, text.find(f'"{key}"') + len(key) + 2)
    if not text.startswith(":", colon):
        raise UnreadableRecord(f"{key} is not followed by ':'")
    try:
        value, _ = _DECODER.raw_decode(text, _skip_whitespace(text, colon + 1))
    except ValueError as error:
        raise UnreadableRecord(f"{key} is malformed or truncated JSON") from error
    if not isinstance(value, dict):
        raise UnreadableRecord(f"{key} is not a JSON object")
    return value


def _skip_whitespace(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t\r\n":
        position += 1
    return position


def _inference_time(metadata: dict) -> datetime:
    value = metadata.get("inferenceTime")
    if not isinstance(value, str):
        raise UnreadableRecord("eventMetadata.inferenceTime is missing")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as error:
        raise UnreadableRecord(f"eventMetadata.inferenceTime {value!r} is not an ISO-8601 time") from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@dataclass(frozen=True, slots=True)
class _Span:
    """Where endpointInput.data or endpointOutput.data lies in the line, and how it is encoded."""

    start: int
    end: int
    encoding: bytes


def _response(line: bytes, key: int, section_end: int) -> Response:
    """Read endpointOutput; in SageMaker's layout, straight from the line without unescaping it."""
    body = _sagemaker_output(line, key, section_end)
    try:
        if body is None:
            return read_response(
                _response_text(_object_after(_decode(line, key, section_end), "endpointOutput"))
            )
        if body.encoding == b"BASE64":
            return read_response(_base64_text(line[body.start : body.end]))
        if body.encoding in (b"JSON", b"CSV"):
            return read_response(_decode(line, body.start, body.end), escaped=True)
    except json.JSONDecodeError as error:  # the escaped text is not a JSON string's content
        raise UnreadableRecord("endpointOutput.data is not a valid JSON string") from error
    shown = body.encoding.decode("utf-8", "replace")
    raise UnreadableRecord(f"endpointOutput.encoding {shown!r} is not JSON, CSV or BASE64")


def _sagemaker_output(line: bytes, key: int, section_end: int) -> _Span | None:
    """Where endpointOutput.data lies when the object is laid out as SageMaker writes it; else None.

    Found from both ends (its head, then `","encoding":"…"}` searched backwards from the next
    section), so the escaped response inside is never stepped through quote by quote. Within the
    section, that sequence can only be the real field: inside the data string every quote is escaped.
    """
    head = _SAGEMAKER_OUTPUT_HEAD.match(line, key + len(b'"endpointOutput"'))
    if head is None:
        return None
    tail = line.rfind(b'","encoding":"', head.end(), section_end)
    encoding = _SAGEMAKER_ENCODING_TAIL.match(line, tail) if tail >= 0 else None
    if encoding is None or line[tail - 1] == _BACKSLASH:  # a backslash there: leave it to the decoder
        return None
    return _Span(head.end(), tail, encoding.group(1))


def _response_text(output: dict) -> str:
    data, encoding = output.get("data"), output.get("encoding")
    if not isinstance(data, str):
        raise UnreadableRecord("endpointOutput.data is missing")
    if encoding in (JSON, CSV):
        return data
    if encoding == BASE64:
        return _base64_text(data)
    raise UnreadableRecord(f"endpointOutput.encoding {encoding!r} is not JSON, CSV or BASE64")


def _base64_text(data: str | bytes) -> str:
    try:
        return base64.b64decode(data, validate=True).decode("utf-8", "replace")
    except (binascii.Error, ValueError) as error:
        raise UnreadableRecord("endpointOutput.data is not valid base64") from error


def _request_bytes(line: bytes, key: int) -> int:
    """The decoded size of the request, from where its string starts and ends in the line."""
    body = _request_body(line, key)
    start, end = body.start, body.end
    if body.encoding == b"BASE64":
        # 4 base64 characters carry 3 bytes; each trailing "=" stands for one byte fewer.
        padding = (end - start >= 1 and line[end - 1] == 0x3D) + (end - start >= 2 and line[end - 2] == 0x3D)
        return (end - start) * 3 // 4 - padding
    if body.encoding not in (b"JSON", b"CSV"):
        shown = body.encoding.decode("utf-8", "replace")
        raise UnreadableRecord(f"endpointInput.encoding {shown!r} is not JSON, CSV or BASE64")
    if line.find(b"\\", start, end) < 0:
        return end - start  # a JSON string without escapes is its own UTF-8 bytes
    return len(json.loads(line[start - 1 : end + 1]).encode("utf-8"))


def _request_body(line: bytes, key: int) -> _Span:
    head = _SAGEMAKER_INPUT_HEAD.match(line, key + len(b'"endpointInput"'))
    if head is not None:  # SageMaker's own layout: three regex steps instead of a dozen
        data_end = _string_end(line, head.end())
        tail = _SAGEMAKER_ENCODING_TAIL.match(line, data_end)
        if tail is not None:
            return _Span(head.end(), data_end, tail.group(1))
    spans = _string_fields(line, key + len(b'"endpointInput"'))
    if b"data" not in spans:
        raise UnreadableRecord("endpointInput.data is missing")
    encoding_start, encoding_end = spans.get(b"encoding", (0, 0))
    return _Span(*spans[b"data"], line[encoding_start:encoding_end])


def _string_fields(line: bytes, position: int) -> dict[bytes, tuple[int, int]]:
    """Byte spans of the string values of the flat JSON object after `:` at position, without copying them."""
    opened = _OBJECT_START.match(line, position)
    if opened is None:
        raise UnreadableRecord("endpointInput is not a JSON object")
    spans: dict[bytes, tuple[int, int]] = {}
    position = opened.end()
    if line.startswith(b"}", position):
        return spans
    while True:
        field_start = _STRING_FIELD.match(line, position)
        if field_start is None:
            raise UnreadableRecord(f"endpointInput: expected a string field at byte {position}")
        value_end = _string_end(line, field_start.end())
        spans[field_start.group(1)] = (field_start.end(), value_end)
        separator = _SEPARATOR.match(line, value_end + 1)
        if separator is None:
            raise UnreadableRecord(f"endpointInput: expected , or }} at byte {value_end + 1}")
        if separator.group(1) == b"}":
            return spans
        position = separator.end()


def _string_end(line: bytes, start: int) -> int:
    """The index of the quote that closes the JSON string whose content starts at `start`.

    Base64 has no quotes, so the first quote found (a single memchr over the photo) closes it.
    """
    search = start
    while True:
        end = line.find(b'"', search)
        if end < 0:
            raise UnreadableRecord("a string in endpointInput never ends (truncated line)")
        backslashes = 0
        while line[end - 1 - backslashes] == _BACKSLASH:
            backslashes += 1
        if backslashes % 2 == 0:
            return end
        search = end + 1
