"""The result every pipeline returns, and the TFLite plumbing they share."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import ModelError


@dataclass(frozen=True)
class Keypoint:
    name: str
    x: float  # original-image pixels
    y: float
    score: float  # 0..1


@dataclass(frozen=True)
class Box:
    """A person's extent in original-image pixels."""

    x: float
    y: float
    width: float
    height: float

    @property
    def area(self) -> float:
        return self.width * self.height

    @classmethod
    def around(cls, points: tuple[Keypoint, ...]) -> Box:
        x = [point.x for point in points]
        y = [point.y for point in points]
        return cls(round(min(x), 2), round(min(y), 2), round(max(x) - min(x), 2), round(max(y) - min(y), 2))


@dataclass(frozen=True)
class Person:
    keypoints: tuple[Keypoint, ...]  # the 17 COCO keypoints, in COCO order
    landmarks: tuple[Keypoint, ...]  # the model's own full set (BlazePose: 33); empty for MoveNet
    score: float  # confidence that this is a person
    box: Box


@dataclass(frozen=True)
class Pose:
    """The best person at the top level (as the response has always had it), and everyone found."""

    keypoints: tuple[Keypoint, ...]  # the 17 COCO keypoints, in COCO order; BlazePose: empty if no person
    landmarks: tuple[Keypoint, ...]  # the model's own full set (BlazePose: 33); empty for MoveNet
    score: float  # confidence that a person is in the photo
    person_detected: bool
    people: tuple[Person, ...] = ()  # best first; empty when nobody was found

    @classmethod
    def of(cls, people: tuple[Person, ...]) -> Pose:
        """People best first (the first is the top level), or nobody."""
        if not people:
            return NO_PERSON
        best = people[0]
        return cls(best.keypoints, best.landmarks, best.score, True, people)


NO_PERSON = Pose(keypoints=(), landmarks=(), score=0.0, person_detected=False)


def keypoints_from(
    names: tuple[str, ...], x: np.ndarray, y: np.ndarray, score: np.ndarray, size: tuple[int, int]
) -> tuple[Keypoint, ...]:
    """Keypoints clipped to the image (letterbox padding can place them slightly outside)."""
    width, height = size
    x = np.clip(x, 0, width - 1)
    y = np.clip(y, 0, height - 1)
    return tuple(
        Keypoint(name, round(float(px), 2), round(float(py), 2), round(float(s), 4))
        for name, px, py, s in zip(names, x, y, score, strict=True)
    )


def load_interpreter(model_path: Path, threads: int):
    """A ready TFLite interpreter; `threads` is per interpreter (the server runs one per worker)."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(model_path), num_threads=threads)
        interpreter.allocate_tensors()
    except (ValueError, RuntimeError) as error:
        raise ModelError(f"cannot load the TFLite model ({error})", where=str(model_path)) from error
    return interpreter


def to_input_tensor(canvas: np.ndarray, detail: dict, value_range: tuple[float, float]) -> np.ndarray:
    """uint8 HWC pixels to the model's input dtype: as-is, float in `value_range`, or quantized."""
    dtype = detail["dtype"]
    if dtype == np.uint8 and not detail["quantization"][0]:
        return canvas[None]
    low, high = value_range
    values = canvas.astype(np.float32) * ((high - low) / 255.0) + low
    scale, zero_point = detail["quantization"]
    if scale:
        info = np.iinfo(dtype)
        values = np.clip(np.round(values / scale + zero_point), info.min, info.max)
    return values.astype(dtype)[None]


def sigmoid(values: np.ndarray) -> np.ndarray:
    """The logistic function, written with tanh so that large logits cannot overflow."""
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(values, dtype=np.float64)))
