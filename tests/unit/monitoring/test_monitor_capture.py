"""The capture format both ways: what we write is SageMaker's line byte for byte, and what we read from it."""

import base64
import json
import math
import re
import sys
from pathlib import Path

import pytest

from monitoring.capture import (
    CaptureContentTypes,
    Invocation,
    Outcome,
    Record,
    Response,
    UnreadableRecord,
    capture_line,
    capture_path,
    read_record,
    read_response,
)
from tests.unit.monitoring.monitor_samples import at, invocation, jpeg, prediction

RESPONSE = (
    b'{"person_detected":true,"keypoints":[{"name":"nose","x":1.0,"y":2.0,"score":0.75}],'
    b'"timing":{"decode_ms":1.2,"inference_ms":18.5,"total_ms":20.1}}'
)
# The capture format (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html),
# written out by hand: SageMaker's key order, compact, eventVersion at the top level.
RAW_LINE = (
    '{"captureData":{"endpointInput":{"observedContentType":"image/jpeg","mode":"INPUT","data":"/9j/4AAQ",'
    '"encoding":"BASE64"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT",'
    '"data":"{\\"person_detected\\":true,\\"keypoints\\":[{\\"name\\":\\"nose\\",\\"x\\":1.0,\\"y\\":2.0,'
    '\\"score\\":0.75}],\\"timing\\":{\\"decode_ms\\":1.2,\\"inference_ms\\":18.5,\\"total_ms\\":20.1}}",'
    '"encoding":"JSON"}},"eventMetadata":{"eventId":"b7c3f1e2-0d5a-4c1e-9f7a-2a1d9c3e5b71",'
    '"inferenceId":"request-1","inferenceTime":"2026-11-22T18:25:49Z"},"eventVersion":"0"}\n'
)
RAW_RECORD = Record(
    inference_time=at(18, 25, 49),
    request_bytes=6,
    response=Response(Outcome.PREDICTION, inference_ms=18.5, person_detected=True, keypoint_score=0.75),
)


def test_capture_line_is_sagemakers_format_byte_for_byte():
    written = capture_line(
        Invocation(
            request_body=b"\xff\xd8\xff\xe0\x00\x10",
            request_type="image/jpeg",
            response_body=RESPONSE,
            response_type="application/json",
            inference_time=at(18, 25, 49),
            event_id="b7c3f1e2-0d5a-4c1e-9f7a-2a1d9c3e5b71",
            inference_id="request-1",
        )
    )
    assert written == RAW_LINE


def test_hand_written_sagemaker_line_reads_back():
    assert read_record(RAW_LINE.encode()) == RAW_RECORD


def test_capture_path_is_sagemakers_layout():
    path = capture_path(Path("/data"), "pose", "AllTraffic", at(18, 5, 7).replace(microsecond=42_000), "abc")
    assert path == Path("/data/pose/AllTraffic/2026/11/22/18/05-07-042-abc.jsonl")


def test_content_types_choose_the_encoding_like_capture_content_type_header():
    types = CaptureContentTypes(json_types=("application/json",), csv_types=("text/csv",))
    encodings = [
        types.encoding(kind) for kind in ("application/json; charset=utf-8", "text/csv", "image/jpeg")
    ]
    assert encodings == ["JSON", "CSV", "BASE64"]


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 1000, 40_001])
def test_request_size_comes_from_the_base64_length_for_every_padding(size):
    record = read_record(capture_line(invocation(at(18), prediction(20.0), request=bytes(size))).encode())
    assert record.request_bytes == size


def test_a_real_jpeg_request_is_measured_exactly():
    record = read_record(capture_line(invocation(at(18), prediction(20.0))).encode())
    assert record.request_bytes == len(jpeg())


def test_json_request_with_escapes_is_measured_after_unescaping():
    body = '{"image": "a\\"b", "note": "café"}'.encode()
    record = read_record(
        capture_line(
            invocation(at(18), prediction(20.0), request=body, request_type="application/json")
        ).encode()
    )
    assert record.request_bytes == len(body)


def test_csv_request_is_measured_as_text():
    record = read_record(
        capture_line(
            invocation(at(18), prediction(20.0), request=b"1,2,3\n4,5,6", request_type="text/csv")
        ).encode()
    )
    assert record.request_bytes == 11


def test_base64_output_whose_bytes_are_json_is_a_prediction():
    types = CaptureContentTypes(json_types=())  # application/json not listed: captured as base64
    line = capture_line(invocation(at(18), prediction(31.5)), types)
    assert json.loads(line)["captureData"]["endpointOutput"]["encoding"] == "BASE64"
    assert read_record(line.encode()).response == Response(
        Outcome.PREDICTION, 31.5, True, 0.75, model="blazepose-full"
    )


@pytest.mark.parametrize(
    ("body", "content_type", "outcome"),
    [
        (b"<html><body>502 Bad Gateway</body></html>", "text/html", Outcome.NOT_JSON),
        (b"person,score\n1,0.9\n", "text/csv", Outcome.NOT_JSON),
        (b'{"error": "the body is not a JPEG or PNG image"}', "application/json", Outcome.ERROR_RESPONSE),
        (b'{"person_detected": true, "keypoints": []}', "application/json", Outcome.NO_TIMING),
        (b'{"timing": {"inference_ms": "fast"}}', "application/json", Outcome.NO_TIMING),
        (b"[1, 2, 3]", "application/json", Outcome.NOT_JSON),
        (b'{"timing": {"inference_ms": 5', "application/json", Outcome.NOT_JSON),
        (
            b'{"person_detected":true,"keypoints":[],"timing":{"inference_ms":1.2.3}}',
            "application/json",
            Outcome.NOT_JSON,
        ),
    ],
)
def test_responses_that_are_not_predictions_are_classified(body, content_type, outcome):
    record = read_record(capture_line(invocation(at(18), body, response_type=content_type)).encode())
    assert record.response == Response(outcome)


def test_keys_in_another_order_and_pretty_printed_json_read_the_same():
    record = json.loads(RAW_LINE)
    reordered = {
        "eventVersion": "0",
        "eventMetadata": record["eventMetadata"],
        "captureData": {
            "endpointOutput": record["captureData"]["endpointOutput"],
            "endpointInput": dict(reversed(record["captureData"]["endpointInput"].items())),
        },
    }
    assert read_record(json.dumps(reordered, indent=2).replace("\n", " ").encode()) == RAW_RECORD
    assert read_record(json.dumps(record, separators=(", ", ": ")).encode()) == RAW_RECORD


def test_output_only_and_input_only_capture_modes():
    record = json.loads(RAW_LINE)
    output_only = {**record, "captureData": {"endpointOutput": record["captureData"]["endpointOutput"]}}
    input_only = {**record, "captureData": {"endpointInput": record["captureData"]["endpointInput"]}}
    assert read_record(json.dumps(output_only).encode()).request_bytes is None
    assert read_record(json.dumps(input_only).encode()) == Record(at(18, 25, 49), 6, None)


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (RAW_LINE[:40], "not JSON: Input data was truncated"),  # cut inside the photo
        (RAW_LINE[: RAW_LINE.index('"inferenceTime"')], "not JSON: Input data was truncated"),
        ("not json at all", "not JSON: JSON is malformed"),
        (RAW_LINE.strip() + " and more", "not JSON: JSON is malformed: trailing characters"),
        ("[1]", "not a capture record: Expected `object`, got `array`"),
        (RAW_LINE.replace('"2026-11-22T18:25:49Z"', '"yesterday"'), "Invalid RFC3339 encoded datetime"),
        (
            RAW_LINE.replace('"inferenceTime":"2026-11-22T18:25:49Z"', '"x":1'),
            "missing required field `inferenceTime`",
        ),
        (
            RAW_LINE.replace('"encoding":"JSON"', '"encoding":"ZIP"'),
            "'ZIP' - at `$.captureData.endpointOutput",
        ),
        (
            RAW_LINE.replace('"encoding":"BASE64"', '"encoding":"ZIP"'),
            "'ZIP' - at `$.captureData.endpointInput",
        ),
        (RAW_LINE.replace('"data":"/9j/4AAQ"', '"data":null'), "endpointInput.data is not a string"),
        (
            RAW_LINE.replace('"data":"/9j/4AAQ"', '"payload":"/9j/4AAQ"'),
            "missing required field `data` - at `$.captureData.endpointInput`",
        ),
        (
            RAW_LINE.replace('"endpointInput":{', '"endpointInput":null,"x":{'),
            "got `null` - at `$.captureData",
        ),
    ],
)
def test_unusable_lines_raise_with_the_reason(line, reason):
    with pytest.raises(UnreadableRecord, match=re.escape(reason)):
        read_record(line.encode())


def test_invalid_base64_output_is_unreadable():
    record = json.loads(RAW_LINE)
    record["captureData"]["endpointOutput"].update(encoding="BASE64", data="not base64!")
    with pytest.raises(UnreadableRecord, match="not valid base64"):
        read_record(json.dumps(record).encode())


def plain_reading(body: str) -> Response:
    """The obvious reading, json.loads then every field checked: what read_response must agree with.

    Strict JSON, as msgspec reads it: NaN and Infinity are not JSON, nor a number past a float's range.
    """

    def not_json(constant: str) -> None:
        raise ValueError(f"{constant} is not JSON")

    def finite(text: str) -> float:
        if math.isinf(value := float(text)):
            raise ValueError(f"{text} is past a float's range")
        return value

    def number(value: object) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > sys.float_info.max:
            return None
        return float(value)

    try:
        document = json.loads(body, parse_constant=not_json, parse_float=finite)
    except ValueError:
        return Response(Outcome.NOT_JSON)
    if not isinstance(document, dict):
        return Response(Outcome.NOT_JSON)
    model = document.get("model")
    name = model.get("name") if isinstance(model, dict) else None
    name = name if isinstance(name, str) and 0 < len(name) <= 100 else None
    if "error" in document:
        return Response(Outcome.ERROR_RESPONSE, model=name)
    timing = document.get("timing")
    latency = number(timing.get("inference_ms")) if isinstance(timing, dict) else None
    if latency is None or latency < 0:
        return Response(Outcome.NO_TIMING, model=name)
    keypoints = document.get("keypoints")
    points = keypoints if isinstance(keypoints, list) else []
    scores = [number(point.get("score")) for point in points if isinstance(point, dict)]
    scores = [score for score in scores if score is not None]
    person = document.get("person_detected")
    people = document.get("people")
    return Response(
        Outcome.PREDICTION,
        inference_ms=latency,
        person_detected=person if isinstance(person, bool) else None,
        keypoint_score=sum(scores) / len(scores) if scores else None,
        people=(
            (sum(isinstance(entry, dict) for entry in people) or None) if isinstance(people, list) else None
        ),
        model=name,
    )


RESPONSE_CASES = [
    prediction(18.5),
    prediction(18.5, person=False, score=0.05, landmarks=False),
    {**prediction(2.5e-3), "keypoints": []},
    {**prediction(7.0), "model": {"name": 'blazé "timing": {"inference_ms": 9} \\ [x]'}},
    {"person_detected": True, "keypoints": [{"name": "nose", "score": 1}], "timing": {"inference_ms": 7}},
    {
        **prediction(7.0),
        "note": 'fake keys in a string: "error": "x", "timing": {"inference_ms": 9}, "keypoints": [',
    },
    prediction(18.5, people=1),
    prediction(18.5, people=3, landmarks=False),  # MoveNet: no landmarks
    prediction(18.5, person=False, people=0),
    {**prediction(7.0, people=2), "note": 'a string that looks like people: "people": [{}, {}, {}]'},
]
# Shapes our server never writes: each field is judged on its own, none refuses the whole body.
ODD_CASES = [
    {**prediction(7.0), "keypoints": [{"score": "high"}, {"score": True}, 3, None, [0.5], {"score": 0.5}]},
    {**prediction(7.0), "keypoints": {"nose": {"score": 0.5}}},
    {**prediction(7.0), "person_detected": "yes"},
    {**prediction(7.0), "timing": {"inference_ms": 12}},  # an integer is a number
    {**prediction(7.0), "timing": {"inference_ms": True}},
    {**prediction(7.0), "timing": {"inference_ms": -3.0}},
    {**prediction(7.0), "timing": {"inference_ms": 10**400}},  # past a float's range
    {**prediction(7.0), "timing": [12.0]},
    {**prediction(7.0), "error": None},  # the key alone makes an error response
    {**prediction(7.0), "people": None},
    {**prediction(7.0), "people": {"0": {"score": 0.9}}},
    {**prediction(7.0), "people": "two"},
    {**prediction(7.0), "people": [1, None, "x", [], {"score": 0.9}, {}]},
    {**prediction(7.0, person=False), "people": [[{"score": 0.9}]]},
    {"timing": {"inference_ms": 12.0}},
    {},
    {**prediction(7.0), "model": "blazepose-lite"},  # not an object: no model named
    {**prediction(7.0), "model": {"family": "movenet"}},
    {**prediction(7.0), "model": {"name": 7}},
    {**prediction(7.0), "model": {"name": ""}},
    {**prediction(7.0), "model": {"name": "x" * 101}},  # too long for a name
    {**prediction(7.0), "model": {"name": "x" * 100}},
    {**prediction(7.0), "model": None},
    {"error": "unknown model 'x'", "model": {"name": "movenet-lightning"}},
    {**prediction(7.0), "model": {"name": "blazepose-lite"}, "people": "two"},  # the loose reading
]


@pytest.mark.parametrize("document", RESPONSE_CASES + ODD_CASES)
@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_reading_a_response_agrees_with_the_plain_json_reading(document, separators):
    text = json.dumps(document, separators=separators)
    assert read_response(text) == read_response(text.encode()) == plain_reading(text)


@pytest.mark.parametrize("document", RESPONSE_CASES)
def test_our_servers_responses_are_predictions(document):
    assert read_response(json.dumps(document)).outcome is Outcome.PREDICTION


@pytest.mark.parametrize("document", RESPONSE_CASES + ODD_CASES)
@pytest.mark.parametrize(
    "content_types",
    [
        CaptureContentTypes(),  # JSON: escaped inside the line
        CaptureContentTypes(json_types=()),  # BASE64
        CaptureContentTypes(json_types=(), csv_types=("application/json",)),  # CSV: also escaped text
    ],
)
def test_a_captured_response_reads_as_its_plain_json_reading(document, content_types):
    body = json.dumps(document, ensure_ascii=False).encode()
    line = capture_line(invocation(at(18), body), content_types)
    assert read_record(line.encode()).response == plain_reading(body.decode())


@pytest.mark.parametrize(
    "body",
    [
        '{"timing": {"inference_ms": NaN}}',  # Python's json.dumps writes these; JSON has no such values
        '{"timing": {"inference_ms": 5.0}, "keypoints": [{"score": Infinity}]}',
        '{"timing": {"inference_ms": 1e400}}',
    ],
)
def test_numbers_json_cannot_hold_make_a_body_not_json(body):
    assert read_response(body) == plain_reading(body) == Response(Outcome.NOT_JSON)


@pytest.mark.parametrize(
    ("people", "person", "counted"),
    [
        (None, True, 1),  # an older server's answer: at most one person, its person_detected
        (None, False, 0),
        (0, False, 0),
        (0, True, 1),  # an empty list cannot contradict person_detected
        (1, True, 1),
        (4, True, 4),
        (7, True, 7),
    ],
)
def test_people_in_a_photo_are_counted_from_the_people_list(people, person, counted):
    response = read_response(json.dumps(prediction(18.5, person=person, people=people)))
    assert (response.outcome, response.people_count) == (Outcome.PREDICTION, counted)


@pytest.mark.parametrize(
    ("people", "counted"),
    [
        (None, 1),  # null, a dict or a string say nothing: person_detected (true here) stands
        ({"0": {"score": 0.9}}, 1),
        ("two", 1),
        ([1, None, "x", [], {"score": 0.9}, {}], 2),  # only objects are people
        ([[{"score": 0.9}]], 1),  # no object at all: person_detected decides
        ([], 1),  # empty, though a person was detected: person_detected decides
    ],
)
def test_a_malformed_people_keeps_the_prediction_and_counts_what_it_can(people, counted):
    response = read_response(json.dumps({**prediction(18.5), "people": people}))
    assert (response.outcome, response.inference_ms, response.people_count) == (
        Outcome.PREDICTION,
        18.5,
        counted,
    )


def test_errors_and_bodies_that_are_not_json_count_no_people():
    assert read_response('{"error": "x", "people": [{}]}').people_count is None
    assert read_response('{"timing": {"inference_ms": 5}, "people": [{}, ').people_count is None


def test_a_negative_latency_is_no_timing():
    assert read_response(json.dumps({**prediction(1.0), "timing": {"inference_ms": -3.0}})) == Response(
        Outcome.NO_TIMING, model="blazepose-full"
    )


@pytest.mark.parametrize(
    ("body", "model"),
    [
        (prediction(5.0), "blazepose-full"),
        (
            {**prediction(5.0), "model": {"name": "movenet-lightning", "family": "movenet"}},
            "movenet-lightning",
        ),
        ({"error": "unknown model", "model": {"name": "blazepose-lite"}}, "blazepose-lite"),
        ({**prediction(5.0), "model": "blazepose-lite"}, None),
        ({k: v for k, v in prediction(5.0).items() if k != "model"}, None),
    ],
)
def test_the_model_that_answered_is_read_from_model_name(body, model):
    assert read_response(json.dumps(body)).model == model


def test_base64_input_is_never_decoded(monkeypatch):
    """The photo is measured, not decoded: b64decode only ever sees the (small) output."""
    seen = []
    original = base64.b64decode
    monkeypatch.setattr(
        base64, "b64decode", lambda data, **kw: seen.append(len(data)) or original(data, **kw)
    )
    line = capture_line(invocation(at(18), prediction(20.0), request=bytes(30_000)), CaptureContentTypes(()))
    read_record(line.encode())
    assert seen and max(seen) < 10_000
