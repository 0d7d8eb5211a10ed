"""Claim: a model on a multi-model server costs a load on its first request, then serves as fast
as the same model on a single-model server.

Measures, in one run, for each model: the cold first request on a multi-model server (POST /models
then the first POST /models/{name}/invoke, as SageMaker does for a model it has not loaded), beside
the single-model server's first request after /ping 200 and its whole start (process start to the
first answer); then the steady-state latency (p50, p90) of the multi-model server, its one worker
switching model on every request, beside a single-model server of that model alone, the requests
taking turns between the servers. Every server runs one worker, on the same photo. Target: steady-state p50 within 1.1x of single-model serving.

    .venv/bin/python benchmarks/multi_model_bench.py [--models A,B] [--requests N] [--rounds N]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference.catalog import CATALOG  # noqa: E402
from inference.fetch import fetch  # noqa: E402

HOST = "127.0.0.1"
PHOTO = REPO.parent / "shared" / "eval" / "coco" / "000000000785.jpg"
START_DEADLINE_SECONDS = 60.0
TARGET_STEADY_RATIO = 1.1


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def call(port: int, method: str, path: str, body: bytes | None = None, kind: str = "image/jpeg") -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        connection.request(method, path, body=body, headers={"Content-Type": kind})
        response = connection.getresponse()
        response.read()
        return response.status
    except OSError:
        return 0
    finally:
        connection.close()


def timed(port: int, method: str, path: str, body: bytes | None = None, kind: str = "image/jpeg") -> float:
    started = time.perf_counter()
    status = call(port, method, path, body, kind)
    if status != 200:
        raise SystemExit(f"{method} {path} answered {status}")
    return time.perf_counter() - started


@contextmanager
def server(args: list[str]) -> Iterator[tuple[int, float]]:
    """A one-worker server; yields its port and when it was started (perf_counter)."""
    port = free_port()
    command = [sys.executable, "-m", "inference", "serve", *args, "--host", HOST, "--port", str(port)]
    started = time.perf_counter()
    environment = {key: value for key, value in os.environ.items() if key != "SAGEMAKER_MULTI_MODEL"}
    process = subprocess.Popen(
        [*command, "--workers", "1"], cwd=REPO, env=environment, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_DEADLINE_SECONDS
        while call(port, "GET", "/ping") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the server ({' '.join(command)}) did not start")
            time.sleep(0.002)
        yield port, started
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def load_body(name: str, model_dir: Path) -> bytes:
    return json.dumps({"model_name": name, "url": str(model_dir)}).encode()


def single_start(model_dir: Path, photo: bytes) -> dict[str, float]:
    """A fresh single-model server: its first request after /ping, and process start to that answer."""
    with server(["--model-dir", str(model_dir)]) as (port, started):
        first = timed(port, "POST", "/invocations", photo)
        return {"first": first, "start": time.perf_counter() - started}


def cold_loads(port: int, dirs: dict[str, Path], photo: bytes, rounds: int) -> dict[str, list]:
    """Load + first invoke of each model, then unload it for the next round."""
    cold: dict[str, list] = {name: [] for name in dirs}
    for _ in range(rounds):
        for name, model_dir in dirs.items():
            load = timed(port, "POST", "/models", load_body(name, model_dir), "application/json")
            first = timed(port, "POST", f"/models/{name}/invoke", photo)
            cold[name].append((load, first))
            timed(port, "DELETE", f"/models/{name}")
    return cold


def steady(dirs: dict[str, Path], photo: bytes, requests: int, multi_port: int) -> dict[str, dict]:
    """Requests in turn: model A on the multi-model server, A on its own server, then B..., so both
    meet the same machine; the multi-model worker switches model on every request, as a page
    comparing models makes it."""
    results = {name: {"multi": [], "single": []} for name in dirs}
    for name, model_dir in dirs.items():
        timed(multi_port, "POST", "/models", load_body(name, model_dir), "application/json")
    with ExitStack() as servers:
        single_ports = {
            name: servers.enter_context(server(["--model-dir", str(d)]))[0] for name, d in dirs.items()
        }
        for _ in range(requests):
            for name in dirs:
                results[name]["multi"].append(timed(multi_port, "POST", f"/models/{name}/invoke", photo))
                results[name]["single"].append(timed(single_ports[name], "POST", "/invocations", photo))
    return results


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def report(name: str, single: dict, cold: list, runs: dict) -> bool:
    load = float(np.median([load for load, _ in cold]))
    first = float(np.median([first for _, first in cold]))
    single_p50, multi_p50 = (float(np.percentile(runs[kind], 50)) for kind in ("single", "multi"))
    single_p90, multi_p90 = (float(np.percentile(runs[kind], 90)) for kind in ("single", "multi"))
    print(f"\n{name}")
    print(f"  cold, multi-model: load {ms(load)} + first invoke {ms(first)} = {ms(load + first)}")
    print(
        f"  single-model: first request after /ping {ms(single['first'])}, start to first answer {ms(single['start'])}"
    )
    print(f"  cold multi-model / single-model first request: {(load + first) / single['first']:5.2f}x")
    print(f"  cold multi-model / single-model start:         {(load + first) / single['start']:5.2f}x")
    print(
        f"  steady p50: multi {ms(multi_p50)}  single {ms(single_p50)}  ratio {multi_p50 / single_p50:5.2f}x"
    )
    print(
        f"  steady p90: multi {ms(multi_p90)}  single {ms(single_p90)}  ratio {multi_p90 / single_p90:5.2f}x"
    )
    return multi_p50 / single_p50 <= TARGET_STEADY_RATIO


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", default="blazepose-lite,blazepose-full")
    parser.add_argument("--requests", type=int, default=30, help="steady-state requests per model")
    parser.add_argument("--rounds", type=int, default=5, help="cold loads per model")
    args = parser.parse_args()
    dirs = {name: fetch(CATALOG[name]) for name in args.models.split(",")}
    photo = PHOTO.read_bytes()
    singles = {name: single_start(model_dir, photo) for name, model_dir in dirs.items()}
    with server(["--multi-model"]) as (port, _):
        cold = cold_loads(port, dirs, photo, args.rounds)
        runs = steady(dirs, photo, args.requests, port)
    print(f"one worker each, {args.requests} steady requests per model, {args.rounds} cold loads (medians)")
    met = [report(name, singles[name], cold[name], runs[name]) for name in dirs]
    verdict = "met" if all(met) else "NOT met"
    print(f"\ntarget: steady-state p50 within {TARGET_STEADY_RATIO}x of single-model serving: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
