"""Claim: the default pipeline puts joints in the right place, finds everyone, and costs at most 2x today's.

Every pipeline runs through `Predictor.predict(bytes, "image/jpeg")`, the exact server path, in one
run, and one table prints side by side, for each:
- PCK@0.2 (torso and bbox) on ../shared/eval/coco (definitions: inference/evaluation.py), and the
  photos where no person was found;
- the same on the eval photos turned a quarter, a half and three quarters, and shrunk to a third
  inside a 3x larger generated landscape: people the detector is less sure of (hard);
- the median time per eval photo (each photo's median over the repeats, the pipelines taking turns
  on every photo so that they share the machine's load), and per 12 MP photo;
- the false-person rate on generated person-free photos (textures, landscapes, objects);
- people found: the share of the eval photos' annotated people that some listed person matches
  (the rule: inference/evaluation.py), and the listed people matching nobody (extra).
"Before" is blazepose-full as it ran before the tracking passes, the multi-person search and the
tiles: one person, the detector's best candidate only. Targets (printed with a verdict): the default
torso PCK >= 0.80 with a person in all 20 photos, MoveNet Lightning >= 0.79, the default's median
time <= 2x before's on the eval photos and <= 1x on 12 MP photos, and a false-person rate at most
before's. Beside them, each model's bare invoke: the floor no pre- or post-processing can go under.

    .venv/bin/python benchmarks/accuracy.py [--repeats 5] [--person-free 48]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference.catalog import CATALOG, DEFAULT_MODEL, resolve  # noqa: E402
from inference.evaluation import (  # noqa: E402
    NEAR,
    EvalPhoto,
    GroundTruthPerson,
    Recall,
    Summary,
    evaluate,
    evaluate_all,
    false_person_rate,
    load_eval_set,
    person_free_photos,
    recall_of,
    scene,
    single_stage_dir,
    summarize,
)
from inference.fetch import default_cache_dir, fetch  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

SHARED = REPO.parent / "shared"
EVAL_DIR = SHARED / "eval" / "coco"
MOVENET_LIGHTNING = (
    SHARED / "models" / "movenet" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
)
BEFORE = "blazepose-full before"
TARGET_DEFAULT_TORSO_PCK = 0.80
TARGET_LIGHTNING_TORSO_PCK = 0.79
TARGET_EVAL_COST = 2.0  # x before's median time per eval photo
TARGET_12MP_COST = 1.0  # x before's median time per 12 MP photo
SIZE_12MP = (4032, 3024)
TWELVE_MP_PHOTOS = 3
INVOKE_REPEATS = 30


@dataclass(frozen=True)
class Entry:
    """One pipeline of the comparison: a model directory and how its pipeline is set up."""

    label: str
    model_dir: Path
    setup: Callable[[Predictor], None] = lambda predictor: None
    max_people: int | None = None  # None: the predictor's default


def as_before(predictor: Predictor) -> None:
    """The search as it was: the detector's best candidate only, one landmark pass, no tiles."""
    pipeline = predictor.pipeline
    pipeline.passes, pipeline.tile, pipeline.unsure, pipeline.confirm = 1, False, 1, False
    pipeline.below = 0


def sure_only(predictor: Predictor) -> None:
    """No candidates under the detector's threshold beside people found (as before they were tried)."""
    predictor.pipeline.below = 0


def passes(count: int) -> Callable[[Predictor], None]:
    """At most `count` landmark passes per person (1: the detector's region only, no tracking)."""

    def setup(predictor: Predictor) -> None:
        predictor.pipeline.passes = count

    return setup


def entries(scratch: Path) -> tuple[list[Entry], list[str]]:
    """The pipelines on this machine, and a note for each one skipped."""
    notes = []
    full, default = fetch(CATALOG["blazepose-full"]), fetch(CATALOG[DEFAULT_MODEL])
    table = [
        Entry(BEFORE, full, as_before, max_people=1),
        Entry("blazepose-full one pass", full, passes(1)),
        Entry("blazepose-full sure only", full, sure_only),
        Entry("blazepose-full", full),
        Entry(f"{DEFAULT_MODEL} one pass", default, passes(1)),
        Entry(f"{DEFAULT_MODEL} two passes", default, passes(2)),
        Entry(f"{DEFAULT_MODEL} sure only", default, sure_only),
        Entry(f"{DEFAULT_MODEL} (default)", default),
        Entry(f"{DEFAULT_MODEL} max_people=1", default, max_people=1),
    ]
    for name in CATALOG:
        if name.startswith("blazepose") and name not in ("blazepose-full", DEFAULT_MODEL):
            table.append(Entry(name, fetch(CATALOG[name])))
    table.append(Entry("blazepose-full landmarks only", single_stage_dir(full, scratch)))
    if MOVENET_LIGHTNING.is_file():
        lightning = fetch(resolve(str(MOVENET_LIGHTNING), family="movenet"), scratch)
        table.append(Entry("movenet-lightning", lightning))
    else:
        notes.append(f"movenet-lightning skipped: {MOVENET_LIGHTNING} not present")
    thunder = CATALOG["movenet-thunder"]
    cached = default_cache_dir() / f"{thunder.name}-{thunder.version}"
    if (cached / "model.json").is_file():
        table.append(Entry("movenet-thunder", cached))
    else:
        notes.append(
            f"movenet-thunder skipped: not in the model cache ({cached}); nothing is downloaded here"
        )
    return table, notes


# ---------------------------------------------------------------- photos


def jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=92)
    return buffer.getvalue()


@dataclass(frozen=True)
class HardPhoto:
    """An eval photo changed in a way that makes the detector unsure, with its moved ground truth."""

    name: str
    data: bytes
    people: tuple[GroundTruthPerson, ...]


def hard_photos(photos: Sequence[EvalPhoto]) -> list[HardPhoto]:
    """Each photo turned by quarter turns, and put at its own size in the middle of a 3x larger scene."""
    hard = []
    for index, photo in enumerate(photos):
        image = Image.open(photo.path).convert("RGB")
        width, height = image.size
        turns = {
            "turned-90": (Image.Transpose.ROTATE_90, lambda x, y, w=width: (y, w - x)),
            "turned-180": (Image.Transpose.ROTATE_180, lambda x, y, w=width, h=height: (w - x, h - y)),
            "turned-270": (Image.Transpose.ROTATE_270, lambda x, y, h=height: (h - y, x)),
        }
        for label, (turn, move) in turns.items():
            turned = jpeg(image.transpose(turn))
            hard.append(HardPhoto(f"{photo.path.stem}-{label}", turned, _moved(photo.people, move)))
        landscape = scene(3 * width, 3 * height, seed=index)
        landscape.paste(image, (width, height))
        moved = _moved(photo.people, lambda x, y, w=width, h=height: (x + w, y + h))
        hard.append(HardPhoto(f"{photo.path.stem}-in-a-scene", jpeg(landscape), moved))
    return hard


def _moved(people: Sequence[GroundTruthPerson], move: Callable) -> tuple[GroundTruthPerson, ...]:
    """The annotations after the photo moved: keypoints and the bbox's corners."""
    moved = []
    for person in people:
        points = person.keypoints.copy()
        # From copies: a move may hand back its x unchanged as the new y, which must not be a view
        # of the column the first assignment overwrites.
        points[:, :2] = np.stack(move(person.keypoints[:, 0].copy(), person.keypoints[:, 1].copy()), axis=1)
        x, y, width, height = person.bbox
        corners = np.array(move(np.array([x, x + width]), np.array([y, y + height])))
        low, high = corners.min(axis=1), corners.max(axis=1)
        moved.append(GroundTruthPerson(points, (low[0], low[1], *(high - low))))
    return tuple(moved)


def twelve_megapixel(photos: Sequence[EvalPhoto]) -> list[bytes]:
    """The first few eval photos upscaled to a phone's 4032x3024, as JPEG."""
    return [
        jpeg(Image.open(photo.path).convert("RGB").resize(SIZE_12MP, Image.Resampling.BICUBIC))
        for photo in photos
    ]


# ---------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Row:
    label: str
    accuracy: Summary
    people: Recall
    hard: Summary
    eval_ms: float
    large_ms: float
    false_person_rate: float


def median_times(
    predictors: dict[str, Predictor], people: dict[str, int | None], photos: Sequence[bytes], repeats: int
) -> dict[str, float]:
    """Median over photos of each pipeline's median time per photo, the pipelines taking turns."""
    per_photo: dict[str, list[float]] = {label: [] for label in predictors}
    for data in photos:
        times: dict[str, list[float]] = {label: [] for label in predictors}
        for label, predictor in predictors.items():  # warm-up
            predictor.predict(data, "image/jpeg", people[label])
        for _ in range(repeats):
            for label, predictor in predictors.items():
                started = time.perf_counter()
                predictor.predict(data, "image/jpeg", people[label])
                times[label].append(time.perf_counter() - started)
        for label in predictors:
            per_photo[label].append(statistics.median(times[label]) * 1e3)
    return {label: statistics.median(values) for label, values in per_photo.items()}


def invoke_ms(pipelines: dict[str, Predictor], repeats: int) -> dict[str, tuple[float, ...]]:
    """Each pipeline's interpreters' bare invokes, median ms, taking turns: the models alone."""
    times: dict[str, list[list[float]]] = {
        label: [[] for _ in predictor.pipeline.interpreters] for label, predictor in pipelines.items()
    }
    for _ in range(repeats):
        for label, predictor in pipelines.items():
            for index, interpreter in enumerate(predictor.pipeline.interpreters):
                started = time.perf_counter()
                interpreter.invoke()
                times[label][index].append(time.perf_counter() - started)
    return {label: tuple(statistics.median(t) * 1e3 for t in each) for label, each in times.items()}


# ---------------------------------------------------------------- report


def print_table(rows: Sequence[Row], photo_count: int, hard_count: int, person_free: int) -> None:
    print(f"\nPCK@{NEAR} through Predictor.predict (the server path); times are medians in one run")
    head = (
        f"{'pipeline':32} {'torso':>6} {'bbox':>6} {'miss':>5} | {'hard torso':>10} {'miss':>5} |"
        f" {'found':>5} {'extra':>5} | {'ms/photo':>8} {'ms/12MP':>8} | {'false person':>12}"
    )
    print(head)
    print("-" * len(head))
    for row in rows:
        print(
            f"{row.label:32} {row.accuracy.torso_pck:6.3f} {row.accuracy.bbox_pck:6.3f}"
            f" {len(row.accuracy.no_person):2}/{photo_count:<2} | {row.hard.torso_pck:10.3f}"
            f" {len(row.hard.no_person):2}/{hard_count:<2} | {row.people.matched:2}/{row.people.annotated:<2}"
            f" {row.people.extra:5} | {row.eval_ms:8.1f} {row.large_ms:8.1f} |"
            f" {row.false_person_rate:6.1%} of {person_free}"
        )
    for row in rows:
        if row.accuracy.no_person:
            print(f"  {row.label}: no person in {', '.join(row.accuracy.no_person)}")


def print_targets(rows: dict[str, Row], photo_count: int) -> None:
    default, before = rows[f"{DEFAULT_MODEL} (default)"], rows[BEFORE]

    def verdict(ok: bool) -> str:
        return "meets" if ok else "MISSES"

    found = photo_count - len(default.accuracy.no_person)
    print(f"\nTargets for the default ({DEFAULT_MODEL}):")
    checks = [
        (
            default.accuracy.torso_pck >= TARGET_DEFAULT_TORSO_PCK,
            f"torso PCK {default.accuracy.torso_pck:.3f} >= {TARGET_DEFAULT_TORSO_PCK}",
        ),
        (found == photo_count, f"a person in {found} of {photo_count} photos"),
        (
            default.eval_ms <= TARGET_EVAL_COST * before.eval_ms,
            f"{default.eval_ms / before.eval_ms:.2f}x before's time per eval photo (<= {TARGET_EVAL_COST}x)",
        ),
        (
            default.large_ms <= TARGET_12MP_COST * before.large_ms,
            f"{default.large_ms / before.large_ms:.2f}x before's time per 12 MP photo (<= {TARGET_12MP_COST}x)",
        ),
        (
            default.false_person_rate <= before.false_person_rate,
            f"false-person rate {default.false_person_rate:.1%} (before: {before.false_person_rate:.1%})",
        ),
    ]
    if "movenet-lightning" in rows:
        lightning = rows["movenet-lightning"].accuracy.torso_pck
        checks.append(
            (
                lightning >= TARGET_LIGHTNING_TORSO_PCK,
                f"MoveNet Lightning torso PCK {lightning:.3f} >= {TARGET_LIGHTNING_TORSO_PCK}",
            )
        )
    for ok, text in checks:
        print(f"  {verdict(ok):6} {text}")


def print_floor(invokes: dict[str, tuple[float, ...]], before: Row) -> None:
    """The default's detector and one landmark pass, the models alone, against before's whole time."""
    default = f"{DEFAULT_MODEL} (default)"
    print("\nThe models alone (bare invokes, median ms; detector, landmarks):")
    for label, medians in invokes.items():
        print(f"  {label:32} " + " + ".join(f"{value:.1f}" for value in medians))
    floor = sum(invokes[default])
    print(
        f"  {DEFAULT_MODEL}'s detector and ONE landmark pass alone: {floor:.1f} ms ="
        f" {floor / before.eval_ms:.2f}x before's whole time per eval photo,"
        f" {floor / before.large_ms:.2f}x per 12 MP photo"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per photo and pipeline")
    parser.add_argument("--person-free", type=int, default=48, help="generated photos with nobody in them")
    args = parser.parse_args()
    photos = load_eval_set(EVAL_DIR)
    hard = hard_photos(photos)
    large = twelve_megapixel(photos[:TWELVE_MP_PHOTOS])
    nobody = list(person_free_photos(args.person_free))
    with tempfile.TemporaryDirectory() as scratch:
        table, notes = entries(Path(scratch))
        predictors = {}
        for entry in table:
            predictors[entry.label] = Predictor(entry.model_dir)
            entry.setup(predictors[entry.label])
        people = {entry.label: entry.max_people for entry in table}
        eval_ms = median_times(predictors, people, [photo.data for photo in photos], args.repeats)
        large_ms = median_times(predictors, people, large, max(1, args.repeats // 2))
        measured = (BEFORE, "blazepose-full", f"{DEFAULT_MODEL} (default)")
        invokes = invoke_ms({label: predictors[label] for label in measured}, INVOKE_REPEATS)
        rows = {}
        for entry in table:
            scores, found = evaluate_all(predictors[entry.label], photos, entry.max_people)
            rows[entry.label] = Row(
                entry.label,
                summarize(scores),
                recall_of(found),
                summarize(evaluate(predictors[entry.label], hard, entry.max_people)),
                eval_ms[entry.label],
                large_ms[entry.label],
                false_person_rate(predictors[entry.label], nobody, entry.max_people)[0],
            )
    print_table(list(rows.values()), len(photos), len(hard), len(nobody))
    for note in notes:
        print(f"note: {note}")
    print_floor(invokes, rows[BEFORE])
    print_targets(rows, len(photos))


if __name__ == "__main__":
    main()
