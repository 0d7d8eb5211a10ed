"""Capture data for the monitoring tests, built with the same writer the local stack uses."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

from PIL import Image

from monitoring.capture import Invocation, capture_line, capture_path

KEYPOINT_NAMES = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
                  "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
                  "right_knee", "left_ankle", "right_ankle")  # fmt: skip


@cache
def jpeg() -> bytes:
    """A real (small) JPEG, so captured inputs are what a client would send."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 90, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, 11, 22, hour, minute, second, tzinfo=UTC)


def prediction(
    inference_ms: float,
    person: bool = True,
    score: float = 0.75,
    landmarks: bool = True,
    people: int | None = None,
) -> dict:
    """A response shaped like our server's (BlazePose: 17 keypoints plus 33 landmarks).

    `people`: how many entries the response's `people` list holds; None leaves it out, as older servers did.
    """
    document = {
        "model": {"name": "blazepose-full", "family": "blazepose", "version": "mediapipe-0.10.14"},
        "image": {"width": 640, "height": 425},
        "person_detected": person,
        "score": 1.0 if person else 0.1,
        "keypoints": [{"name": name, "x": 361.09, "y": 86.74, "score": score} for name in KEYPOINT_NAMES],
    }
    if landmarks:
        document["landmarks"] = [
            {"name": f"landmark_{index}", "x": 1.5, "y": 2.5, "z": -0.1, "visibility": 0.9, "score": 0.5}
            for index in range(33)
        ]
    if people is not None:
        document["people"] = [person_entry(rank, score, landmarks) for rank in range(people)]
    document["timing"] = {"decode_ms": 1.2, "inference_ms": inference_ms, "total_ms": inference_ms + 1.6}
    return document


def person_entry(rank: int, score: float = 0.75, landmarks: bool = True) -> dict:
    """One entry of `people`: the rank-th best person, with its box, keypoints and (BlazePose) landmarks."""
    entry = {
        "score": round(0.97 - 0.1 * rank, 2),
        "box": {"x": 12.5 + 100 * rank, "y": 30.0, "width": 90.0, "height": 300.0},
        "keypoints": [
            {"name": name, "x": 50.0 + 100 * rank, "y": 86.74, "score": score} for name in KEYPOINT_NAMES
        ],
    }
    if landmarks:
        entry["landmarks"] = [
            {"name": f"landmark_{index}", "x": 1.5, "y": 2.5, "z": -0.1, "visibility": 0.9, "score": 0.5}
            for index in range(33)
        ]
    return entry


def invocation(
    moment: datetime,
    response: dict | bytes,
    response_type: str = "application/json",
    request: bytes | None = None,
    request_type: str = "image/jpeg",
) -> Invocation:
    body = response if isinstance(response, bytes) else json.dumps(response).encode()
    return Invocation(
        request_body=jpeg() if request is None else request,
        request_type=request_type,
        response_body=body,
        response_type=response_type,
        inference_time=moment,
        event_id=f"event-{moment:%H%M%S}",
    )


def write_capture(root: Path, variant: str, lines: list[str], endpoint: str = "pose-endpoint") -> Path:
    """One capture file in SageMaker's layout, in the hour folder of the file's first record."""
    first = json.loads(lines[0])["eventMetadata"]["inferenceTime"] if lines[0].startswith("{") else ""
    opened = datetime.fromisoformat(first) if first else at(0)
    path = capture_path(root, endpoint, variant, opened, file_id=f"{variant}-{len(lines)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as capture_file:
        capture_file.write("".join(lines))
    return path


def line(moment: datetime, inference_ms: float, **options) -> str:
    return capture_line(invocation(moment, prediction(inference_ms, **options)))
