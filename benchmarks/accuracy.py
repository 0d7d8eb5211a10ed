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
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference import images  # noqa: E402
from inference.catalog import CATALOG, resolve  # noqa: E402
from inference.evaluation import (  # noqa: E402
    NEAR,
    EvalPhoto,
    Summary,
    evaluate,
    load_eval_set,
    single_stage_dir,
    summarize,
)
from inference.fetch import default_cache_dir, fetch  # noqa: E402
from inference.keypoints import COCO_KEYPOINTS  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval" / "coco"
MOVENET_LIGHTNING = (
    SHARED / "models" / "movenet" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
)
TARGET_BLAZEPOSE_TORSO_PCK = 0.70
TARGET_LIGHTNING_TORSO_PCK = 0.79
TARGET_COST_RATIO = 2.5
SIZE_12MP = (4032, 3024)


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
    photos = load_eval_set(EVAL_DIR)
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
