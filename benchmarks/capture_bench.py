"""Does data capture slow serving down? Throughput through the local gateway, capture on vs off.

Starts two local stacks (100 % capture, and capture disabled), then measures them in
alternating rounds in one run so machine drift hits both alike. Target: ratio >= 0.95.

    .venv/bin/python benchmarks/capture_bench.py [--requests 200] [--concurrency 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_PHOTO = REPO.parent / "shared" / "eval" / "coco" / "000000000785.jpg"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_stack(state: Path, capture: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "deployment",
        "local",
        "--state-dir",
        str(state),
        "--set",
        f"local.port={port}",
    ]
    command += [
        "--set",
        f"data_capture.enabled={str(capture).lower()}",
        "--set",
        "data_capture.sampling_percent=100",
    ]
    if not capture:
        command += ["--set", "monitoring.enabled=false"]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if json.loads(response.read())["upstream"] == 200:
                    return process, base
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the stack at {base} did not start")


def post(base: str, photo: bytes) -> float:
    started = time.perf_counter()
    request = urllib.request.Request(f"{base}/predict", photo, {"Content-Type": "image/jpeg"})
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()
    return time.perf_counter() - started


def measure(base: str, photo: bytes, requests: int, concurrency: int) -> tuple[float, list[float]]:
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(lambda _: post(base, photo), range(concurrency * 2)))  # warm up
        started = time.perf_counter()
        latencies = list(pool.map(lambda _: post(base, photo), range(requests)))
    return requests / (time.perf_counter() - started), latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    photo = args.photo.read_bytes()
    with tempfile.TemporaryDirectory() as scratch:
        stacks = {
            "capture 100%": start_stack(Path(scratch) / "on", capture=True),
            "capture off": start_stack(Path(scratch) / "off", capture=False),
        }
        rates: dict[str, list[float]] = {name: [] for name in stacks}
        latencies: dict[str, list[float]] = {name: [] for name in stacks}
        try:
            for _ in range(args.rounds):
                for name, (_, base) in stacks.items():
                    rate, seconds = measure(base, photo, args.requests, args.concurrency)
                    rates[name].append(rate)
                    latencies[name] += seconds
            captured = sum(1 for path in (Path(scratch) / "on").rglob("*.jsonl") for _ in path.open())
        finally:
            for process, _ in stacks.values():
                process.send_signal(signal.SIGTERM)
                process.wait(timeout=60)
    print(
        f"photo {args.photo.name} ({len(photo) // 1024} KB), concurrency {args.concurrency}, "
        f"{args.rounds} alternating rounds of {args.requests} requests"
    )
    for name in stacks:
        p50 = statistics.median(latencies[name]) * 1000
        p99 = statistics.quantiles(latencies[name], n=100)[98] * 1000
        print(
            f"  {name:<13} {statistics.median(rates[name]):7.1f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms"
        )
    ratio = statistics.median(rates["capture 100%"]) / statistics.median(rates["capture off"])
    print(f"  records captured: {captured}")
    print(f"throughput ratio, capture 100% / capture off: {ratio:.3f}  (target >= 0.95)")


if __name__ == "__main__":
    main()
