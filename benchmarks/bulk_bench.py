"""Claim: `python -m inference predict` on N cores runs >= 0.9 x N x the photos per second of one process.

Measures, in one run, alternating within each round so both see the same machine load:
- single: one process (this one), one Predictor with one TFLite thread, photo after photo;
- pool: the bulk command's WorkerPool with one worker per core (each its own interpreter, one
  thread), results written by the parent as the command writes them;
each over the eval photos made into 640 px JPEGs (longer side) and into 12 MP JPEGs (4032x3024,
quality 90, upscaled), the same work per photo: read the file, predict, write NAME.json. Workers
are started and warmed before timing: the claim is the steady rate of a long run. Prints the
median photos/s over the rounds, the ratio pool / (cores x single) (the median of each round's),
the load average, and each run's CPU time per photo, which says how many cores it actually had
(other busy processes take cores from both and make the ratio noisy), and how long the workers
waited for a CPU (starved) or for work (idle).

    .venv/bin/python benchmarks/bulk_bench.py [--model NAME | --model FILE.tflite --family movenet] [--rounds 3] [--photos 20] [--workers N]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference.bulk import Photo, ResultFolder  # noqa: E402
from inference.bulk_pool import PhotoTask, WorkerPool, run_photo  # noqa: E402
from inference.catalog import DEFAULT_MODEL, resolve  # noqa: E402
from inference.fetch import fetch  # noqa: E402
from inference.manifest import Family  # noqa: E402
from inference.predictor import Predictor  # noqa: E402

EVAL_DIR = REPO.parent / "shared" / "eval" / "coco"
SIZES = {"640 px": None, "12 MP": (4032, 3024)}
LONG_SIDE_640 = 640
TARGET_RATIO = 0.9


def make_photos(folder: Path, count: int) -> dict[str, list[Photo]]:
    """The first `count` eval photos at each size, as JPEG files under `folder/<size>/`."""
    sources = sorted(EVAL_DIR.glob("*.jpg"))[:count]
    if not sources:
        sys.exit(f"no eval photos in {EVAL_DIR}")
    photos: dict[str, list[Photo]] = {}
    for label, size in SIZES.items():
        (folder / label).mkdir()
        photos[label] = []
        for source in sources:
            with Image.open(source) as original:
                scale = LONG_SIDE_640 / max(original.size)
                target = size or (round(original.width * scale), round(original.height * scale))
                resized = original.convert("RGB").resize(target, Image.Resampling.BICUBIC)
            encoded = io.BytesIO()
            resized.save(encoded, "JPEG", quality=90)
            path = folder / label / source.name
            path.write_bytes(encoded.getvalue())
            photos[label].append(Photo(path, f"{label}/{source.name}"))
    return photos


@dataclass(frozen=True)
class Sched:
    """Where processes spent their time: on a CPU, and runnable but waiting for one (seconds, summed)."""

    running: float
    waiting: float

    def __sub__(self, earlier: Sched) -> Sched:
        return Sched(self.running - earlier.running, self.waiting - earlier.waiting)


def sched(pids: list[int]) -> Sched:
    """Linux's /proc/PID/task/*/schedstat (ns on a CPU, ns on a run queue), every thread of each."""
    running = waiting = 0
    for pid in pids:
        for thread in Path(f"/proc/{pid}/task").iterdir():
            on_cpu, on_queue, _ = (thread / "schedstat").read_text().split()
            running, waiting = running + int(on_cpu), waiting + int(on_queue)
    return Sched(running / 1e9, waiting / 1e9)


@dataclass(frozen=True)
class Rate:
    photos_per_second: float
    cpu_ms_per_photo: float  # CPU time of every process doing the work: the cost without the waiting
    cores_used: float  # what the machine gave the run on average, not what it asked for
    starved: float  # share of the workers' time runnable but without a CPU (other load)
    idle: float  # share of the workers' time with nothing to run (waiting on the parent, or done)


def single_rate(predictor: Predictor, photos: list[Photo], results: ResultFolder) -> Rate:
    me = [os.getpid()]
    started, before = time.perf_counter(), sched(me)
    for index, photo in enumerate(photos):
        results.done(photo, run_photo(predictor, PhotoTask(index, str(photo.path), overlay=False)))
    seconds, spent = time.perf_counter() - started, sched(me) - before
    return _rate(len(photos), seconds, spent, spent, 1)


def pool_rate(pool: WorkerPool, photos: list[Photo], results: ResultFolder) -> Rate:
    tasks = [PhotoTask(index, str(photo.path), overlay=False) for index, photo in enumerate(photos)]
    me, workers = [os.getpid()], pool.pids
    started, before, parent_before = time.perf_counter(), sched(workers), sched(me)
    for result in pool.results(tasks):
        results.done(photos[result.index], result)
    seconds, spent, parent = time.perf_counter() - started, sched(workers) - before, sched(me) - parent_before
    return _rate(len(photos), seconds, Sched(spent.running + parent.running, 0), spent, len(workers))


def _rate(photos: int, seconds: float, total: Sched, workers: Sched, count: int) -> Rate:
    worker_seconds = count * seconds
    return Rate(
        photos_per_second=photos / seconds,
        cpu_ms_per_photo=1000 * total.running / photos,
        cores_used=total.running / seconds,
        starved=workers.waiting / worker_seconds,
        idle=max(0.0, 1 - (workers.running + workers.waiting) / worker_seconds),
    )


def measure(rounds: int, runs: dict[str, Callable[[], Rate]]) -> dict[str, list[Rate]]:
    rates: dict[str, list[Rate]] = {name: [] for name in runs}
    for number in range(1, rounds + 1):
        for name, run in runs.items():
            rates[name].append(run())
        print(f"  round {number}/{rounds}: load {os.getloadavg()[0]:.2f}", file=sys.stderr)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help="a catalog name, or a .tflite file with --family"
    )
    parser.add_argument("--family", choices=tuple(Family))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--photos", type=int, default=20, help="eval photos per size")
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="default: cores")
    args = parser.parse_args()
    model_dir = fetch(resolve(args.model, args.family))
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        photos = make_photos(Path(scratch), args.photos)
        results = ResultFolder(Path(scratch) / "out", overlay=False)
        predictor = Predictor(model_dir, threads=1)
        with WorkerPool(model_dir, args.workers) as pool:
            for label in SIZES:  # warm every interpreter and the page cache
                single_rate(predictor, photos[label][:2], results)
                pool_rate(pool, photos[label][: 2 * args.workers], results)
            runs: dict[str, Callable[[], Rate]] = {}
            for label in SIZES:
                runs[f"{label} single"] = lambda label=label: single_rate(predictor, photos[label], results)
                runs[f"{label} pool"] = lambda label=label: pool_rate(pool, photos[label], results)
            rates = measure(args.rounds, runs)
    load_after = os.getloadavg()
    print(
        f"{Path(args.model).name}, {args.photos} photos per size, median of {args.rounds} rounds, {args.workers} workers"
    )
    print(
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, on {os.cpu_count()} CPUs"
    )
    print(
        f"{'photo size':<11}{'single photos/s':>16}{'pool photos/s':>14}{'cores':>6}{'ratio':>6}"
        f"{'cpu ms/photo':>14}{'cores used':>14}{'starved':>14}{'idle':>14}{'ratio per core used':>21}"
    )
    print(f"{'':<53}" + f"{'single, pool':>14}" * 4)
    ok = True
    for label in SIZES:
        singles, pools = rates[f"{label} single"], rates[f"{label} pool"]
        # Each round's own ratio (its two runs saw about the same load), then their median.
        ratio = statistics.median(
            p.photos_per_second / (args.workers * s.photos_per_second)
            for s, p in zip(singles, pools, strict=True)
        )
        ok &= ratio >= TARGET_RATIO
        print(
            f"{label:<11}{_median(singles, 'photos_per_second'):>16.2f}{_median(pools, 'photos_per_second'):>14.2f}"
            f"{args.workers:>6}{ratio:>6.2f}{_pair(singles, pools, 'cpu_ms_per_photo', '.0f')}"
            f"{_pair(singles, pools, 'cores_used', '.2f')}{_pair(singles, pools, 'starved', '.0%')}"
            f"{_pair(singles, pools, 'idle', '.0%')}"
            f"{_median(singles, 'cpu_ms_per_photo') / _median(pools, 'cpu_ms_per_photo'):>21.2f}"
        )
    print(f"target: ratio >= {TARGET_RATIO} -> {'met' if ok else 'NOT met'}")
    print(
        "starved: runnable but without a CPU (other processes had it); idle: nothing to run (a worker\n"
        "waiting on the parent, or done before the other). A pool short of cores is starved, not idle:\n"
        "with Linux's autogroup the scheduler shares CPU between sessions, so beside other busy sessions\n"
        "a session of N processes gets about what one process would. 'ratio per core used' is the\n"
        "pool's photos per CPU-second over the single process's."
    )
    return 0


def _median(rates: list[Rate], name: str) -> float:
    return statistics.median(getattr(rate, name) for rate in rates)


def _pair(singles: list[Rate], pools: list[Rate], name: str, spec: str) -> str:
    return f"{format(_median(singles, name), spec)}, {format(_median(pools, name), spec)}".rjust(14)


if __name__ == "__main__":
    sys.exit(main())
