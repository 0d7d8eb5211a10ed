"""Shared fixtures: real photos with ground truth, and real model directories."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from inference.evaluation import EvalPhoto, load_eval_set

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
EVAL_DIR = SHARED / "eval" / "coco"
MOVENET_LIGHTNING = (
    SHARED / "models" / "movenet" / "lite-model_movenet_singlepose_lightning_tflite_int8_4.tflite"
)


# .ci/run sets STRICT_TESTS=1: there every test must run, and a missing input fails instead of
# skipping. A fork's own GitHub Actions run has no ../shared, so its tests that need it skip.
STRICT = os.environ.get("STRICT_TESTS") == "1"
# `make image-test` builds and runs both images: minutes, and a container engine. `make test` leaves
# those tests out; POSE_IMAGE_TESTS=1 (set by the make target) brings them in.
collect_ignore = [] if os.environ.get("POSE_IMAGE_TESTS") == "1" else ["images"]
# `make pipeline-test` runs the workflow files with act against fakes: minutes. POSE_PIPELINE_TESTS=1
# (set by the make target) brings tests/pipeline in.
if os.environ.get("POSE_PIPELINE_TESTS") != "1":
    collect_ignore.append("pipeline")


def require(path: Path, what: str) -> Path:
    """`path`, or a skip naming it (a failure under STRICT_TESTS=1)."""
    if not path.exists():
        if STRICT:
            pytest.fail(f"{path} is missing ({what}); STRICT_TESTS=1 runs every test")
        pytest.skip(f"{path} not present ({what})")
    return path


def _require_shared(path: Path) -> Path:
    """The shared evaluation data sits beside the repository (SHARED_DIR moves it)."""
    return require(path, "the shared evaluation data; set SHARED_DIR")


@pytest.fixture(scope="session")
def eval_photos() -> list[EvalPhoto]:
    """The shared COCO photos with their keypoint annotations (one loader: inference.evaluation)."""
    return load_eval_set(_require_shared(EVAL_DIR))


@pytest.fixture(scope="session")
def photo_785() -> bytes:
    """A 640x425 COCO photo of one standing person."""
    return (_require_shared(EVAL_DIR) / "000000000785.jpg").read_bytes()


@pytest.fixture(scope="session")
def blazepose_dir() -> Path:
    from inference.catalog import CATALOG
    from inference.fetch import fetch

    return fetch(CATALOG["blazepose-full"])


@pytest.fixture(scope="session")
def movenet_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from inference.catalog import resolve
    from inference.fetch import fetch

    spec = resolve(str(_require_shared(MOVENET_LIGHTNING)), family="movenet")
    return fetch(spec, tmp_path_factory.mktemp("models"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _upstream_status(base: str) -> object:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
            return json.loads(response.read()).get("upstream")
    except (urllib.error.URLError, OSError, ValueError):
        return None


@contextmanager
def local_stack(
    state: Path, *overrides: str, stop_signal: int = signal.SIGTERM, start_seconds: float = 90
) -> Iterator[str]:
    """`python -m deployment local` on a free port, logging to `state/stack.log`; yields its base URL
    once the model answers, and stops it with `stop_signal` (SIGINT plays Ctrl-C)."""
    port = free_port()
    command = [sys.executable, "-m", "deployment", "local", "--state-dir", str(state)]
    for override in (f"local.port={port}", *overrides):
        command += ["--set", override]
    log_path = state / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds
        while _upstream_status(base) != 200:
            if process.poll() is not None:
                pytest.fail(f"the local stack exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the local stack was not ready within {start_seconds}s:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
