"""Claim: BlazePose two-stage finds people as well as the best public pipeline, at a bounded cost.

Scores every available model through `Predictor.predict(bytes, "image/jpeg")`, the exact server
path, on ../shared/eval/coco, and prints:
- PCK@0.2 (torso): a keypoint is correct when within 0.2 x the person's torso size of the truth.
  Torso size is the left-shoulder to right-hip distance of the ground-truth person; when either
  is unlabelled, the other diagonal (right shoulder to left hip); a person with neither is left
  out of this metric. PCK@0.2 (bbox): the same within 0.2 x the person's bbox diagonal.
- Both pooled over the labelled keypoints (v > 0) of the annotated person each prediction fits
  best (smallest mean distance over its bbox diagonal). A photo where no person was found counts
  every labelled keypoint of its most-labelled person as missed; those photos are listed.
- Per-keypoint torso PCK, and the cost of the BlazePose pipeline against one landmark-model
  invoke, per photo, measured side by side in one run; then a 12 MP JPEG through `predict` at
  decode_side 256 and at the pipeline's own, the price of cropping from a sharper decode.
Targets: BlazePose two-stage torso PCK >= 0.70 with a person in every photo; MoveNet Lightning
>= 0.79; the two-stage call <= 2.5 x one landmark invoke (median over photos).

    .venv/bin/python benchmarks/accuracy.py [--repeats 15]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference import images  # noqa: E402
from inference.catalog import CATALOG, resolve  # noqa: E402
from inference.fetch import default_cache_dir, fetch  # noqa: E402
from inference.keypoints import COCO_KEYPOINTS  # noqa: E402
from inference.manifest import ModelManifest  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval" / "coco"
MOVENET_LIGHTNING = (
    SHARED / "models" / "movenet" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
)
NEAR = 0.2
LEFT_SHOULDER, RIGHT_SHOULDER = COCO_KEYPOINTS.index("left_shoulder"), COCO_KEYPOINTS.index("right_shoulder")
LEFT_HIP, RIGHT_HIP = COCO_KEYPOINTS.index("left_hip"), COCO_KEYPOINTS.index("right_hip")
TARGET_BLAZEPOSE_TORSO_PCK = 0.70
TARGET_LIGHTNING_TORSO_PCK = 0.79
TARGET_COST_RATIO = 2.5
SIZE_12MP = (4032, 3024)


# ---------------------------------------------------------------- scoring (pure)


class AnnotatedPerson(Protocol):
    keypoints: np.ndarray  # (17, 3): x, y, v (v == 0: not labelled)
    bbox: tuple[float, float, float, float]  # x, y, w, h


@dataclass(frozen=True)
class GroundTruthPerson:
    keypoints: np.ndarray
    bbox: tuple[float, float, float, float]


@dataclass(frozen=True)
class EvalPhoto:
    path: Path
    people: tuple[GroundTruthPerson, ...]


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


# ---------------------------------------------------------------- inputs


def load_eval_set(eval_dir: Path = EVAL_DIR) -> list[EvalPhoto]:
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
    landmarks = manifest.files["landmarks"]
    (scratch / landmarks).symlink_to(blazepose_dir / landmarks)
    document = json.loads((blazepose_dir / "model.json").read_text())
    document["files"] = {"landmarks": landmarks}
    document["sha256"] = {landmarks: manifest.sha256[landmarks]}
    (scratch / "model.json").write_text(json.dumps(document))
    return scratch


def available_models(scratch: Path) -> tuple[list[tuple[str, Path]], list[str]]:
    """(label, model directory) for each model on this machine, and a note for each one skipped."""
    models, notes = [], []
    blazepose = fetch(CATALOG["blazepose-full"])  # the cache entry; fetched once by `make models`
    models.append(("blazepose-full (two-stage)", blazepose))
    models.append(("blazepose-full (landmarks only)", single_stage_dir(blazepose, scratch)))
    if MOVENET_LIGHTNING.is_file():
        models.append(
            ("movenet-lightning", fetch(resolve(str(MOVENET_LIGHTNING), family="movenet"), scratch))
        )
    else:
        notes.append(f"movenet-lightning skipped: {MOVENET_LIGHTNING} not present")
    thunder = CATALOG["movenet-thunder"]
    cached = default_cache_dir() / f"{thunder.name}-{thunder.version}"
    if (cached / "model.json").is_file():
        models.append(("movenet-thunder", cached))
    else:
        notes.append(
            f"movenet-thunder skipped: not in the model cache ({cached}); nothing is downloaded here"
        )
    return models, notes


# ---------------------------------------------------------------- cost


@dataclass(frozen=True)
class Cost:
    name: str
    pipeline_ms: float  # median of the whole pipeline call on the decoded photo
    invoke_ms: float  # median of one landmark-model invoke, timed alternately with it

    @property
    def ratio(self) -> float:
        return self.pipeline_ms / self.invoke_ms


def measure_cost(predictor: Predictor, photos: Sequence[EvalPhoto], repeats: int) -> list[Cost]:
    """Alternate the pipeline call and a bare landmark invoke, so both see the same machine load."""
    pipeline = predictor.pipeline
    landmark_model = pipeline.landmark_model  # the very interpreter the pipeline runs
    costs = []
    for photo in photos:
        image = images.decode(photo.path.read_bytes(), pipeline.decode_side)
        pipeline(image)  # warm-up
        whole, invoke = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            pipeline(image)
            between = time.perf_counter()
            landmark_model.invoke()
            whole.append(between - started)
            invoke.append(time.perf_counter() - between)
        costs.append(Cost(photo.path.name, statistics.median(whole) * 1e3, statistics.median(invoke) * 1e3))
    return costs


@dataclass(frozen=True)
class LargePhotoCost:
    decode_side: int
    decoded_size: tuple[int, int]
    decode_ms: float  # medians over the repeats, as the response's own timing reports them
    predict_ms: float
    invoke_ms: float  # one landmark-model invoke, timed alternately with the predicts


def large_photo_cost(
    predictor: Predictor, photo: Path, sides: Sequence[int], repeats: int
) -> list[LargePhotoCost]:
    """A 12 MP JPEG (the photo upscaled) through `predict` at each `decode_side`; restores the pipeline's."""
    buffer = io.BytesIO()
    Image.open(photo).resize(SIZE_12MP, Image.Resampling.BICUBIC).save(buffer, "JPEG", quality=90)
    pipeline, own_side, costs = predictor.pipeline, predictor.pipeline.decode_side, []
    for side in sides:
        pipeline.decode_side = side
        decodes, predicts, invokes = [], [], []
        for _ in range(repeats):
            started = time.perf_counter()
            response = predictor.predict(buffer.getvalue(), "image/jpeg")
            between = time.perf_counter()
            pipeline.landmark_model.invoke()
            decodes.append(response["timing"]["decode_ms"])
            predicts.append((between - started) * 1e3)
            invokes.append((time.perf_counter() - between) * 1e3)
        size = images.decode(buffer.getvalue(), side).pixels.size
        costs.append(LargePhotoCost(side, size, *map(statistics.median, (decodes, predicts, invokes))))
    pipeline.decode_side = own_side
    return costs


# ---------------------------------------------------------------- report


def print_accuracy(summaries: dict[str, Summary], photo_count: int) -> None:
    labels = list(summaries)
    print(f"\nPCK@{NEAR} over {photo_count} photos (through Predictor.predict, the server path)")
    print(f"{'model':34} {'torso':>7} {'bbox':>7}  no person found")
    for label, summary in summaries.items():
        missing = ", ".join(summary.no_person) or "-"
        print(f"{label:34} {summary.torso_pck:7.3f} {summary.bbox_pck:7.3f}  {missing}")
    print(f"\nTorso PCK@{NEAR} per keypoint")
    print(f"{'keypoint':16}" + "".join(f"{label[:20]:>22}" for label in labels))
    for name in COCO_KEYPOINTS:
        cells = [summaries[label].per_keypoint[name] for label in labels]
        print(f"{name:16}" + "".join(f"{'-' if c is None else f'{c:.3f}':>22}" for c in cells))


def print_cost(costs: Sequence[Cost]) -> None:
    print("\nBlazePose two-stage cost per photo: whole pipeline call vs one landmark invoke (median ms)")
    for cost in costs:
        print(f"  {cost.name:20} {cost.pipeline_ms:7.2f} ms / {cost.invoke_ms:6.2f} ms = {cost.ratio:4.2f}x")
    median = statistics.median(cost.ratio for cost in costs)
    verdict = "meets" if median <= TARGET_COST_RATIO else "MISSES"
    print(f"  median ratio {median:.2f}x ({verdict} the <= {TARGET_COST_RATIO}x target)")


def print_large_photo(costs: Sequence[LargePhotoCost]) -> None:
    print(f"\nBlazePose two-stage on a {SIZE_12MP[0]}x{SIZE_12MP[1]} JPEG by decode_side (median ms)")
    for cost in costs:
        width, height = cost.decoded_size
        print(
            f"  decode_side {cost.decode_side:5}: decoded {width}x{height} in {cost.decode_ms:5.1f} ms,"
            f" predict {cost.predict_ms:5.1f} ms = {cost.predict_ms / cost.invoke_ms:4.2f}x one invoke"
        )


def print_targets(summaries: dict[str, Summary], photo_count: int) -> None:
    check = summaries["blazepose-full (two-stage)"]
    print(
        f"\nBlazePose two-stage torso PCK {check.torso_pck:.3f} (target >= {TARGET_BLAZEPOSE_TORSO_PCK}),"
        f" no person in {len(check.no_person)} of {photo_count} photos (target 0)"
    )
    if "movenet-lightning" in summaries:
        lightning = summaries["movenet-lightning"].torso_pck
        print(f"MoveNet Lightning torso PCK {lightning:.3f} (target >= {TARGET_LIGHTNING_TORSO_PCK})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per photo for the cost ratio")
    args = parser.parse_args()
    photos = load_eval_set()
    with tempfile.TemporaryDirectory() as scratch:
        models, notes = available_models(Path(scratch))
        predictors = {label: Predictor(model_dir) for label, model_dir in models}
        summaries = {label: summarize(evaluate(predictor, photos)) for label, predictor in predictors.items()}
    print_accuracy(summaries, len(photos))
    for note in notes:
        print(f"note: {note}")
    two_stage = predictors["blazepose-full (two-stage)"]
    print_cost(measure_cost(two_stage, photos, args.repeats))
    sides = (256, two_stage.pipeline.decode_side)
    print_large_photo(large_photo_cost(two_stage, photos[0].path, sides, args.repeats))
    print_targets(summaries, len(photos))


if __name__ == "__main__":
    main()
