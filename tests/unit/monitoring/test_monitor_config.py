"""Configuration: SageMaker's variables, processingjobconfig.json as the fallback, precise errors."""

import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring import config, contract
from monitoring.config import MonitorConfig, ResourceSettings, Thresholds, Window
from monitoring.contract import ResourceLimits
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
    # On SageMaker (the description exists) the endpoint's metrics come from CloudWatch, in the job's region.
    on_sagemaker = replace(EXPECTED, resources=ResourceSettings(cloudwatch=True, region="eu-west-1"))
    assert config.load(job_file(tmp_path, SAGEMAKER_ENVIRONMENT)) == on_sagemaker


def test_the_region_is_aws_region_first_then_the_jobs_arn(tmp_path):
    described = job_file(tmp_path, SAGEMAKER_ENVIRONMENT)
    assert config.load({**described, "AWS_REGION": "us-west-2"}).resources.region == "us-west-2"
    assert config.load({**described, "AWS_DEFAULT_REGION": "ap-south-1"}).resources.region == "ap-south-1"
    (tmp_path / "processingjobconfig.json").write_text(json.dumps({"Environment": {}}))
    assert config.load(described).resources == ResourceSettings(cloudwatch=True, region=None)


def test_resource_thresholds_variant_and_vcpus(no_job_file, tmp_path):
    loaded = config.load(
        {
            **no_job_file,
            "MAX_MEMORY_PERCENT": "85",
            "MAX_CPU_PERCENT_PER_CORE": "70.5",
            "MAX_ERROR_PERCENT": "1e-1",
            "ENDPOINT_VARIANT": "Canary",
            "ENDPOINT_VCPUS": "8",
            "MONITORING_RESOURCE_SAMPLES": str(tmp_path),
        }
    ).resources
    assert loaded == ResourceSettings(
        limits=ResourceLimits(85.0, 70.5, 0.1), variant_name="Canary", vcpus=8, samples=tmp_path
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("MAX_MEMORY_PERCENT", "lots", "MAX_MEMORY_PERCENT: 'lots' is not a number"),
        ("MAX_MEMORY_PERCENT", "0", "MAX_MEMORY_PERCENT: '0' is not a percentage in (0, 100]"),
        (
            "MAX_CPU_PERCENT_PER_CORE",
            "101",
            "MAX_CPU_PERCENT_PER_CORE: '101' is not a percentage in (0, 100]",
        ),
        ("MAX_ERROR_PERCENT", "nan", "MAX_ERROR_PERCENT: 'nan' is not a percentage in (0, 100]"),
        ("ENDPOINT_VCPUS", "2.5", "ENDPOINT_VCPUS: '2.5' is not a whole number"),
        ("ENDPOINT_VCPUS", "0", "ENDPOINT_VCPUS: '0' must be at least 1"),
    ],
)
def test_bad_resource_settings_name_the_variable(no_job_file, name, value, expected):
    with pytest.raises(MonitoringError) as raised:
        config.load({**no_job_file, name: value})
    assert str(raised.value).startswith(expected)


def test_the_deployers_environment_is_what_the_job_reads(no_job_file):
    limits = ResourceLimits(90.0, 80.0, 2.5)
    environment = contract.resource_environment(limits, "Canary", 16)
    assert environment == {
        "MAX_MEMORY_PERCENT": "90.0",
        "MAX_CPU_PERCENT_PER_CORE": "80.0",
        "MAX_ERROR_PERCENT": "2.5",
        "ENDPOINT_VARIANT": "Canary",
        "ENDPOINT_VCPUS": "16",
    }
    loaded = config.load({**no_job_file, **environment}).resources
    assert (loaded.limits, loaded.variant_name, loaded.vcpus) == (limits, "Canary", 16)
    # The shipped config's defaults add nothing to a schedule's Environment.
    assert contract.resource_environment(contract.NO_LIMITS, "AllTraffic", 2) == {}
    assert contract.resource_environment(contract.NO_LIMITS, "AllTraffic", None) == {}


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
