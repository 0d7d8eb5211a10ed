"""Scoring pose predictions against COCO keypoint annotations: the one definition of accuracy that
the accuracy benchmark reports and the tests hold as floors.

PCK@0.2 (torso): a keypoint is correct when within 0.2 x the person's torso size of the truth
(left shoulder to right hip, else right shoulder to left hip; a person with neither is left out).
PCK@0.2 (bbox): the same within 0.2 x the person's bbox diagonal. A prediction is scored against
the annotated person it fits best; a photo where no person was found counts every labelled
keypoint of its most-labelled person as missed.

People found (recall): every person a response lists is matched to at most one annotated person,
and each annotated person to at most one found person. A pair fits when at least half of the
annotated person's labelled keypoints lie within 0.2 x that person's own bbox diagonal of the found
person's keypoints (PCK@0.2 on the person's own scale, so a small person far back is judged as
fairly as a large one); pairs are taken best fit first (equal fits: the smaller mean distance). Recall is matched / annotated over a set;
found people matching nobody are "extra" (a false person, or someone the annotators left out).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image, ImageDraw

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
    def name(self) -> str:
        return self.path.name

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


FITS = 0.5  # share of a person's labelled keypoints that must lie near for a found person to be them


def fit(predicted: np.ndarray, person: AnnotatedPerson) -> float:
    """The share of the person's labelled keypoints within NEAR x their bbox diagonal of `predicted` (17, 2)."""
    labelled = person.keypoints[:, 2] > 0
    if not labelled.any():
        return 0.0
    distance = np.linalg.norm(predicted[labelled] - person.keypoints[labelled, :2], axis=1)
    return float(np.mean(distance <= NEAR * bbox_diagonal(person)))


def _relative_error(predicted: np.ndarray, person: AnnotatedPerson) -> float:
    """Mean distance over the labelled keypoints in bbox diagonals: breaks ties between equal fits."""
    labelled = person.keypoints[:, 2] > 0
    distance = np.linalg.norm(predicted[labelled] - person.keypoints[labelled, :2], axis=1)
    return float(distance.mean()) / bbox_diagonal(person)


@dataclass(frozen=True)
class PeopleFound:
    """One photo's annotated people, how many of them were found, and found people matching nobody."""

    name: str
    annotated: int
    matched: int
    extra: int


def match_people(name: str, found: Sequence[np.ndarray], people: Sequence[AnnotatedPerson]) -> PeopleFound:
    """One-to-one matching, best fit first, of found people's (17, 2) keypoints to annotated people."""
    people = [person for person in people if np.any(person.keypoints[:, 2] > 0)]
    pairs = sorted(
        (
            (-fit(points, person), _relative_error(points, person), f, p)
            for f, points in enumerate(found)
            for p, person in enumerate(people)
        ),
        key=lambda pair: pair[:2],
    )
    used_found: set[int] = set()
    used_people: set[int] = set()
    for share, _, f, p in pairs:
        share = -share
        if share >= FITS and f not in used_found and p not in used_people:
            used_found.add(f)
            used_people.add(p)
    return PeopleFound(name, len(people), len(used_people), len(found) - len(used_found))


@dataclass(frozen=True)
class Recall:
    recall: float  # matched / annotated over the set
    matched: int
    annotated: int
    extra: int  # found people matching no annotated person


def recall_of(photos: Sequence[PeopleFound]) -> Recall:
    matched, annotated = sum(p.matched for p in photos), sum(p.annotated for p in photos)
    return Recall(matched / annotated if annotated else 0.0, matched, annotated, sum(p.extra for p in photos))


def response_people(response: dict) -> list[np.ndarray]:
    """Every listed person's 17 COCO keypoints as (17, 2) (a single-person model's one person)."""
    listed = response.get("people") or (
        [{"keypoints": response["keypoints"]}] if response["person_detected"] else []
    )
    return [
        np.array([[k["x"], k["y"]] for k in person["keypoints"]]) for person in listed if person["keypoints"]
    ]


def response_keypoints(response: dict) -> np.ndarray | None:
    """The response's 17 COCO keypoints as (17, 2), or None when it reports no person's keypoints."""
    if not response["keypoints"]:
        return None
    return np.array([[keypoint["x"], keypoint["y"]] for keypoint in response["keypoints"]])


class LabelledPhoto(Protocol):
    name: str
    data: bytes
    people: Sequence[AnnotatedPerson]


def evaluate(
    predictor: Predictor, photos: Sequence[LabelledPhoto], max_people: int | None = None
) -> list[PhotoScore]:
    """Each photo's top-level keypoints (the best person) scored against its annotations."""
    return evaluate_all(predictor, photos, max_people)[0]


def evaluate_all(
    predictor: Predictor, photos: Sequence[LabelledPhoto], max_people: int | None = None
) -> tuple[list[PhotoScore], list[PeopleFound]]:
    """One prediction per photo, scored twice: the best person's PCK, and everyone listed's recall."""
    scores, found = [], []
    for photo in photos:
        response = predictor.predict(photo.data, "image/jpeg", max_people)
        predicted = response_keypoints(response) if response["person_detected"] else None
        scores.append(score_photo(photo.name, predicted, photo.people))
        found.append(match_people(photo.name, response_people(response), photo.people))
    return scores, found


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


# ---------------------------------------------------------------- person-free photos

# Sizes from a thumbnail to a 12 MP phone photo, so every search path (tiles included) is tried.
SCENERY_SIZES = ((320, 240), (640, 480), (480, 640), (1280, 720), (2048, 1536), (4032, 3024))


def person_free_photos(count: int = 48, seed: int = 16) -> Iterator[tuple[str, bytes]]:
    """(name, JPEG) of generated photos with nobody in them: textures, landscapes and objects.

    Made here rather than taken from any photo set, so a false-person rate measured on them is never
    tuned to the eval photos; deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    kinds = (_noise, _fractal, _stripes, _landscape, _objects, _gradient)
    for index in range(count):
        kind = kinds[index % len(kinds)]
        width, height = SCENERY_SIZES[(index // len(kinds)) % len(SCENERY_SIZES)]
        image = kind(rng, width, height)
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=90)
        yield f"{kind.__name__[1:]}-{index}-{width}x{height}", buffer.getvalue()


def scene(width: int, height: int, seed: int = 0) -> Image.Image:
    """A generated landscape with nobody in it, to place people into."""
    return _landscape(np.random.default_rng(seed), width, height)


def _fractal_field(rng: np.random.Generator, width: int, height: int, octaves: int = 6) -> np.ndarray:
    """Smooth-to-rough value noise in [0, 1]: the sum of upsampled random grids, coarse ones weighing more."""
    field = np.zeros((height, width))
    for octave in range(octaves):
        cells = 2 ** (octave + 2)
        grid = Image.fromarray((rng.random((cells, cells)) * 255).astype(np.uint8))
        field += np.asarray(grid.resize((width, height), Image.Resampling.BICUBIC), float) / 255 / 2**octave
    return (field - field.min()) / max(np.ptp(field), 1e-9)


def _colourize(field: np.ndarray, low: np.ndarray, high: np.ndarray) -> Image.Image:
    pixels = low + field[:, :, None] * (high - low)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _noise(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Random pixels in blocks that grow with the photo, so a 12 MP one stays under the 6 MB body limit."""
    block = max(1, width // 400)
    cells = rng.integers(0, 256, (-(-height // block), -(-width // block), 3), dtype=np.uint8)
    return Image.fromarray(cells.repeat(block, 0).repeat(block, 1)[:height, :width])


def _fractal(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    return _colourize(_fractal_field(rng, width, height), rng.integers(0, 128, 3), rng.integers(128, 256, 3))


def _gradient(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:height, 0:width]
    field = x * np.cos(angle) + y * np.sin(angle)
    field = (field - field.min()) / max(np.ptp(field), 1e-9)
    return _colourize(field, rng.integers(0, 256, 3), rng.integers(0, 256, 3))


def _stripes(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Stripes or a checkerboard, at a random period and angle: strong edges everywhere."""
    period = rng.uniform(8, max(width, height) / 6)
    angle = rng.uniform(0, np.pi)
    y, x = np.mgrid[0:height, 0:width]
    u = (x * np.cos(angle) + y * np.sin(angle)) / period
    v = (-x * np.sin(angle) + y * np.cos(angle)) / period
    field = (np.floor(u) % 2) if rng.random() < 0.5 else ((np.floor(u) + np.floor(v)) % 2)
    return _colourize(field, rng.integers(0, 128, 3), rng.integers(128, 256, 3))


def _landscape(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Sky, a rough horizon of hills, and textured ground."""
    sky = _colourize(
        np.linspace(0, 1, height)[:, None].repeat(width, 1), np.array([90, 140, 230]), [220, 230, 250]
    )
    ground = _colourize(
        _fractal_field(rng, width, height), rng.integers(20, 90, 3), rng.integers(100, 200, 3)
    )
    ridge = _fractal_field(rng, width, 1, octaves=5)[0]
    horizon = (height * (0.35 + 0.3 * ridge)).astype(int)
    below = np.arange(height)[:, None] >= horizon[None, :]
    return Image.fromarray(np.where(below[:, :, None], np.asarray(ground), np.asarray(sky)))


def _objects(rng: np.random.Generator, width: int, height: int) -> Image.Image:
    """Random boxes, discs and bars on a textured table: things, no one."""
    image = _fractal(rng, width, height)
    draw = ImageDraw.Draw(image)
    for _ in range(int(rng.integers(5, 25))):
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        w, h = rng.uniform(0.03, 0.3) * width, rng.uniform(0.03, 0.3) * height
        colour = tuple(int(c) for c in rng.integers(0, 256, 3))
        shape = (draw.ellipse, draw.rectangle)[int(rng.integers(0, 2))]
        shape([x, y, x + w, y + h], fill=colour, outline=(0, 0, 0))
    return image


def false_person_rate(
    predictor: Predictor, photos: Sequence[tuple[str, bytes]], max_people: int | None = None
) -> tuple[float, tuple[str, ...]]:
    """The share of person-free photos in which the predictor reports a person, and their names."""
    wrong = tuple(
        name for name, data in photos if predictor.predict(data, "image/jpeg", max_people)["person_detected"]
    )
    return len(wrong) / len(photos), wrong
