"""Claim: the HTTP server costs little over the pipeline it wraps, and starts fast enough for SageMaker.

Measures, in one run: requests/s and p50/p99 latency of `python -m inference serve` against the same
`Predictor.predict` called in-process (the limit), on a ~640 px photo and on a 12-megapixel one, at
each concurrency; the time from process start to the first /ping 200; the cost of a 12 MP
request relative to the model's own invoke time; and /ping latency while 48 and 100 clients keep
posting 12 MP photos, beside /ping on the idle server. Targets: server >= 0.9x in-process, 12 MP
request <= 3x one invoke, /ping 200 within 2 s of process start, /ping under load within 50 ms
(SageMaker marks an instance unhealthy past 2 s).

    .venv/bin/python benchmarks/serve_bench.py [--model NAME] [--photo PATH] [--requests N]
"""

from __future__ import annotations

import argparse
import http.client
import io
import multiprocessing
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script (`make bench`): make `inference` importable

from inference.catalog import CATALOG, DEFAULT_MODEL  # noqa: E402
from inference.fetch import fetch  # noqa: E402

HOST = "127.0.0.1"
DEFAULT_PHOTO = REPO.parent / "shared" / "eval" / "coco" / "000000000785.jpg"
SIZE_12MP = (4032, 3024)
START_DEADLINE_SECONDS = 60.0
POLL_SECONDS = 0.005
TARGET_SERVER_RATIO = 0.9
TARGET_12MP_OVER_INVOKE = 3.0
TARGET_PING_SECONDS = 2.0
TARGET_PING_UNDER_LOAD_MS = 50.0
PING_PROBES = 40
PING_SPACING_SECONDS = 0.05


# ---------------------------------------------------------------- measuring


@dataclass
class Tally:
    """One (photo, concurrency, mode), accumulated over its rounds."""

    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    serving_cpu: float = 0.0  # server master + workers, or the limit processes
    client_cpu: float = 0.0  # this process: the HTTP client threads (about 0 for the limit)
    other_cpu: float = 0.0  # everything else on the machine: noise

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies) / self.wall

    def percentile_ms(self, q: float) -> float:
        return float(np.percentile(self.latencies, q)) * 1000.0

    def per_request_ms(self, cpu: float) -> float:
        return cpu * 1000.0 / len(self.latencies)


def cpu_seconds(processes: list[psutil.Process]) -> float:
    return sum(sum(process.cpu_times()[:2]) for process in processes)


def machine_busy_seconds() -> float:
    times = psutil.cpu_times()
    return times.user + times.nice + times.system + times.irq + times.softirq + times.steal


class Round:
    """Time one round and split the machine's CPU into ours and everyone else's."""

    def __init__(self, tally: Tally, serving: list[psutil.Process]) -> None:
        self._tally, self._serving, self._client = tally, serving, psutil.Process()

    def __enter__(self) -> Round:
        self._start = (time.perf_counter(), cpu_seconds(self._serving), cpu_seconds([self._client]))
        self._busy = machine_busy_seconds()
        self.reported_cpu: float | None = None  # limit processes report their own CPU
        return self

    def __exit__(self, *exc_info) -> None:
        started, serving, client = self._start
        tally = self._tally
        tally.wall += time.perf_counter() - started
        serving = self.reported_cpu if self.reported_cpu is not None else cpu_seconds(self._serving) - serving
        client = cpu_seconds([self._client]) - client
        tally.serving_cpu += serving
        tally.client_cpu += client
        tally.other_cpu += max(0.0, machine_busy_seconds() - self._busy - serving - client)


def limit_process(model_dir: str, threads: int, photo: bytes, plan: tuple, barrier, results) -> None:
    """One limit process: its own Predictor, the same call the server makes per request."""
    from inference.predictor import Predictor

    warmup, rounds, count = plan
    predictor = Predictor(Path(model_dir), threads=threads)
    for _ in range(warmup):
        predictor.predict(photo, "image/jpeg")
    for _ in range(rounds):
        barrier.wait()
        cpu_started, latencies = time.process_time(), []
        for _ in range(count):
            begun = time.perf_counter()
            predictor.predict(photo, "image/jpeg")
            latencies.append(time.perf_counter() - begun)
        results.put((time.process_time() - cpu_started, latencies))


class Limit:
    """The in-process limit at concurrency c: c processes, not threads. The server runs one process
    per worker, so this is the same compute layout minus HTTP; threads would add GIL contention
    (letterbox and JSON are Python) and lower the limit, flattering the server. Processes give the
    stricter limit. They stay up across rounds and wait on a barrier while the server is measured."""

    def __init__(self, model_dir: Path, threads: int, photo: bytes, concurrency: int, plan: tuple) -> None:
        context = multiprocessing.get_context("spawn")  # never fork after a TFLite interpreter exists
        self._barrier = context.Barrier(concurrency + 1)
        self._results = context.Queue()
        args = (str(model_dir), threads, photo, plan, self._barrier, self._results)
        self._processes = [context.Process(target=limit_process, args=args) for _ in range(concurrency)]
        for process in self._processes:
            process.start()

    def run_round(self, tally: Tally) -> None:
        self._barrier.wait(timeout=600)
        with Round(tally, []) as timed:
            runs = [self._results.get(timeout=600) for _ in self._processes]
            timed.reported_cpu = sum(cpu for cpu, _ in runs)
        tally.latencies += [latency for _, latencies in runs for latency in latencies]

    def close(self) -> None:
        for process in self._processes:
            process.join(timeout=60)
            if process.exitcode != 0:
                raise SystemExit(f"a limit process failed with exit code {process.exitcode}")


def post(port: int, path: str, body: bytes | None = None, method: str = "POST") -> int:
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    try:
        headers = {"Content-Type": "image/jpeg"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def server_round(port: int, photo: bytes, concurrency: int, count: int, tally: Tally, serving: list) -> None:
    """`concurrency` client threads, a new connection per request (the server closes each anyway)."""
    start = threading.Barrier(concurrency)
    latencies: list[float] = []
    failures: list[int] = []

    def client() -> None:
        start.wait()
        for _ in range(count):
            begun = time.perf_counter()
            status = post(port, "/invocations", photo)
            latencies.append(time.perf_counter() - begun)
            if status != 200:
                failures.append(status)

    clients = [threading.Thread(target=client) for _ in range(concurrency)]
    with Round(tally, serving):
        for thread in clients:
            thread.start()
        for thread in clients:
            thread.join()
    if failures:
        raise SystemExit(f"{len(failures)} requests failed: statuses {sorted(set(failures))}")
    tally.latencies += latencies


def measure_cell(args: argparse.Namespace, photo: bytes, concurrency: int, master: psutil.Process) -> tuple:
    """Alternate rounds of the limit and of the server, so both see the same background load."""
    count = max(1, args.requests // (args.rounds * concurrency))  # per round and per client
    limit = Limit(args.model_dir, args.threads, photo, concurrency, (args.warmup, args.rounds, count))
    serving = [master, *master.children()]
    server_round(args.port, photo, concurrency, args.warmup, Tally(), serving)  # warm-up
    limit_tally, server_tally = Tally(), Tally()
    for _ in range(args.rounds):
        limit.run_round(limit_tally)
        server_round(args.port, photo, concurrency, count, server_tally, serving)
    limit.close()
    return limit_tally, server_tally


@dataclass(frozen=True)
class ModelCost:
    invoke_ms: float  # the bare invokes of every model one prediction runs, on tensors already set
    predict_12mp_ms: float  # the whole Predictor.predict of the 12 MP JPEG


def model_cost(model_dir: Path, threads: int, photo_12mp: bytes, repeats: int = 60) -> ModelCost:
    """Medians of predict(12 MP) and of the bare model invokes, alternated so both see the same machine.

    "The model's own invoke time" is every network one prediction runs (BlazePose: detector and
    landmarks), each invoked bare on the input the prediction left in its tensor.
    """
    from inference.predictor import Predictor

    predictor = Predictor(model_dir, threads=threads)
    interpreters = predictor.pipeline.interpreters
    predicts, invokes = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        predictor.predict(photo_12mp, "image/jpeg")  # leaves each model's input in its tensor
        predicted = time.perf_counter()
        for interpreter in interpreters:
            interpreter.invoke()
        invokes.append(time.perf_counter() - predicted)
        predicts.append(predicted - started)
    return ModelCost(float(np.median(invokes)) * 1000.0, float(np.median(predicts)) * 1000.0)


def probe_pings(port: int, count: int) -> list[float]:
    """/ping latencies in seconds, one every PING_SPACING_SECONDS (run in its own process, so the
    load's client threads do not delay it through this interpreter's GIL)."""
    latencies = []
    for _ in range(count):
        begun = time.perf_counter()
        status = post(port, "/ping", method="GET")
        latencies.append(time.perf_counter() - begun)
        if status != 200:
            raise SystemExit(f"/ping answered {status} under load")
        time.sleep(PING_SPACING_SECONDS)
    return latencies


def ping_under_load(port: int, photo: bytes, clients: int) -> list[float]:
    """/ping latencies while `clients` threads keep posting `photo` (0 clients: the idle server)."""
    stop = threading.Event()

    def client() -> None:
        while not stop.is_set():
            post(port, "/invocations", photo)

    load = [threading.Thread(target=client) for _ in range(clients)]
    for thread in load:
        thread.start()
    if clients:
        time.sleep(1.0)  # let the queue behind the workers build up
    with multiprocessing.get_context("spawn").Pool(1) as prober:
        latencies = prober.apply(probe_pings, (port, PING_PROBES))
    stop.set()
    for thread in load:
        thread.join()
    return latencies


# ---------------------------------------------------------------- the server process


@dataclass(frozen=True)
class Startup:
    connect_seconds: float  # Popen -> first accepted TCP connection
    ping_seconds: float  # Popen -> first /ping 200
    all_loaded_seconds: float  # Popen -> every worker has logged its model loaded


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def start_server(
    model_dir: Path, port: int, workers: int, log_path: Path
) -> tuple[subprocess.Popen, Startup]:
    """Start `python -m inference serve` and time its readiness, polling every few milliseconds."""
    env = {k: v for k, v in os.environ.items() if k not in ("PORT", "SAGEMAKER_BIND_TO_PORT", "MODEL_DIR")}
    command = [sys.executable, "-m", "inference", "serve", "--model-dir", str(model_dir)]
    command += ["--host", HOST, "--port", str(port), "--workers", str(workers)]
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    connect = ping = None
    while time.perf_counter() < started + START_DEADLINE_SECONDS and process.poll() is None:
        try:
            status = post(port, "/ping", method="GET")
        except OSError:  # not listening yet
            time.sleep(POLL_SECONDS)  # a tight loop would steal the CPU the server starts with
            continue
        now = time.perf_counter()
        connect = connect or now - started
        if status == 200 and ping is None:
            ping = now - started
        if ping and log_path.read_text(errors="replace").count("loaded model") >= workers:
            return process, Startup(connect, ping, now - started)
        time.sleep(POLL_SECONDS)
    process.kill()
    raise SystemExit(f"the server was not ready within {START_DEADLINE_SECONDS} s:\n{log_path.read_text()}")


# ---------------------------------------------------------------- report


def make_12mp(photo: bytes) -> bytes:
    buffer = io.BytesIO()
    upscaled = Image.open(io.BytesIO(photo)).convert("RGB").resize(SIZE_12MP, Image.Resampling.BICUBIC)
    upscaled.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def print_table(cells: dict[tuple[str, int], tuple[Tally, Tally]]) -> None:
    print(
        f"{'photo':<7}{'c':>2} | {'in-process: req/s':>17}{'p50':>6}{'p99':>6}{'cpu':>6}{'other':>6} | "
        f"{'server: req/s':>13}{'p50':>6}{'p99':>6}{'cpu':>6}{'client':>7}{'other':>6} | "
        "server/in-process: req/s (cpu)"
    )
    for (name, concurrency), (limit, server) in cells.items():
        ratio = server.requests_per_second / limit.requests_per_second
        cpu_ratio = server.per_request_ms(server.serving_cpu) / limit.per_request_ms(limit.serving_cpu)
        print(
            f"{name:<7}{concurrency:>2} | {limit.requests_per_second:>17.1f}{limit.percentile_ms(50):>6.1f}"
            f"{limit.percentile_ms(99):>6.1f}{limit.per_request_ms(limit.serving_cpu):>6.1f}"
            f"{limit.other_cpu / limit.wall:>6.2f} | {server.requests_per_second:>13.1f}"
            f"{server.percentile_ms(50):>6.1f}{server.percentile_ms(99):>6.1f}"
            f"{server.per_request_ms(server.serving_cpu):>6.1f}{server.per_request_ms(server.client_cpu):>7.1f}"
            f"{server.other_cpu / server.wall:>6.2f} | {ratio:.2f}x ({cpu_ratio:.2f}x)  "
            f"{verdict(ratio >= TARGET_SERVER_RATIO)}"
        )
    print(
        "p50, p99: latency ms; cpu: CPU ms per request of the serving processes; client: of the HTTP\n"
        "client (this process); other: cores busy with anything else on the machine meanwhile (noise)"
    )


def print_pings(pings: dict[int, list[float]]) -> None:
    idle = float(np.percentile(pings[0], 50)) * 1000.0
    for clients, latencies in pings.items():
        p50, p99 = (float(np.percentile(latencies, q)) * 1000.0 for q in (50, 99))
        worst = max(latencies) * 1000.0
        label = "idle server" if not clients else f"{clients} clients posting 12MP"
        print(
            f"/ping with {label:<25}: p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  max {worst:6.2f} ms  "
            f"(p50 {p50 / idle:.1f}x idle)  {verdict(worst <= TARGET_PING_UNDER_LOAD_MS)}"
        )


def print_summary(startup: Startup, cost: ModelCost, cells: dict, threads: int) -> None:
    print(
        f"ping 200 after {startup.ping_seconds:.2f} s from process start (first connection accepted "
        f"after {startup.connect_seconds:.2f} s, every worker loaded after {startup.all_loaded_seconds:.2f} s): "
        f"{verdict(startup.ping_seconds <= TARGET_PING_SECONDS)}"
    )
    _, server = cells[min(key for key in cells if key[0] == "12MP")]
    request_ms, invoke_ms = server.percentile_ms(50), cost.invoke_ms
    print(
        f"model invokes (bare, every network of one prediction, {threads} thread(s)): {invoke_ms:.1f} ms median"
    )
    print(
        f"12MP request / model invoke = {request_ms / invoke_ms:.1f}x (server p50 {request_ms:.1f} ms, "
        f"lowest concurrency): {verdict(request_ms / invoke_ms <= TARGET_12MP_OVER_INVOKE)}"
    )
    print(
        f"12MP in-process predict / model invoke = {cost.predict_12mp_ms / invoke_ms:.1f}x "
        f"(medians, alternated in one process: {cost.predict_12mp_ms:.1f} ms / {invoke_ms:.1f} ms)"
    )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, choices=sorted(CATALOG))
    parser.add_argument("--photo", type=Path, default=DEFAULT_PHOTO, help="a JPEG of a person (~640 px)")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per cell and mode")
    parser.add_argument("--rounds", type=int, default=10, help="alternating limit/server rounds per cell")
    parser.add_argument("--warmup", type=int, default=10, help="unmeasured requests per process or client")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--workers", type=int, default=2, help="server workers (its default: one per core)")
    parser.add_argument("--ping-clients", type=int, nargs="*", default=[48, 100], help="loads for /ping")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cores = len(os.sched_getaffinity(0))
    args.threads = max(1, cores // args.workers)  # the server's default TFLite threads per worker
    args.model_dir = fetch(CATALOG[args.model])
    args.port = free_port()
    small = args.photo.read_bytes()
    photos = {f"{Image.open(args.photo).width}px": small, "12MP": make_12mp(small)}
    print(
        f"model {args.model}; {cores} cores; server: {args.workers} workers x {args.threads} TFLite thread(s); "
        f"limit: c processes x {args.threads} thread(s); {args.requests} requests per cell and mode in "
        f"{args.rounds} alternating rounds; 12MP JPEG {len(photos['12MP']) / 1e6:.2f} MB\n"
    )
    with tempfile.TemporaryDirectory() as scratch:
        process, startup = start_server(args.model_dir, args.port, args.workers, Path(scratch) / "server.log")
        try:
            master = psutil.Process(process.pid)
            cells = {
                (name, concurrency): measure_cell(args, photo, concurrency, master)
                for name, photo in photos.items()
                for concurrency in args.concurrency
            }
            pings = {
                clients: ping_under_load(args.port, photos["12MP"], clients)
                for clients in [0, *args.ping_clients]
            }
        finally:
            process.terminate()
            process.wait(timeout=60)
    print_table(cells)
    print()
    print_pings(pings)
    print()
    print_summary(startup, model_cost(args.model_dir, args.threads, photos["12MP"]), cells, args.threads)


if __name__ == "__main__":
    main()
