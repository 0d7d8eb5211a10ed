"""The Model Monitor container contract, end to end: `python -m monitoring` as SageMaker runs it.

Each test runs the real entry point in a subprocess with only the environment a monitoring schedule
gives it (plus MONITORING_OUTPUT_ROOT / MONITORING_JOB_CONFIG to move /opt/ml), then reads the files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.capture import CaptureContentTypes, capture_line
from monitoring.samples import sample_line, samples_path
from tests.unit.monitoring.monitor_samples import at, invocation, line, prediction, write_capture

REPO = Path(__file__).resolve().parents[2]
ENDPOINT = "pose-prod"
SCHEDULE = "pose-prod-latency"
DIMENSIONS = [{"Name": "Endpoint", "Value": ENDPOINT}, {"Name": "MonitoringSchedule", "Value": SCHEDULE}]
# A capture line exactly as https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-data-capture.html spells it:
# compact, SageMaker's key order, eventVersion on top.
CANARY_RAW_LINE = (
    '{"captureData":{"endpointInput":{"observedContentType":"image/jpeg","mode":"INPUT","data":"/9j/4AAQSkZJRg==",'
    '"encoding":"BASE64"},"endpointOutput":{"observedContentType":"application/json","mode":"OUTPUT",'
    '"data":"{\\"person_detected\\":false,\\"keypoints\\":[{\\"name\\":\\"nose\\",\\"x\\":1.0,\\"y\\":2.0,'
    '\\"score\\":0.25}],\\"timing\\":{\\"decode_ms\\":1.0,\\"inference_ms\\":50.0,\\"total_ms\\":51.0}}",'
    '"encoding":"JSON"}},"eventMetadata":{"eventId":"0b6e4a8c-4f7e-4d55-a1f2-7d2c3e4f5a6b",'
    '"inferenceId":"canary-1","inferenceTime":"2026-11-22T19:45:00Z"},"eventVersion":"0"}\n'
)


@pytest.fixture
def dataset(tmp_path) -> Path:
    """Three hours of two variants; the window is 19:00-20:00. Seven records fall in it, one of them an error.

    People per photo in the window: 1 (no `people`, a person), 3, 2, 6, 0 (CANARY_RAW_LINE: no `people`,
    no person), 1 (no `people`).
    """
    root = tmp_path / "endpoint"
    write_capture(root, "AllTraffic", [line(at(18, 59, 59), 5.0)], ENDPOINT)
    truncated = line(at(19, 50), 999.0)[:300]
    error = invocation(at(19, 40), b'{"error": "the body is not a JPEG or PNG image"}')
    hour_19 = [
        line(at(19, minute), ms, people=people)
        for minute, ms, people in ((0, 10.0, None), (10, 20.0, 3), (20, 30.0, 2), (30, 40.0, 6))
    ]
    write_capture(root, "AllTraffic", [*hour_19, capture_line(error), truncated], ENDPOINT)
    write_capture(root, "AllTraffic", [line(at(20), 7.0)], ENDPOINT)
    as_base64 = CaptureContentTypes(json_types=())  # the response JSON captured base64-encoded
    base64_output = capture_line(invocation(at(19, 59, 59), prediction(60.0)), as_base64)
    write_capture(root, "Canary", [CANARY_RAW_LINE, base64_output], ENDPOINT)
    return root


def sagemaker_environment(dataset: Path, tmp_path: Path, **overrides: str) -> dict[str, str]:
    return {
        "dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
        "dataset_source": str(dataset),
        "output_path": str(tmp_path / "resultdata"),
        "start_time": "2026-11-22T19:00:00Z",
        "end_time": "2026-11-22T20:00:00Z",
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": ENDPOINT,
        "sagemaker_monitoring_schedule_name": SCHEDULE,
        "THRESHOLD": "1.0",
        **overrides,
    }


def run_container(
    tmp_path: Path, environment: dict[str, str], command: tuple[str, ...] = ("-m", "monitoring")
) -> subprocess.CompletedProcess:
    """The container's ENTRYPOINT with nothing but its environment (and /opt/ml moved under tmp_path)."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "MONITORING_OUTPUT_ROOT": str(tmp_path / "opt-ml-output"),
        "MONITORING_JOB_CONFIG": str(tmp_path / "no-processingjobconfig.json"),
        **environment,
    }
    return subprocess.run(
        [sys.executable, *command],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def message(tmp_path: Path) -> str:
    return (tmp_path / "opt-ml-output" / "message").read_text(encoding="utf-8")


def metric_lines(tmp_path: Path) -> list[dict]:
    folder = tmp_path / "opt-ml-output" / "metrics" / "cloudwatch"
    return [
        json.loads(text) for path in sorted(folder.glob("*.jsonl")) for text in path.read_text().splitlines()
    ]


def assert_expected_statistics(statistics: dict) -> None:
    assert statistics["dataset"] == {"item_count": 7}
    assert statistics["window"] == {"start_time": "2026-11-22T19:00:00Z", "end_time": "2026-11-22T20:00:00Z"}
    capture = statistics["capture"]
    assert {key: value for key, value in capture.items() if key != "unreadable_examples"} == {
        "files": 4,
        "lines": 10,
        "in_window": 7,
        "outside_window": 2,
        "unreadable": 1,
        "variants": {"AllTraffic": 5, "Canary": 2},
    }
    assert capture["unreadable_examples"][0].endswith(":6: not JSON: Input data was truncated")
    assert statistics["responses"] == {
        "prediction": 6,
        "error_response": 1,
        "no_timing": 0,
        "not_json": 0,
        "errors": 1,
        "error_rate": 0.1429,
        "output_not_captured": 0,
        "person_detected": 5,
        "person_detected_rate": 0.8333,
    }
    latency = statistics["features"][0]["numerical_statistics"]
    assert (latency["common"], latency["mean"], latency["sum"], latency["min"], latency["max"]) == (
        {"num_present": 6, "num_missing": 1},
        35.0,
        210.0,
        10.0,
        60.0,
    )
    assert latency["percentiles"]["p50"] == pytest.approx(30.0, rel=0.01)
    assert latency["percentiles"]["p99"] == 60.0  # clamped to the exact maximum
    keypoints = statistics["features"][1]["numerical_statistics"]
    assert (keypoints["mean"], keypoints["min"], keypoints["max"]) == (0.6667, 0.25, 0.75)
    people = statistics["features"][3]
    assert (
        people["name"],
        people["numerical_statistics"]["mean"],
        people["numerical_statistics"]["max"],
    ) == (
        "people_per_photo",
        2.167,
        6.0,
    )
    histogram = people["numerical_statistics"]["distribution"]["histogram"]["buckets"]
    assert [bucket["count"] for bucket in histogram] == [1, 2, 1, 1, 0, 1]
    assert statistics["notes"][0] == "1 unreadable capture line skipped"


def test_an_hour_within_the_threshold_completes(dataset, tmp_path):
    completed = run_container(tmp_path, sagemaker_environment(dataset, tmp_path))
    assert completed.returncode == 0, completed.stderr
    assert message(tmp_path).split(":")[0] == "Completed"
    results = tmp_path / "resultdata"
    assert json.loads((results / "constraint_violations.json").read_text()) == {"violations": []}
    statistics = json.loads((results / "statistics.json").read_text())
    assert_expected_statistics(statistics)
    # Not on SageMaker (no processing-job description): no CloudWatch, no resource section, no note.
    assert (statistics["endpoint_resources"], statistics["notes"][1:]) == (None, [])
    assert "<svg" in (results / "report.html").read_text()


# The container's entry point in an interpreter where `import boto3` and `import botocore` fail.
WITHOUT_BOTO3 = (
    "import sys; sys.modules['boto3'] = sys.modules['botocore'] = None\n"
    "from monitoring.__main__ import main\n"
    "sys.exit(main([]))\n"
)


def test_local_samples_need_no_boto3(dataset, tmp_path):
    samples = tmp_path / "usage"
    path = samples_path(samples, ENDPOINT, "AllTraffic", at(19))
    path.parent.mkdir(parents=True)
    path.write_text(sample_line("CPUUtilization", at(19, 30), 150.0, "Percent"))
    environment = sagemaker_environment(dataset, tmp_path, MONITORING_RESOURCE_SAMPLES=str(samples))
    completed = run_container(tmp_path, environment, ("-c", WITHOUT_BOTO3))
    assert completed.returncode == 0, completed.stderr
    section = json.loads((tmp_path / "resultdata" / "statistics.json").read_text())["endpoint_resources"]
    assert section["cpu_percent_per_core"] == {"mean": 75.0, "max": 75.0}
    assert section["unavailable"] == ["MemoryUtilization", "MemoryResidentBytes"]


def test_cloudwatch_metrics_are_json_lines_in_putmetricdata_shape(dataset, tmp_path):
    assert run_container(tmp_path, sagemaker_environment(dataset, tmp_path)).returncode == 0
    lines = metric_lines(tmp_path)
    for metric in lines:
        assert set(metric) in ({"MetricName", "Timestamp", "Dimensions", "Value", "Unit"},
                               {"MetricName", "Timestamp", "Dimensions", "StatisticValues", "Unit"})  # fmt: skip
        assert (metric["Timestamp"], metric["Dimensions"]) == ("2026-11-22T19:00:00Z", DIMENSIONS)
    by_name = {metric["MetricName"]: metric for metric in lines}
    assert by_name["inference_ms"]["StatisticValues"] == {
        "SampleCount": 6.0,
        "Sum": 210.0,
        "Minimum": 10.0,
        "Maximum": 60.0,
    }
    assert (by_name["record_count"]["Value"], by_name["error_count"]["Value"]) == (7.0, 1.0)
    assert by_name["request_bytes"]["Unit"] == "Bytes"
    assert by_name["people_per_photo"]["StatisticValues"] == {
        "SampleCount": 6.0,
        "Sum": 13.0,
        "Minimum": 0.0,
        "Maximum": 6.0,
    }


def test_an_average_above_the_threshold_completes_with_violations(dataset, tmp_path):
    completed = run_container(tmp_path, sagemaker_environment(dataset, tmp_path, THRESHOLD="0.03"))
    assert completed.returncode == 0, completed.stderr
    assert message(tmp_path).startswith("CompletedWithViolations: Average inference time 35.0 ms")
    assert json.loads((tmp_path / "resultdata" / "constraint_violations.json").read_text()) == {
        "violations": [
            {
                "feature_name": "inference_ms",
                "constraint_check_type": "latency_threshold_check",
                "description": "Average inference time 35.0 ms over 6 predictions exceeds the threshold of 30 ms "
                "(THRESHOLD=0.03 s)",
            }
        ]
    }


def test_processingjobconfig_json_is_the_fallback(dataset, tmp_path):
    job_file = tmp_path / "processingjobconfig.json"
    job_file.write_text(
        json.dumps(
            {
                "ProcessingJobName": "lm-pose-prod-latency-1",
                "AppSpecification": {
                    "ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pose-monitor:1"
                },
                "Environment": sagemaker_environment(dataset, tmp_path),
                "RoleArn": "arn:aws:iam::123456789012:role/monitor",
            }
        )
    )
    completed = run_container(tmp_path, {"MONITORING_JOB_CONFIG": str(job_file)})
    assert completed.returncode == 0, completed.stderr
    statistics = json.loads((tmp_path / "resultdata" / "statistics.json").read_text())
    assert_expected_statistics(statistics)
    assert {metric["MetricName"] for metric in metric_lines(tmp_path)} >= {"inference_ms", "record_count"}
    # On SageMaker (the description exists) it reads CloudWatch; with no region to read it in, the run
    # still completes, and says so.
    unavailable = statistics["endpoint_resources"]["unavailable"]
    assert unavailable == [
        "CPUUtilization",
        "MemoryUtilization",
        "DiskUtilization",
        "Invocations",
        "ModelLatency",
        "OverheadLatency",
        "Invocation4XXErrors",
        "Invocation5XXErrors",
    ]
    assert statistics["notes"][1:] == [
        "CloudWatch: no CloudWatch client: You must specify a region.",
        f"unavailable from CloudWatch from 2026-11-22T19:00:00Z to 2026-11-22T20:00:00Z: {', '.join(unavailable)}",
    ]


def test_an_hour_without_traffic_is_a_normal_run(dataset, tmp_path):
    environment = sagemaker_environment(
        dataset, tmp_path, start_time="2026-11-22T21:00:00Z", end_time="2026-11-22T22:00:00Z"
    )
    completed = run_container(tmp_path, environment)
    assert completed.returncode == 0, completed.stderr
    assert message(tmp_path) == (
        "Completed: no traffic: no captured records from 2026-11-22T21:00:00Z to 2026-11-22T22:00:00Z; "
        "1 unreadable capture line skipped"
    )
    statistics = json.loads((tmp_path / "resultdata" / "statistics.json").read_text())
    assert statistics["dataset"] == {"item_count": 0}
    assert statistics["features"][0]["numerical_statistics"]["common"] == {"num_present": 0, "num_missing": 0}
    by_name = {metric["MetricName"]: metric for metric in metric_lines(tmp_path)}
    assert by_name["record_count"]["Value"] == 0.0 and "inference_ms" not in by_name


def test_a_missing_dataset_source_fails_with_a_message(tmp_path):
    missing = tmp_path / "not-copied"
    completed = run_container(tmp_path, sagemaker_environment(missing, tmp_path))
    assert completed.returncode != 0
    assert message(tmp_path).startswith(f"Failed: dataset_source {missing}: does not exist")
    assert not (tmp_path / "resultdata" / "statistics.json").exists()


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("THRESHOLD", "fast", "Failed: THRESHOLD: 'fast' is not a number of seconds"),
        ("start_time", "2026-11-22 7pm", "Failed: start_time: '2026-11-22 7pm' is not an ISO-8601 time"),
        (
            "publish_cloudwatch_metrics",
            "On",
            "Failed: publish_cloudwatch_metrics: 'On' is neither Enabled nor",
        ),
    ],
)
def test_bad_configuration_fails_naming_the_variable(dataset, tmp_path, variable, value, expected):
    completed = run_container(tmp_path, sagemaker_environment(dataset, tmp_path, **{variable: value}))
    assert completed.returncode != 0
    assert message(tmp_path).startswith(expected)
    assert expected.removeprefix("Failed: ") in completed.stderr


def test_analyze_cli_prints_a_summary_and_writes_report_html(dataset, tmp_path):
    output = tmp_path / "report"
    completed = subprocess.run(
        [sys.executable, "-m", "monitoring", "analyze", "--input", str(dataset), "--output", str(output)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("Completed\n  records    9 over all time")
    page = (output / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 3
    # Over all time: the window's six predictions plus 18:59:59 and 20:00, each one person (no `people`).
    assert "  people     1.88 per photo on average, at most 6\n" in completed.stdout
