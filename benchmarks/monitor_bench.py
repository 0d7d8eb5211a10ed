"""Claim: the monitoring job streams: at least 2x the throughput of a naive reader, peak RSS <= 50 MB.

Generates --size-mb (default 1024) of realistic capture data in SageMaker's layout (~40 KB JPEG
inputs captured as base64, BlazePose-shaped JSON outputs listing 1-3 people, each with its keypoints
and landmarks; --without-people: as servers before `people` answered; --models N: answered by N
models of one multi-model endpoint, each its own latency) in a temporary directory,
deleted after. Then runs, each in its own process and in one run: the job exactly as the container
runs it (`python -m monitoring` with SageMaker's environment), and a naive baseline (`json.loads` on
every line, then on every output, latencies collected in a list, people and predictions per model
counted). Prints MB/s and peak
RSS (the child's own VmHWM) of each, and the ratios. Both read from the page cache (the data is read
once before timing).

    .venv/bin/python benchmarks/monitor_bench.py [--size-mb N] [--repeats N] [--tmp DIR] [--without-people]
        [--models N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `monitoring` importable

ENDPOINT = "pose-bench"
VARIANTS = ("AllTraffic", "Canary")
START = datetime(2026, 11, 22, 12, tzinfo=UTC)
HOURS = 4
FILE_BYTES = 64 << 20  # SageMaker rotates capture files; many files also exercise the directory walk
JPEG_BYTES = 40_000
ERROR_SHARE = 0.01
TARGET_SPEEDUP = 2.0
TARGET_RSS_MB = 50.0
POLL_SECONDS = 0.005
# (name, median inference ms) of the models an endpoint serves; --models N takes the first N.
MODELS = (
    ("blazepose-full", 20.0),
    ("blazepose-lite", 9.0),
    ("movenet-lightning", 6.0),
    ("blazepose-heavy", 60.0),
)


@dataclass(frozen=True)
class Measurement:
    seconds: float  # wall
    cpu_seconds: float  # user + system, of the child alone: steadier than wall on a busy machine
    peak_rss_mb: float
    records: int
    people: int  # summed over the photos
    per_model: tuple[tuple[str, int], ...] = ()  # predictions per model, by name


def noise_jpeg(target_bytes: int = JPEG_BYTES) -> bytes:
    """A ~40 KB JPEG of noise (incompressible, like a photo), made once."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    best = b""
    for quality in range(95, 5, -5):
        buffer = io.BytesIO()
        Image.fromarray(pixels).save(buffer, "JPEG", quality=quality)
        best = buffer.getvalue()
        if len(best) <= target_bytes:
            break
    return best


def blazepose_response(rng: random.Random, with_people: bool = True, models: int = 1) -> bytes:
    """What our server answers: 17 keypoints, 33 landmarks, timing (occasionally an error instead).

    with_people: the best person again in `people` with up to two more (one in two photos with a
    person has one, one in three two, one in six three), each with its 17 keypoints and 33 landmarks.
    """
    if rng.random() < ERROR_SHARE:
        return b'{"error": "the body is not a JPEG or PNG image"}'

    def point(name: str) -> dict:
        return {"name": name, "x": round(rng.uniform(0, 640), 2), "y": round(rng.uniform(0, 425), 2),
                "score": round(rng.random(), 4)}  # fmt: skip

    def found() -> dict:
        return {
            "score": round(rng.random(), 4),
            "box": {"x": 12.5, "y": 30.0, "width": 200.0, "height": 380.0},
            "keypoints": [point(f"keypoint_{index}") for index in range(17)],
            "landmarks": [
                {**point(f"landmark_{index}"), "z": round(rng.uniform(-1, 1), 3)} for index in range(33)
            ],
        }

    person = rng.random() < 0.9
    inference_ms = round(rng.lognormvariate(3.0, 0.35), 3)
    model, median_ms = MODELS[rng.randrange(models)] if models > 1 else MODELS[0]  # one model: as before
    inference_ms = round(inference_ms * median_ms / MODELS[0][1], 3)
    people = [found() for _ in range(rng.choice((1, 1, 1, 2, 2, 3)))] if person else [found()]
    best = people[0]
    document = {
        "model": {"name": model, "family": model.split("-")[0], "version": "mediapipe-0.10.14"},
        "image": {"width": 640, "height": 425},
        "person_detected": person,
        "score": best["score"],
        "keypoints": best["keypoints"],
        "landmarks": best["landmarks"],
    }
    if with_people:
        document["people"] = people if person else []
    document["timing"] = {
        "decode_ms": 1.2,
        "inference_ms": inference_ms,
        "total_ms": round(inference_ms + 1.7, 3),
    }
    return json.dumps(document, separators=(",", ":")).encode()  # compact, as inference/codec.py writes it


def generate(root: Path, size_bytes: int, with_people: bool, models: int = 1) -> None:
    """Capture files totalling size_bytes, per variant and hour, a new file every FILE_BYTES."""
    from monitoring.capture import Invocation, capture_line, capture_path

    rng = random.Random(7)
    photo = noise_jpeg()
    line_bytes = len(
        capture_line(
            Invocation(
                photo, "image/jpeg", blazepose_response(rng, with_people, models), "application/json", START
            )
        )
    )
    records = max(1, size_bytes // line_bytes)
    step = timedelta(seconds=HOURS * 3600 / records)
    streams: dict[str, tuple[tuple[int, int], IO[str]]] = {}
    written = dict.fromkeys(VARIANTS, 0)
    for index in range(records):
        moment = START + step * index
        variant = VARIANTS[index % 2]
        # Vary the photo cheaply: a different 8-byte counter inside the JPEG body each time.
        varied = photo[:600] + index.to_bytes(8, "big") + photo[608:]
        response = blazepose_response(rng, with_people, models)
        line = capture_line(Invocation(varied, "image/jpeg", response, "application/json", moment))
        key = (moment.hour, written[variant] // FILE_BYTES)
        if variant not in streams or streams[variant][0] != key:
            if variant in streams:
                streams[variant][1].close()
            path = capture_path(root, ENDPOINT, variant, moment, file_id=f"bench-{index:07d}")
            path.parent.mkdir(parents=True, exist_ok=True)
            streams[variant] = (key, path.open("w", encoding="utf-8"))
        streams[variant][1].write(line)
        written[variant] += len(line)
    for _, stream in streams.values():
        stream.close()


def naive(source: Path) -> None:
    """The baseline: parse everything, keep every latency, count people (as the job: see monitoring/capture.py)."""
    latencies = []
    people = 0
    per_model: dict[str, int] = {}
    for path in sorted(source.rglob("*.jsonl")):
        with path.open(encoding="utf-8") as lines:
            for text in lines:
                record = json.loads(text)
                response = json.loads(record["captureData"]["endpointOutput"]["data"])
                latency = response.get("timing", {}).get("inference_ms")
                if latency is not None:
                    latencies.append(latency)
                    model = (response.get("model") or {}).get("name") or "unknown"
                    per_model[model] = per_model.get(model, 0) + 1
                    listed = response.get("people")
                    people += len(listed) if listed is not None else int(response["person_detected"])
    latencies.sort()
    p99 = latencies[int(0.99 * (len(latencies) - 1))]
    print(json.dumps({"records": len(latencies), "people": people, "p99": p99, "per_model": per_model}))


def own_peak_rss_mb(pid: int) -> float | None:
    """VmHWM: the kernel's high-water mark of the process's own memory (since its exec)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return int(kilobytes) / 1024.0 if kilobytes else None


def measure(command: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float, str]:
    """Wall seconds, CPU seconds, peak RSS (MB) and stdout of one child.

    wait4's ru_maxrss would count this process's RSS too (exec keeps the larger of the two), so a
    thread polls the child's own VmHWM, which only grows, until the child exits.
    """
    peak = [0.0]
    done = threading.Event()

    def poll(pid: int) -> None:
        while not done.wait(POLL_SECONDS):
            peak[0] = max(peak[0], own_peak_rss_mb(pid) or 0.0)

    with tempfile.TemporaryFile() as output:
        started = time.perf_counter()
        child = subprocess.Popen(command, cwd=REPO, env=env, stdout=output, stderr=subprocess.DEVNULL)
        poller = threading.Thread(target=poll, args=(child.pid,), daemon=True)
        poller.start()
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        poller.join()
        output.seek(0)
        printed = output.read().decode()
    if child.returncode != 0:
        raise SystemExit(f"{command} exited {child.returncode}")
    return seconds, usage.ru_utime + usage.ru_stime, peak[0], printed


def run_job(source: Path, results: Path) -> Measurement:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "dataset_source": str(source),
        "output_path": str(results),
        "MONITORING_OUTPUT_ROOT": str(results / "opt-ml-output"),
        "MONITORING_JOB_CONFIG": str(results / "absent.json"),
        "start_time": START.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": (START + timedelta(hours=HOURS)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": ENDPOINT,
        "sagemaker_monitoring_schedule_name": f"{ENDPOINT}-latency",
        "THRESHOLD": "1.0",
    }
    seconds, cpu, rss, _ = measure([sys.executable, "-m", "monitoring"], env)
    statistics = json.loads((results / "statistics.json").read_text())
    features = {feature["name"]: feature["numerical_statistics"] for feature in statistics["features"]}
    predictions = features["inference_ms"]["common"]["num_present"]
    models = statistics.get("models", {}).items()
    per_model = sorted((name, model["predictions"]) for name, model in models if model["predictions"])
    people = round(features["people_per_photo"]["sum"])
    return Measurement(seconds, cpu, rss, predictions, people, tuple(per_model))


def run_naive(source: Path) -> Measurement:
    seconds, cpu, rss, printed = measure([sys.executable, __file__, "--naive", str(source)])
    counted = json.loads(printed)
    per_model = tuple(sorted(counted["per_model"].items()))
    return Measurement(seconds, cpu, rss, counted["records"], counted["people"], per_model)


def warm_page_cache(source: Path) -> tuple[int, int, int]:
    """Read everything once so both readers start from the page cache; returns (bytes, files, lines)."""
    total = files = lines = 0
    for path in source.rglob("*.jsonl"):
        files += 1
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 20):
                total += len(chunk)
                lines += chunk.count(b"\n")
    return total, files, lines


def report(size_bytes: int, files: int, records: int, job: Measurement, baseline: Measurement) -> None:
    megabytes = size_bytes / 1e6
    speedup = baseline.seconds / job.seconds
    print(
        f"data: {megabytes:,.0f} MB in {files} files, {records:,} records ({size_bytes / records / 1e3:.1f} KB/line)"
    )
    print(f"{'':20}{'MB/s':>8}{'wall s':>8}{'cpu s':>8}{'peak RSS MB':>13}{'predictions':>13}")
    for name, measured in (("naive json.loads", baseline), ("monitoring job", job)):
        print(
            f"{name:20}{megabytes / measured.seconds:8,.0f}{measured.seconds:8.2f}{measured.cpu_seconds:8.2f}"
            f"{measured.peak_rss_mb:13.1f}{measured.records:13,}"
        )
    cpu_ratio = job.cpu_seconds / baseline.cpu_seconds
    rss_ratio = job.peak_rss_mb / baseline.peak_rss_mb
    print(
        f"ratios, job / naive: throughput {speedup:.2f}x, CPU seconds {cpu_ratio:.2f}x, peak RSS {rss_ratio:.2f}x"
    )
    print(
        f"targets: throughput >= {TARGET_SPEEDUP:g}x naive: {'met' if speedup >= TARGET_SPEEDUP else 'MISSED'}; "
        f"job peak RSS <= {TARGET_RSS_MB:g} MB: {'met' if job.peak_rss_mb <= TARGET_RSS_MB else 'MISSED'}; "
        f"same predictions counted: {'yes' if job.records == baseline.records else 'NO'}; "
        f"same people counted ({job.people:,}): {'yes' if job.people == baseline.people else 'NO'}; "
        f"same predictions per model: {'yes' if job.per_model == baseline.per_model else 'NO'} "
        f"({', '.join(f'{name} {count:,}' for name, count in job.per_model)})"
    )


def compare(workdir: Path, size_mb: int, repeats: int, with_people: bool, models: int) -> None:
    started = time.perf_counter()
    capture = workdir / "capture"
    # In a child, so that numpy and PIL never load into this (measuring) process.
    generator = [sys.executable, __file__, "--generate", str(capture), "--size-mb", str(size_mb)]
    generator += [] if with_people else ["--without-people"]
    generator += ["--models", str(models)]
    subprocess.run(generator, check=True)
    size, files, records = warm_page_cache(capture)
    print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    jobs, baselines = [], []
    for repeat in range(repeats):  # interleaved, so both see the same machine
        baselines.append(run_naive(capture))
        jobs.append(run_job(capture, workdir / f"results-{repeat}"))
    fastest = min(jobs, key=lambda measured: measured.seconds)
    peak = max(measured.peak_rss_mb for measured in jobs)
    baseline = min(baselines, key=lambda measured: measured.seconds)
    report(
        size,
        files,
        records,
        replace(fastest, peak_rss_mb=peak),
        baseline,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mb", type=int, default=1024, help="capture data to generate (MiB)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each; the fastest counts")
    parser.add_argument("--tmp", type=Path, help="parent of the temporary data directory")
    parser.add_argument(
        "--without-people", action="store_true", help="responses without `people`, as older servers wrote"
    )
    parser.add_argument(
        "--models", type=int, default=1, choices=range(1, len(MODELS) + 1), help="models answering (1)"
    )
    parser.add_argument("--naive", type=Path, help=argparse.SUPPRESS)  # the baseline's own process
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)  # the generator's own process
    args = parser.parse_args()
    if args.naive:
        naive(args.naive)
        return
    if args.generate:
        generate(args.generate, args.size_mb << 20, not args.without_people, args.models)
        return
    workdir = Path(tempfile.mkdtemp(prefix="monitor-bench-", dir=args.tmp))
    try:
        compare(workdir, args.size_mb, args.repeats, not args.without_people, args.models)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
