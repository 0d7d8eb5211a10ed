"""Claim: decoding only the pixels the person needs makes a 12 MP photo cheaper, at no cost in accuracy.

Measures, in one run, on every eval photo made into a 12 MP JPEG (quality 90) two ways: scaled
up whole, and scaled to a third of the height of a grey 4032x3024 frame (a small person), each
stored with an EXIF orientation (1 to 8 in turn, the upright photo unchanged); and as it is:
- decode ms, as the response's decode_ms counts them: before (the whole photo at >= 1024 px on its
  shorter side, every crop taken from it) against now (the whole photo at the pipeline's
  decode_side, 512 px, and a person's region again at the DCT scale their 256 px crop needs when
  that is finer) and against the detector's 224 px plus regions (the alternative not taken);
- ms per photo, decode plus pipeline, the variants alternating photo by photo: blazepose-full
  today (the old decode and the search as it was: one person, one pass, no tiles), before (the
  old decode, today's search), now and at 224 px, and blazepose-heavy now (when cached);
- torso PCK@0.2 of each (the annotations moved and scaled with the photo).
Targets: the default model now costs <= 1x blazepose-full today per whole-photo 12 MP JPEG (median
over photos of the per-photo ratio), and blazepose-full's 12 MP torso PCK now is not below before.

    .venv/bin/python benchmarks/decode_bench.py [--repeats 5] [--photos N]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference import images  # noqa: E402
from inference.catalog import CATALOG, DEFAULT_MODEL  # noqa: E402
from inference.codec import DEFAULT_MAX_PEOPLE  # noqa: E402
from inference.evaluation import EvalPhoto, load_eval_set, score_photo, summarize  # noqa: E402
from inference.fetch import default_cache_dir, fetch  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

EVAL_DIR = REPO.parent / "shared" / "eval" / "coco"
SIZE_12MP = (4032, 3024)
SMALL_PERSON_HEIGHT = SIZE_12MP[1] // 3
GREY = (128, 128, 128)
BEFORE_DECODE_SIDE = 1024  # TWO_STAGE_DECODE_SIDE before regions were decoded apart
TODAY = "blazepose-full today"
DETECTOR_SIDE = 224
TARGET_DEFAULT_OVER_BEFORE = 1.0
# What exif_transpose undoes for each orientation: applied to the upright photo, it gives the
# stored pixels a camera would have written with that orientation tag.
STORED_FROM_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


@dataclass(frozen=True)
class TestPhoto:
    name: str
    data: bytes
    scale: float  # its pixels per eval-photo pixel
    offset: tuple[float, float]  # where the eval photo's top left corner lies in it, upright
    eval_photo: EvalPhoto


@dataclass(frozen=True)
class Variant:
    label: str
    predictor: Predictor
    decode: Callable[[bytes, Predictor], images.DecodedImage]
    max_people: int = DEFAULT_MAX_PEOPLE


@dataclass
class Tally:
    decode_ms: list[float] = dataclasses.field(default_factory=list)
    total_ms: list[float] = dataclasses.field(default_factory=list)
    keypoints: np.ndarray | None = None  # (17, 2) in the photo's pixels, None when no person
    region_scales: tuple[int, ...] = ()  # the DCT scales decoded again for regions


def decode_before(data: bytes, predictor: Predictor) -> images.DecodedImage:
    """The old path: the whole photo decoded sharp enough for any crop, no region source."""
    return dataclasses.replace(images.decode(data, BEFORE_DECODE_SIDE), source=None)


def decode_now(data: bytes, predictor: Predictor) -> images.DecodedImage:
    return images.decode(data, predictor.pipeline.decode_side)


def decode_for_detector(data: bytes, predictor: Predictor) -> images.DecodedImage:
    """The alternative: the whole photo only as large as the detector's input, every crop a region decode."""
    return images.decode(data, DETECTOR_SIDE)


def jpeg_bytes(upright: Image.Image, orientation: int) -> bytes:
    stored = upright.transpose(STORED_FROM_UPRIGHT[orientation]) if orientation != 1 else upright
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=90, exif=exif.tobytes())
    return buffer.getvalue()


def bench_photos(eval_photos: list[EvalPhoto], kind: str) -> list[TestPhoto]:
    """The eval photos as they are ("eval size"), scaled up whole ("12 MP") or small in a frame ("small")."""
    photos = []
    for index, photo in enumerate(eval_photos):
        if kind == "eval size":
            photos.append(TestPhoto(f"{photo.path.name} o1", photo.data, 1.0, (0.0, 0.0), photo))
            continue
        upright = Image.open(photo.path).convert("RGB")
        if kind == "12 MP":
            scale = math.sqrt(SIZE_12MP[0] * SIZE_12MP[1] / (upright.width * upright.height))
        else:
            scale = SMALL_PERSON_HEIGHT / upright.height
        upright = upright.resize(
            (round(upright.width * scale), round(upright.height * scale)), Image.Resampling.BICUBIC
        )
        offset = (0, 0)
        if kind == "small":
            frame = Image.new("RGB", SIZE_12MP, GREY)
            offset = ((SIZE_12MP[0] - upright.width) // 2, (SIZE_12MP[1] - upright.height) // 2)
            frame.paste(upright, offset)
            upright = frame
        orientation = 1 + index % 8
        name = f"{photo.path.name} o{orientation}"
        photos.append(TestPhoto(name, jpeg_bytes(upright, orientation), scale, offset, photo))
    return photos


def run_once(variant: Variant, photo: TestPhoto, tally: Tally) -> None:
    started = time.perf_counter()
    image = variant.decode(photo.data, variant.predictor)
    decoded = time.perf_counter()
    pose = variant.predictor.pipeline(image, variant.max_people)
    finished = time.perf_counter()
    tally.decode_ms.append((decoded - started + image.region_decode_seconds) * 1e3)
    tally.total_ms.append((finished - started) * 1e3)
    points = [[keypoint.x, keypoint.y] for keypoint in pose.keypoints]
    tally.keypoints = np.array(points) if pose.person_detected and points else None
    tally.region_scales = image.source.decoded_scales if image.source else ()


def measure(variants: list[Variant], photos: list[TestPhoto], repeats: int) -> dict[str, list[Tally]]:
    """Per variant, one tally per photo; variants alternate within each repeat of each photo."""
    tallies = {variant.label: [Tally() for _ in photos] for variant in variants}
    for index, photo in enumerate(photos):
        for variant in variants:  # warm-up, and the keypoints scored
            run_once(variant, photo, Tally())
        for _ in range(repeats):
            for variant in variants:
                run_once(variant, photo, tallies[variant.label][index])
    return tallies


def torso_pck(tallies: list[Tally], photos: list[TestPhoto]) -> float:
    scores = [
        score_photo(
            photo.name,
            None if tally.keypoints is None else (tally.keypoints - photo.offset) / photo.scale,
            photo.eval_photo.people,
        )
        for tally, photo in zip(tallies, photos, strict=True)
    ]
    return summarize(scores).torso_pck


def print_table(
    title: str, tallies: dict[str, list[Tally]], photos: list[TestPhoto]
) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Per-photo medians, and per variant the median over photos; returns the per-photo totals and PCKs."""
    labels = list(tallies)
    print(f"\n{title}: decode / decode + pipeline, median ms per photo")
    print(f"{'photo':24}" + "".join(f"{label:>34}" for label in labels))
    totals = {label: [statistics.median(t.total_ms) for t in tallies[label]] for label in labels}
    decodes = {label: [statistics.median(t.decode_ms) for t in tallies[label]] for label in labels}
    for index, photo in enumerate(photos):
        cells = "".join(f"{decodes[label][index]:>21.1f} / {totals[label][index]:>9.1f}" for label in labels)
        print(f"{photo.name:24}{cells}")
    cells = "".join(
        f"{statistics.median(decodes[label]):>21.1f} / {statistics.median(totals[label]):>9.1f}"
        for label in labels
    )
    print(f"{'median':24}{cells}")
    again = "".join(f"{sum(1 for t in tallies[label] if t.region_scales):>34}" for label in labels)
    print(f"{'photos decoded again':24}{again}")
    pck = {label: torso_pck(tallies[label], photos) for label in labels}
    print(f"{'torso PCK@0.2':24}" + "".join(f"{pck[label]:>34.3f}" for label in labels))
    return totals, pck


def as_today(predictor: Predictor) -> Predictor:
    """The search as blazepose-full ran it before issue 16 (benchmarks/accuracy.py's "before")."""
    pipeline = predictor.pipeline
    pipeline.passes, pipeline.tile, pipeline.unsure, pipeline.confirm = 1, False, 1, False
    return predictor


def available_variants() -> tuple[list[Variant], list[str]]:
    full_dir = fetch(CATALOG["blazepose-full"])  # the cache entry; fetched once by `make models`
    full = Predictor(full_dir)
    variants = [
        Variant(TODAY, as_today(Predictor(full_dir)), decode_before, max_people=1),
        Variant("blazepose-full before", full, decode_before),
        Variant("blazepose-full now", full, decode_now),
        Variant(f"blazepose-full {DETECTOR_SIDE}+regions", full, decode_for_detector),
    ]
    notes = []
    heavy = CATALOG.get("blazepose-heavy")
    cached = default_cache_dir() / f"{heavy.name}-{heavy.version}" if heavy else None
    if cached and (cached / "model.json").is_file():
        variants.append(Variant("blazepose-heavy now", Predictor(cached), decode_now))
    else:
        notes.append("blazepose-heavy skipped: not in the catalog or not in the model cache")
    return variants, notes


def print_verdict(totals: dict[str, list[float]], pck: dict[str, float], notes: list[str]) -> None:
    default = f"{DEFAULT_MODEL} now"
    if default not in totals:
        default = "blazepose-full now"
        notes.append(f"the default model {DEFAULT_MODEL} is not measured here; judging {default}")
    for note in notes:
        print(f"note: {note}")

    def ratio(now: str, then: str) -> float:
        """The median over photos of the per-photo ratio."""
        return statistics.median(a / b for a, b in zip(totals[now], totals[then], strict=True))

    against_today = ratio(default, TODAY)
    verdict = "meets" if against_today <= TARGET_DEFAULT_OVER_BEFORE else "MISSES"
    print(
        f"\n12 MP: {default} / {TODAY} = {against_today:.2f}x per photo"
        f" ({verdict} the <= {TARGET_DEFAULT_OVER_BEFORE:g}x target)"
    )
    change = ratio("blazepose-full now", "blazepose-full before")
    print(
        f"12 MP: blazepose-full now / blazepose-full before = {change:.2f}x per photo (the decode change alone)"
    )
    now, before = pck["blazepose-full now"], pck["blazepose-full before"]
    verdict = "meets" if now >= before else "MISSES"
    print(
        f"12 MP: blazepose-full torso PCK now {now:.3f}, before {before:.3f} ({verdict} the not-below target)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each variant per photo")
    parser.add_argument("--photos", type=int, default=0, help="use only the first N eval photos (0: all)")
    args = parser.parse_args()
    eval_photos = load_eval_set(EVAL_DIR)[: args.photos or None]
    variants, notes = available_variants()
    print(f"{len(eval_photos)} eval photos, {args.repeats} alternating repeats per photo and variant")
    results = {}
    for kind, title in (
        ("12 MP", "Scaled up to 12 MP"),
        ("small", f"Small in a 12 MP frame ({SMALL_PERSON_HEIGHT} px tall)"),
        ("eval size", "At eval size"),
    ):
        photos = bench_photos(eval_photos, kind)
        results[kind] = print_table(title, measure(variants, photos, args.repeats), photos)
    totals, pck = results["12 MP"]
    print_verdict(totals, pck, notes)


if __name__ == "__main__":
    main()
