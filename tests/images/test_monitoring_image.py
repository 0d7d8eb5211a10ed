"""The monitoring image run as a SageMaker processing job runs it: the capture files mounted under
/opt/ml/processing/input, the documented environment, /opt/ml/processing/resultdata and
/opt/ml/output writable, no arguments."""

from __future__ import annotations

import json
from pathlib import Path

from tests.e2e.test_monitoring_container import assert_expected_statistics, dataset, sagemaker_environment
from tests.images.engine import Engine

INPUT = "/opt/ml/processing/input/endpoint"
RESULTS = "/opt/ml/processing/resultdata"

__all__ = ["dataset"]  # the capture files of three hours, shared with the in-process contract tests


def run_job(engine: Engine, image: str, dataset: Path, tmp_path: Path, **overrides: str):
    results, output = tmp_path / "resultdata", tmp_path / "opt-ml-output"
    results.mkdir()
    output.mkdir()
    environment = sagemaker_environment(
        dataset, tmp_path, dataset_source=INPUT, output_path=RESULTS, **overrides
    )
    args = ["run", "--rm", "--volume", f"{dataset}:{INPUT}:ro", "--volume", f"{results}:{RESULTS}"]
    args += ["--volume", f"{output}:/opt/ml/output"]
    for name, value in environment.items():
        args += ["--env", f"{name}={value}"]
    completed = engine.run(*args, image, check=False, timeout=300)
    return completed, results, (output / "message").read_text()


def test_a_window_with_traffic_completes_with_statistics(engine, monitoring_image, dataset, tmp_path):
    completed, results, message = run_job(engine, monitoring_image, dataset, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert message.startswith("Completed:")
    assert json.loads((results / "constraint_violations.json").read_text()) == {"violations": []}
    assert_expected_statistics(json.loads((results / "statistics.json").read_text()))


def test_a_window_over_the_threshold_is_a_violation(engine, monitoring_image, dataset, tmp_path):
    completed, results, message = run_job(engine, monitoring_image, dataset, tmp_path, THRESHOLD="0.03")
    assert completed.returncode == 0, completed.stderr
    assert message.startswith("CompletedWithViolations: Average inference time 35.0 ms")
    violations = json.loads((results / "constraint_violations.json").read_text())["violations"]
    assert [violation["constraint_check_type"] for violation in violations] == ["latency_threshold_check"]


def test_an_empty_window_completes(engine, monitoring_image, dataset, tmp_path):
    window = {"start_time": "2026-11-22T21:00:00Z", "end_time": "2026-11-22T22:00:00Z"}
    completed, results, message = run_job(engine, monitoring_image, dataset, tmp_path, **window)
    assert completed.returncode == 0, completed.stderr
    assert message.startswith("Completed: no traffic")
    assert json.loads((results / "statistics.json").read_text())["dataset"] == {"item_count": 0}
