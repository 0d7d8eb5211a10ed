"""SageMaker's data-capture format both ways: write one capture record, and read one back.

The format: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html

A capture line is ~55 KB of base64 photo around the ~5 KB monitoring needs. Reading decodes it once
with msgspec into typed structs that name only what the checks use: the photo stays a zero-copy view
(msgspec.Raw) measured by its length, never decoded; the fields not named are skipped, their syntax
still checked. The response inside is decoded the same way: six of its keys, the landmarks skipped,
of `people` only how many there are (each person's keypoints and landmarks are skipped too), and of
`model` only its name (which model answered, on an endpoint serving several).
"""

from __future__ import annotations

import base64
import json
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import msgspec

from monitoring.contract import format_time

JSON = "JSON"
CSV = "CSV"
BASE64 = "BASE64"
_QUOTE = ord('"')
_LARGEST_FLOAT = sys.float_info.max
MAX_MODEL_NAME = 100  # longer is not a model's name (catalog names are short): counted as unnamed


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


class Outcome(StrEnum):
    PREDICTION = "prediction"
    ERROR_RESPONSE = "error_response"  # {"error": "..."}: the server refused or failed the request
    NO_TIMING = "no_timing"  # JSON without a usable timing.inference_ms
    NOT_JSON = "not_json"  # not a JSON object: CSV, an HTML error page, a cut-off body, a NaN (not JSON)


@dataclass(frozen=True, slots=True)
class Response:
    """What one captured response of our inference server says: a prediction (with its latency) or an error."""

    outcome: Outcome
    inference_ms: float | None = None
    person_detected: bool | None = None
    keypoint_score: float | None = None  # mean of keypoints[*].score: falls when the model degrades
    people: int | None = None  # entries of `people` that are objects; None: no such entry, or no list
    model: str | None = None  # model.name: which model answered; None when the response names none

    @property
    def is_error(self) -> bool:
        return self.outcome is not Outcome.PREDICTION

    @property
    def people_count(self) -> int | None:
        """People in the photo: a server older than `people` found at most one (its person_detected)."""
        if self.outcome is not Outcome.PREDICTION:
            return None
        if self.people is not None:
            return self.people
        return 1 if self.person_detected else 0


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
    metadata["inferenceTime"] = format_time(invocation.inference_time)
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


# What read_record decodes of a capture line. observedContentType, mode, eventId, inferenceId and
# eventVersion are not named, so msgspec skips them; a section CaptureOptions left out stays UNSET.
_Encoding = Literal["JSON", "CSV", "BASE64"]


class _CapturedInput(msgspec.Struct, gc=False):
    data: msgspec.Raw  # the body still quoted, as a view into the line: the photo is never copied
    encoding: _Encoding


class _CapturedOutput(msgspec.Struct, gc=False):
    data: str  # our response, unescaped (JSON, CSV) or base64
    encoding: _Encoding


class _CaptureData(msgspec.Struct, rename="camel", gc=False):
    endpoint_input: _CapturedInput | msgspec.UnsetType = msgspec.UNSET
    endpoint_output: _CapturedOutput | msgspec.UnsetType = msgspec.UNSET


class _EventMetadata(msgspec.Struct, rename="camel", gc=False):
    inference_time: datetime  # RFC 3339; SageMaker writes UTC with a Z


class _CaptureLine(msgspec.Struct, rename="camel", gc=False):
    event_metadata: _EventMetadata
    capture_data: _CaptureData = msgspec.field(default_factory=_CaptureData)


class _Person(msgspec.Struct, gc=False):
    """One entry of `people`, only counted: its keypoints, landmarks, score and box are skipped."""


class _Model(msgspec.Struct, gc=False):
    """The answer's `model`, only its name: family and version are skipped."""

    name: Any = None


class _ResponseBody(msgspec.Struct, gc=False):
    """Our server's answer, its six keys monitoring reads; image, landmarks, ... are skipped.

    Typed Any, so an odd value is judged by read_response rather than refusing the whole body; all but
    `people`, typed so that msgspec skips each person instead of building dicts of their 50 points,
    and `model`, whose family and version are skipped likewise.
    """

    error: Any = msgspec.UNSET  # present at all, even null: an error response
    timing: Any = None
    person_detected: Any = None
    keypoints: Any = None
    people: list[_Person] | msgspec.UnsetType = msgspec.UNSET  # absent from older servers' answers
    model: _Model | None = None


class _LooseResponseBody(_ResponseBody):
    """The same keys, `people` and `model` as any JSON: read only when one of them has another shape."""

    people: Any = msgspec.UNSET
    model: Any = None


_LINE_DECODER = msgspec.json.Decoder(_CaptureLine)
_RESPONSE_DECODER = msgspec.json.Decoder(_ResponseBody)
_LOOSE_RESPONSE_DECODER = msgspec.json.Decoder(_LooseResponseBody)


def read_record(line: bytes) -> Record:
    """Decode one capture line; raises UnreadableRecord for a line that cannot be used."""
    try:
        captured = _LINE_DECODER.decode(line)
    except msgspec.ValidationError as error:  # JSON, but not shaped like a capture record
        raise UnreadableRecord(f"not a capture record: {error}") from error
    except msgspec.DecodeError as error:  # truncated, or not JSON at all
        raise UnreadableRecord(f"not JSON: {error}") from error
    moment = captured.event_metadata.inference_time
    request, output = captured.capture_data.endpoint_input, captured.capture_data.endpoint_output
    return Record(
        inference_time=moment if moment.tzinfo else moment.replace(tzinfo=UTC),
        request_bytes=None if request is msgspec.UNSET else _request_bytes(request),
        response=None if output is msgspec.UNSET else read_response(_response_text(output)),
    )


def _request_bytes(request: _CapturedInput) -> int:
    """The decoded size of the request body, from its quoted JSON text."""
    quoted = memoryview(request.data)
    if quoted[0] != _QUOTE:
        raise UnreadableRecord("endpointInput.data is not a string")
    if request.encoding == BASE64:
        # Base64 needs no JSON escapes: 4 characters carry 3 bytes, each trailing "=" one byte fewer.
        padding = quoted[-3:-1].tobytes().count(b"=")
        return (len(quoted) - 2) * 3 // 4 - padding
    return len(msgspec.json.decode(quoted, type=str).encode("utf-8"))  # JSON and CSV: text, unescaped


def _response_text(output: _CapturedOutput) -> str:
    if output.encoding != BASE64:
        return output.data  # JSON and CSV bodies are captured as text
    try:
        return base64.b64decode(output.data, validate=True).decode("utf-8", "replace")
    except ValueError as error:  # binascii.Error, or a non-ASCII character
        raise UnreadableRecord("endpointOutput.data is not valid base64") from error


def read_response(body: str | bytes) -> Response:
    """Classify one response body of our server and take the fields the checks need."""
    try:
        answer = _decode_response(body)
    except (msgspec.DecodeError, UnicodeEncodeError):  # not JSON, JSON but not an object, a lone surrogate
        return Response(Outcome.NOT_JSON)
    model = _model_name(answer.model)
    if answer.error is not msgspec.UNSET:
        return Response(Outcome.ERROR_RESPONSE, model=model)
    latency = _number(answer.timing.get("inference_ms")) if type(answer.timing) is dict else None
    if latency is None or latency < 0:
        return Response(Outcome.NO_TIMING, model=model)
    keypoints = answer.keypoints if type(answer.keypoints) is list else ()
    scores = [
        score
        for point in keypoints
        if type(point) is dict and (score := _number(point.get("score"))) is not None
    ]
    person = answer.person_detected
    return Response(
        Outcome.PREDICTION,
        inference_ms=latency,
        person_detected=person if type(person) is bool else None,
        keypoint_score=sum(scores) / len(scores) if scores else None,
        people=_people(answer.people),
        model=model,
    )


def _decode_response(body: str | bytes) -> _ResponseBody:
    """The typed reading; a `people` of another shape (the only typed key) is read again as any JSON."""
    try:
        return _RESPONSE_DECODER.decode(body)
    except msgspec.ValidationError:
        return _LOOSE_RESPONSE_DECODER.decode(body)


def _people(people: object) -> int | None:
    """How many people `people` lists; None to fall back to person_detected, as for an older server.

    Judged as the web page judges it: entries that are not objects are not people and are not
    counted; a `people` that is not a list (null, an object, ...), or lists no object, says nothing,
    so person_detected decides (0 or 1). Either way the response stays a prediction and its latency
    counts: a malformed `people` is not a malformed record.
    """
    if type(people) is not list:
        return None
    return sum(1 for person in people if type(person) in (_Person, dict)) or None


def _model_name(model: object) -> str | None:
    """model.name when it is a name (a non-empty string of at most MAX_MODEL_NAME characters), else None."""
    name = model.name if type(model) is _Model else model.get("name") if type(model) is dict else None
    return name if type(name) is str and 0 < len(name) <= MAX_MODEL_NAME else None


def _number(value: object) -> float | None:
    """A JSON number as a float; None for anything else: a bool, a string, an integer past a float's range.

    msgspec refuses NaN, infinity and floats out of range, so every float it decodes is finite.
    """
    if type(value) is float:
        return value
    if type(value) is int and -_LARGEST_FLOAT <= value <= _LARGEST_FLOAT:
        return float(value)
    return None
