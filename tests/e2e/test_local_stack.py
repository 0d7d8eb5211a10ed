"""`python -m deployment local` as a newcomer runs it: real processes on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, local_stack


def request(url: str, body: bytes | None = None, content_type: str = "") -> tuple[int, dict, bytes]:
    headers = {"Content-Type": content_type} if content_type else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, body, headers), timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deployment", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def monitor_now(state: Path, *overrides: str) -> Path:
    """`monitor --now --local` with `--set` overrides; the run's folder."""
    sets = [arg for override in overrides for arg in ("--set", override)]
    result = run_cli("monitor", "--now", "--local", "--state-dir", str(state), *sets)
    assert result.returncode == 0, result.stderr
    return sorted((state / "monitoring").iterdir())[-1]


@pytest.fixture(scope="module")
def stack(tmp_path_factory, blazepose_dir):
    state = tmp_path_factory.mktemp("local")
    with local_stack(state, stop_signal=signal.SIGINT) as base:  # stopped as Ctrl-C stops it
        yield base, state


def captured_records(state: Path, at_least: int = 0) -> list[dict]:
    """Capture is written right after the response is sent, so wait (bounded) for it to appear."""
    deadline = time.monotonic() + 10
    while True:
        files = sorted((state / "capture").rglob("*.jsonl"))
        records = [json.loads(line) for path in files for line in path.read_text().splitlines()]
        if len(records) >= at_least or time.monotonic() > deadline:
            return records
        time.sleep(0.05)


def test_predictions_are_served_and_captured_in_sagemakers_format(stack, photo_785):
    base, state = stack
    before = len(captured_records(state))
    status, headers, body = request(f"{base}/predict", photo_785, "image/jpeg")
    assert status == 200 and len(json.loads(body)["keypoints"]) == 17
    records = captured_records(state, at_least=before + 1)
    assert len(records) == before + 1
    record = records[-1]
    assert base64.b64decode(record["captureData"]["endpointInput"]["data"]) == photo_785
    assert json.loads(record["captureData"]["endpointOutput"]["data"]) == json.loads(body)
    assert record["eventMetadata"]["inferenceId"] == headers["X-Inference-Id"]
    layout = sorted((state / "capture").rglob("*.jsonl"))[-1].relative_to(state / "capture").parts
    assert (
        layout[:2] == ("pose-dev", "AllTraffic") and len(layout) == 7
    )  # endpoint/variant/yyyy/mm/dd/hh/file


def test_bad_requests_get_the_servers_errors_and_the_stack_keeps_serving(stack, photo_785):
    base, _ = stack
    status, _, body = request(f"{base}/predict", b"just text", "text/plain")
    assert status == 415 and "unsupported Content-Type" in json.loads(body)["error"]
    status, _, body = request(f"{base}/predict", b"x" * (6 * 1024 * 1024 + 1), "image/jpeg")
    assert status == 413
    assert request(f"{base}/nowhere")[0] == 404
    assert request(f"{base}/predict", photo_785, "image/jpeg")[0] == 200


def test_the_page_is_served_with_the_local_api_url(stack):
    base, _ = stack
    status, headers, body = request(f"{base}/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/predict" in body


def test_monitor_now_local_reports_on_the_captured_traffic(stack, photo_785):
    base, state = stack
    before = len(captured_records(state))
    for _ in range(3):
        assert request(f"{base}/predict", photo_785, "image/jpeg")[0] == 200
    captured_records(state, at_least=before + 3)
    run = monitor_now(state)
    statistics = json.loads((run / "statistics.json").read_text())
    assert "Completed" in (run / "message").read_text()
    assert json.dumps(statistics).count("inference") > 0
    assert json.loads((run / "constraint_violations.json").read_text()) == {"violations": []}
    status, _, page = request(f"{base}/monitoring")
    assert status == 200 and b"<svg" in page


def test_a_tiny_threshold_raises_the_latency_violation(stack, photo_785):
    base, state = stack
    assert request(f"{base}/predict", photo_785, "image/jpeg")[0] == 200
    run = monitor_now(state, "monitoring.threshold_seconds=0.000001", "alerts.emails=[oncall@example.com]")
    assert (run / "message").read_text().startswith("CompletedWithViolations")
    violations = json.loads((run / "constraint_violations.json").read_text())["violations"]
    assert [v["constraint_check_type"] for v in violations] == ["latency_threshold_check"]
    # The local stand-in for the alarm on the monitor's violations: one line, naming who it would mail.
    alerts = [json.loads(line) for line in (state / "alerts.jsonl").read_text().splitlines()]
    assert (alerts[-1]["alarm"], alerts[-1]["run"], alerts[-1]["would_notify"]) == (
        "pose-dev-monitor-violations",
        str(run),
        ["oncall@example.com"],
    )
    assert alerts[-1]["message"].startswith("CompletedWithViolations")


def usage_samples(state: Path) -> list[dict]:
    files = sorted((state / "usage").rglob("*.jsonl"))
    return [json.loads(line) for path in files for line in path.read_text().splitlines()]


def test_the_servers_cpu_and_memory_are_in_the_monitoring_statistics(stack, photo_785):
    base, state = stack
    for _ in range(4):
        assert request(f"{base}/predict", photo_785, "image/jpeg")[0] == 200
    served = time.time()
    # The sampler writes every few seconds: wait (bounded) for a sample taken after the traffic.
    deadline = time.monotonic() + 30
    while not any(
        sample["MetricName"] == "CPUUtilization"
        and datetime.fromisoformat(sample["Timestamp"]).timestamp() >= int(served)
        for sample in usage_samples(state)
    ):
        assert time.monotonic() < deadline, (state / "stack.log").read_text()
        time.sleep(0.2)
    samples = usage_samples(state)
    layout = sorted((state / "usage").rglob("*.jsonl"))[-1].relative_to(state / "usage").parts
    assert layout[:2] == ("pose-dev", "AllTraffic") and len(layout) == 7  # as capture is laid out
    run = monitor_now(state)
    section = json.loads((run / "statistics.json").read_text())["endpoint_resources"]
    assert section["source"] == f"local samples in {state / 'usage'}"
    files = sorted(str(path) for path in (state / "usage").rglob("*"))
    assert section["unavailable"] == [], (section["problems"], files, run.name, samples[-3:])
    assert section["vcpus"] == os.cpu_count()
    metrics = section["metrics"]
    # The predictions took CPU; the server (a front process and a worker per core, each with its
    # model) holds tens of megabytes at least; as a share of the machine, that resident memory.
    assert metrics["CPUUtilization"]["max"] > 0
    assert section["cpu_percent_per_core"]["max"] == pytest.approx(
        metrics["CPUUtilization"]["max"] / os.cpu_count(), abs=0.01
    )
    resident = metrics["MemoryResidentBytes"]["max"]
    assert resident > 50 * 2**20
    total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert metrics["MemoryUtilization"]["max"] == pytest.approx(100 * resident / total, rel=0.05)
    assert max(s["Value"] for s in samples if s["MetricName"] == "CPUUtilization") > 0
    status, _, page = request(f"{base}/monitoring")
    assert status == 200 and b"Endpoint resources" in page and b"CPU per core" in page


def test_a_memory_threshold_below_the_servers_use_is_a_violation(stack):
    _, state = stack
    deadline = time.monotonic() + 30
    while not any(sample["MetricName"] == "MemoryUtilization" for sample in usage_samples(state)):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    run = monitor_now(state, "monitoring.max_memory_percent=0.001")
    violations = json.loads((run / "constraint_violations.json").read_text())["violations"]
    (memory,) = [v for v in violations if v["feature_name"] == "memory_utilization_percent"]
    assert memory["constraint_check_type"] == "resource_threshold_check"
    assert "exceeds the threshold of 0.001% (MAX_MEMORY_PERCENT=0.001)" in memory["description"]
