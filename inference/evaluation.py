"""Scoring pose predictions against COCO keypoint annotations: the one definition of accuracy that
the accuracy benchmark reports and the tests hold as floors.

PCK@0.2 (torso): a keypoint is correct when within 0.2 x the person's torso size of the truth
(left shoulder to right hip, else right shoulder to left hip; a person with neither is left out).
PCK@0.2 (bbox): the same within 0.2 x the person's bbox diagonal. A prediction is scored against
the annotated person it fits best; a photo where no person was found counts every labelled
keypoint of its most-labelled person as missed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from inference.keypoints import COCO_KEYPOINTS
from inference.manifest import LANDMARKS, ModelManifest
from inference.predictor import Predictor

NEAR = 0.2
LEFT_SHOULDER, RIGHT_SHOULDER = COCO_KEYPOINTS.index("left_shoulder"), COCO_KEYPOINTS.index("right_shoulder")
LEFT_HIP, RIGHT_HIP = COCO_KEYPOINTS.index("left_hip"), COCO_KEYPOINTS.index("right_hip")


class AnnotatedPerson(Protocol):
    keypoints: np.ndarray  # (17, 3): x, y, v (v == 0: not labelled)
    bbox: tuple[float, float, float, float]  # x, y, w, h


@dataclass(frozen=True)
class GroundTruthPerson:
    keypoints: np.ndarray  # (17, 3): x, y, v (v == 0: not labelled)
    bbox: tuple[float, float, float, float]  # x, y, w, h

    @property
    def diagonal(self) -> float:
        return bbox_diagonal(self)


@dataclass(frozen=True)
class EvalPhoto:
    path: Path
    people: tuple[GroundTruthPerson, ...]

    @property
    def data(self) -> bytes:
        return self.path.read_bytes()


@dataclass(frozen=True)
class PhotoScore:
    """One photo's labelled keypoints and which of them each metric counts as correct."""

    name: str
    person_found: bool
    labelled: np.ndarray  # (17,) bool
    torso_scored: np.ndarray  # (17,) bool: labelled, and the person has a torso size
    torso_hits: np.ndarray  # (17,) bool
    bbox_hits: np.ndarray  # (17,) bool


def torso_size(person: AnnotatedPerson) -> float | None:
    """Left shoulder to right hip, else right shoulder to left hip; None when neither is labelled."""
    for shoulder, hip in ((LEFT_SHOULDER, RIGHT_HIP), (RIGHT_SHOULDER, LEFT_HIP)):
        if person.keypoints[shoulder, 2] > 0 and person.keypoints[hip, 2] > 0:
            return float(np.linalg.norm(person.keypoints[shoulder, :2] - person.keypoints[hip, :2]))
    return None


def bbox_diagonal(person: AnnotatedPerson) -> float:
    return float(np.hypot(person.bbox[2], person.bbox[3]))


def best_fitting(predicted: np.ndarray, people: Sequence[AnnotatedPerson]) -> AnnotatedPerson:
    """The person whose labelled keypoints are nearest the prediction, relative to their size."""

    def mean_error(person: AnnotatedPerson) -> float:
        labelled = person.keypoints[:, 2] > 0
        distance = np.linalg.norm(predicted[labelled] - person.keypoints[labelled, :2], axis=1)
        return float(distance.mean()) / bbox_diagonal(person)

    return min(people, key=mean_error)


def most_labelled(people: Sequence[AnnotatedPerson]) -> AnnotatedPerson:
    """The person a photo's misses are counted against when no person was found."""
    return max(people, key=lambda p: (int(np.count_nonzero(p.keypoints[:, 2] > 0)), p.bbox[2] * p.bbox[3]))


def score_photo(name: str, predicted: np.ndarray | None, people: Sequence[AnnotatedPerson]) -> PhotoScore:
    """`predicted`: (17, 2) COCO keypoints in pixels, or None when no person was found."""
    people = [person for person in people if np.any(person.keypoints[:, 2] > 0)]
    person = most_labelled(people) if predicted is None else best_fitting(predicted, people)
    labelled = person.keypoints[:, 2] > 0
    torso = torso_size(person)
    torso_scored = labelled & (torso is not None)
    if predicted is None:
        misses = np.zeros(len(labelled), dtype=bool)
        return PhotoScore(name, False, labelled, torso_scored, misses, misses)
    distance = np.linalg.norm(predicted - person.keypoints[:, :2], axis=1)
    torso_hits = torso_scored & (distance <= NEAR * (torso or 0.0))
    bbox_hits = labelled & (distance <= NEAR * bbox_diagonal(person))
    return PhotoScore(name, True, labelled, torso_scored, torso_hits, bbox_hits)


@dataclass(frozen=True)
class Summary:
    torso_pck: float
    bbox_pck: float
    per_keypoint: dict[str, float | None]  # torso PCK per COCO keypoint; None when never labelled
    no_person: tuple[str, ...]


def summarize(scores: Sequence[PhotoScore]) -> Summary:
    torso_scored = np.sum([s.torso_scored for s in scores], axis=0)
    torso_hits = np.sum([s.torso_hits for s in scores], axis=0)
    labelled = np.sum([s.labelled for s in scores], axis=0)
    bbox_hits = np.sum([s.bbox_hits for s in scores], axis=0)
    per_keypoint = {
        name: (float(hits / count) if count else None)
        for name, hits, count in zip(COCO_KEYPOINTS, torso_hits, torso_scored, strict=True)
    }
    return Summary(
        torso_pck=float(torso_hits.sum() / torso_scored.sum()),
        bbox_pck=float(bbox_hits.sum() / labelled.sum()),
        per_keypoint=per_keypoint,
        no_person=tuple(s.name for s in scores if not s.person_found),
    )


def response_keypoints(response: dict) -> np.ndarray | None:
    """The response's 17 COCO keypoints as (17, 2), or None when it reports no person's keypoints."""
    if not response["keypoints"]:
        return None
    return np.array([[keypoint["x"], keypoint["y"]] for keypoint in response["keypoints"]])


def evaluate(predictor: Predictor, photos: Sequence[EvalPhoto]) -> list[PhotoScore]:
    scores = []
    for photo in photos:
        response = predictor.predict(photo.path.read_bytes(), "image/jpeg")
        predicted = response_keypoints(response) if response["person_detected"] else None
        scores.append(score_photo(photo.path.name, predicted, photo.people))
    return scores


def load_eval_set(eval_dir: Path) -> list[EvalPhoto]:
    """Photos with at least one annotated person that has labelled keypoints."""
    annotations = json.loads((eval_dir / "annotations.json").read_text())
    people: dict[int, list[GroundTruthPerson]] = {}
    for note in annotations["annotations"]:
        if note.get("num_keypoints", 0) > 0:
            keypoints = np.asarray(note["keypoints"], dtype=float).reshape(17, 3)
            people.setdefault(note["image_id"], []).append(GroundTruthPerson(keypoints, tuple(note["bbox"])))
    return [
        EvalPhoto(eval_dir / image["file_name"], tuple(people[image["id"]]))
        for image in annotations["images"]
        if image["id"] in people
    ]


def single_stage_dir(blazepose_dir: Path, scratch: Path) -> Path:
    """The same landmark weights without the detector: what the pipeline runs for a bare .tflite."""
    manifest = ModelManifest.read(blazepose_dir)
    landmarks = manifest.files[LANDMARKS]
    (scratch / landmarks).symlink_to(blazepose_dir / landmarks)
    document = json.loads((blazepose_dir / "model.json").read_text())
    document["files"] = {LANDMARKS: landmarks}
    document["sha256"] = {landmarks: manifest.sha256[landmarks]}
    (scratch / "model.json").write_text(json.dumps(document))
    return scratch
