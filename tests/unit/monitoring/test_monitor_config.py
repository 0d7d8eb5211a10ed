"""Configuration: SageMaker's variables, processingjobconfig.json as the fallback, precise errors."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring import config, contract
from monitoring.config import MonitorConfig, Thresholds, Window
from monitoring.errors import MonitoringError

SAGEMAKER_ENVIRONMENT = {
    "dataset_format": '{"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}',
    "dataset_source": "/opt/ml/processing/input/endpoint",
    "output_path": "/opt/ml/processing/resultdata",
    "start_time": "2026-11-22T18:00:00Z",
    "end_time": "2026-11-22T19:00:00Z",
    "publish_cloudwatch_metrics": "Enabled",
    "sagemaker_endpoint_name": "pose-prod",
    "sagemaker_monitoring_schedule_name": "pose-prod-latency",
    "sagemaker_endpoint_datacapture_prefix": "s3://bucket/capture",
    "THRESHOLD": "0.5",
    "P99_THRESHOLD": "2",
}
EXPECTED = MonitorConfig(
    dataset_source=Path("/opt/ml/processing/input/endpoint"),
    output_path=Path("/opt/ml/processing/resultdata"),
    output_root=Path("/opt/ml/output"),
    window=Window(datetime(2026, 11, 22, 18, tzinfo=UTC), datetime(2026, 11, 22, 19, tzinfo=UTC)),
    thresholds=Thresholds(0.5, 2.0),
    publish_metrics=True,
    endpoint_name="pose-prod",
    schedule_name="pose-prod-latency",
)


@pytest.fixture
def no_job_file(tmp_path):
    return {contract.JOB_CONFIG: str(tmp_path / "absent.json")}


def job_file(tmp_path, environment) -> dict:
    """A processing-job description as SageMaker writes it, with our variables in its Environment."""
    path = tmp_path / "processingjobconfig.json"
    description = {
        "ProcessingJobArn": "arn:aws:sagemaker:eu-west-1:123456789012:processing-job/model-monitoring-1",
        "ProcessingJobName": "model-monitoring-1",
        "AppSpecification": {"ImageUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/pose-monitor:1"},
        "Environment": environment,
        "ProcessingInputs": [
            {"InputName": "endpoint_input_1", "S3Input": {"LocalPath": "/opt/ml/processing/input"}}
        ],
        "ProcessingOutputConfig": {"Outputs": [{"OutputName": "result", "S3Output": {"LocalPath": "/out"}}]},
        "RoleArn": "arn:aws:iam::123456789012:role/monitor",
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }
    path.write_text(json.dumps(description))
    return {contract.JOB_CONFIG: str(path)}


def test_sagemaker_environment_variables(no_job_file):
    assert config.load({**SAGEMAKER_ENVIRONMENT, **no_job_file}) == EXPECTED


def test_defaults_when_nothing_is_set(no_job_file):
    assert config.load(no_job_file) == MonitorConfig(
        dataset_source=Path("/opt/ml/processing/input/endpoint"),
        output_path=Path("/opt/ml/processing/resultdata"),
        output_root=Path("/opt/ml/output"),
    )


def test_processingjobconfig_environment_is_the_fallback(tmp_path):
    assert config.load(job_file(tmp_path, SAGEMAKER_ENVIRONMENT)) == EXPECTED


def test_a_variable_wins_over_the_job_file(tmp_path):
    loaded = config.load(
        {**job_file(tmp_path, SAGEMAKER_ENVIRONMENT), "THRESHOLD": "3", "dataset_source": "/x"}
    )
    assert (loaded.thresholds.mean_seconds, loaded.dataset_source) == (3.0, Path("/x"))


def test_output_root_is_movable_for_tests_and_the_local_stack(no_job_file):
    loaded = config.load({**no_job_file, contract.OUTPUT_ROOT: "/tmp/run"})
    assert loaded.output_root == Path("/tmp/run")


def test_times_without_a_zone_are_utc_and_offsets_are_converted():
    assert config.parse_time("2026-11-22T18:00:00", "start_time") == datetime(2026, 11, 22, 18, tzinfo=UTC)
    moment = config.parse_time("2026-11-22T20:00:00+02:00", "start_time")
    assert moment == datetime(2026, 11, 22, 18, tzinfo=UTC) and moment.tzinfo == UTC


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("start_time", "yesterday", "start_time: 'yesterday' is not an ISO-8601 time"),
        ("end_time", "2026-13-01T00:00:00Z", "end_time: '2026-13-01T00:00:00Z' is not an ISO-8601 time"),
        ("THRESHOLD", "fast", "THRESHOLD: 'fast' is not a number of seconds"),
        ("THRESHOLD", "0", "THRESHOLD: '0' must be a positive number of seconds"),
        ("THRESHOLD", "nan", "THRESHOLD: 'nan' must be a positive number of seconds"),
        ("P99_THRESHOLD", "-2", "P99_THRESHOLD: '-2' must be a positive number of seconds"),
        (
            "publish_cloudwatch_metrics",
            "yes",
            "publish_cloudwatch_metrics: 'yes' is neither Enabled nor Disabled",
        ),
        ("end_time", "2026-11-22T18:00:00Z", "start_time, end_time: 2026-11-22T18:00:00Z is not before 2026"),
    ],
)
def test_bad_values_fail_naming_the_variable(no_job_file, name, value, expected):
    with pytest.raises(MonitoringError) as caught:
        config.load({**SAGEMAKER_ENVIRONMENT, **no_job_file, name: value})
    assert str(caught.value).startswith(expected)


def test_an_unreadable_job_file_fails_naming_the_file(tmp_path):
    path = tmp_path / "processingjobconfig.json"
    path.write_text("{not json")
    with pytest.raises(
        MonitoringError, match=re.escape(f"{path}: cannot read the processing job description")
    ):
        config.load({contract.JOB_CONFIG: str(path)})


def test_blank_variables_count_as_absent(no_job_file):
    loaded = config.load({**no_job_file, "P99_THRESHOLD": "", "start_time": "  "})
    assert (loaded.thresholds.p99_seconds, loaded.window.start) == (None, None)


def test_window_is_half_open():
    window = EXPECTED.window
    assert window.contains(window.start) and not window.contains(window.end)
    assert window.contains(window.end - timedelta(seconds=1))
