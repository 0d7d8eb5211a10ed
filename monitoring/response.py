"""What one captured response of our inference server says: a prediction (with its latency) or an error.

A BlazePose response is ~5 KB of JSON, 33 landmarks included; decoding it (twice: a capture line
holds it as an escaped JSON string) costs more than reading the 55 KB line around it. A well-formed
prediction is therefore skimmed for the four fields monitoring needs, even while still escaped;
anything unusual (an error, a missing field) gets the full, careful parse. Both readings agree on
every well-formed response (tests/unit/monitoring pins it).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from enum import StrEnum


class Outcome(StrEnum):
    PREDICTION = "prediction"
    ERROR_RESPONSE = "error_response"  # {"error": "..."}: the server refused or failed the request
    NO_TIMING = "no_timing"  # JSON without a usable timing.inference_ms
    NOT_JSON = "not_json"  # not a JSON object at all: CSV, an HTML error page, a cut-off body


@dataclass(frozen=True, slots=True)
class Response:
    outcome: Outcome
    inference_ms: float | None = None
    person_detected: bool | None = None
    keypoint_score: float | None = None  # mean of keypoints[*].score: falls when the model degrades

    @property
    def is_error(self) -> bool:
        return self.outcome is not Outcome.PREDICTION


@dataclass(frozen=True)
class _Spelling:
    """How the keys read: in plain JSON, or escaped inside a capture line's JSON string (\\"key\\")."""

    error: str
    timing: str
    keypoints: str
    inference_ms: re.Pattern
    score: re.Pattern
    person: re.Pattern


def _spelling(quote: str) -> _Spelling:
    q = re.escape(quote)
    # A non-negative number's characters; float() checks the rest. A negative latency takes the careful path.
    number = r"\s*:\s*([0-9][0-9.eE+-]*)"
    return _Spelling(
        error=f"{quote}error{quote}",
        timing=f"{quote}timing{quote}",
        keypoints=f"{quote}keypoints{quote}",
        inference_ms=re.compile(f"{q}inference_ms{q}{number}"),
        score=re.compile(f"{q}score{q}{number}"),
        person=re.compile(rf"{q}person_detected{q}\s*:\s*(true|false)"),
    )


PLAIN = _spelling('"')
ESCAPED = _spelling('\\"')


def read_response(body: str, escaped: bool = False) -> Response:
    """`escaped`: body is still the content of a JSON string, every quote written \\" (JSON inside JSON).

    Raises json.JSONDecodeError when an escaped body is not a valid JSON string's content.
    """
    spelling = ESCAPED if escaped else PLAIN
    text = body.strip()
    if text.startswith("{") and text.endswith("}") and spelling.error not in text:
        skimmed = _skim_prediction(text, spelling)
        if skimmed is not None:
            return skimmed
    return parse_response(json.loads(f'"{body}"') if escaped else body)


def parse_response(body: str) -> Response:
    """The careful reading: json.loads, then every field checked."""
    try:
        document = json.loads(body)
    except ValueError:
        return Response(Outcome.NOT_JSON)
    if not isinstance(document, dict):
        return Response(Outcome.NOT_JSON)
    if "error" in document:
        return Response(Outcome.ERROR_RESPONSE)
    timing = document.get("timing")
    latency = timing.get("inference_ms") if isinstance(timing, dict) else None
    if not _is_number(latency) or latency < 0:
        return Response(Outcome.NO_TIMING)
    person = document.get("person_detected")
    keypoints = document.get("keypoints")
    scores = [
        point["score"]
        for point in (keypoints if isinstance(keypoints, list) else ())
        if isinstance(point, dict) and _is_number(point.get("score"))
    ]
    return Response(
        Outcome.PREDICTION,
        inference_ms=float(latency),
        person_detected=person if isinstance(person, bool) else None,
        keypoint_score=_mean(scores),
    )


def _skim_prediction(text: str, spelling: _Spelling) -> Response | None:
    """The four fields of a well-formed prediction by position, or None to take the careful path.

    Safe because a quote inside a JSON string is always escaped, so a quoted key followed by a colon
    is a real key; `timing` and `keypoints` hold flat objects, so the first `}` / `]` closes them.
    """
    timing = text.rfind(spelling.timing)
    if timing < 0:
        return None
    latency = spelling.inference_ms.search(text, timing, text.find("}", timing))
    person = spelling.person.search(text)
    keypoints = text.find(spelling.keypoints)
    keypoints_end = text.find("]", keypoints)
    if latency is None or person is None or keypoints < 0 or keypoints_end < 0:
        return None
    try:
        inference_ms = float(latency.group(1))
        scores = [float(score) for score in spelling.score.findall(text, keypoints, keypoints_end)]
    except ValueError:
        return None
    return Response(
        Outcome.PREDICTION,
        inference_ms=inference_ms,
        person_detected=person.group(1) == "true",
        keypoint_score=_mean(scores),
    )


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None
