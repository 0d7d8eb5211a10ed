"""GetMetricData as the monitoring job sends it, each request checked by botocore against CloudWatch's model."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ParamValidationError

from monitoring import cloudwatch, job
from monitoring.checks import find_resource_violations
from monitoring.cloudwatch import queries, read_cloudwatch
from monitoring.config import MonitorConfig, ResourceSettings, Window
from monitoring.contract import ResourceLimits
from monitoring.resources import CLOUDWATCH_METRICS, summarize

ENDPOINT = "pose-prod"
START = datetime(2026, 11, 22, 18, tzinfo=UTC)
WINDOW = Window(START, START + timedelta(hours=1))
SETTINGS = ResourceSettings(variant_name="AllTraffic", vcpus=2, cloudwatch=True, region="eu-west-1")
ALL_NAMES = [spec.name for spec in CLOUDWATCH_METRICS]


def minutes(count: int, first: int = 0) -> list[datetime]:
    return [START + timedelta(minutes=first + index) for index in range(count)]


def result(query_id: str, values: list[float], first: int = 0, status: str = "Complete") -> dict:
    return {
        "Id": query_id,
        "Label": query_id,
        "Timestamps": minutes(len(values), first),
        "Values": values,
        "StatusCode": status,
    }


def expected_request(token: str | None = None) -> dict:
    request = {
        "MetricDataQueries": queries(ENDPOINT, "AllTraffic", 60),
        "StartTime": WINDOW.start,
        "EndTime": WINDOW.end,
        "ScanBy": "TimestampAscending",
    }
    return {**request, "NextToken": token} if token else request


@pytest.fixture
def cloudwatch_client(stubbed):
    return stubbed("cloudwatch", "eu-west-1")


def test_the_request_names_every_metric_of_the_variant_per_minute(cloudwatch_client):
    client, stubber = cloudwatch_client
    stubber.add_response("get_metric_data", {"MetricDataResults": []}, expected_request())
    read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client)
    stubber.assert_no_pending_responses()
    cpu, *_ = queries(ENDPOINT, "AllTraffic", 60)
    assert cpu == {
        "Id": "cPUUtilization_average",
        "MetricStat": {
            "Metric": {
                "Namespace": "/aws/sagemaker/Endpoints",
                "MetricName": "CPUUtilization",
                "Dimensions": [
                    {"Name": "EndpointName", "Value": ENDPOINT},
                    {"Name": "VariantName", "Value": "AllTraffic"},
                ],
            },
            "Period": 60,
            "Stat": "Average",
        },
        "ReturnData": True,
    }
    namespaces = {
        (
            q["MetricStat"]["Metric"]["Namespace"],
            q["MetricStat"]["Metric"]["MetricName"],
            q["MetricStat"]["Stat"],
        )
        for q in queries(ENDPOINT, "AllTraffic", 60)
    }
    assert namespaces == {
        ("/aws/sagemaker/Endpoints", name, stat)
        for name in ("CPUUtilization", "MemoryUtilization", "DiskUtilization")
        for stat in ("Average", "Maximum")
    } | {
        ("AWS/SageMaker", name, stat)
        for name, stats in (
            ("Invocations", ("Sum",)),
            ("ModelLatency", ("Average", "Maximum")),
            ("OverheadLatency", ("Average", "Maximum")),
            ("Invocation4XXErrors", ("Sum",)),
            ("Invocation5XXErrors", ("Sum",)),
        )
        for stat in stats
    }


def full_hour() -> list[dict]:
    return [
        result("cPUUtilization_average", [150.0] * 30 + [170.0] * 30),
        result("cPUUtilization_maximum", [180.0] * 59 + [199.0]),
        result("memoryUtilization_average", [60.0] * 60),
        result("memoryUtilization_maximum", [61.0] * 60),
        result("diskUtilization_average", [10.0] * 60),
        result("diskUtilization_maximum", [10.0] * 60),
        result("invocations_sum", [10.0] * 60),
        result("modelLatency_average", [20_000.0] * 60),
        result("modelLatency_maximum", [50_000.0] * 60),
        result("overheadLatency_average", [1_000.0] * 60),
        result("overheadLatency_maximum", [3_000.0] * 60),
        result("invocation4XXErrors_sum", [1.0] * 60),
        result("invocation5XXErrors_sum", [0.0] * 57 + [10.0] * 3),
    ]


def test_a_full_hour_is_summarized_and_checked(cloudwatch_client):
    client, stubber = cloudwatch_client
    stubber.add_response("get_metric_data", {"MetricDataResults": full_hour()}, expected_request())
    resources = summarize(read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client), WINDOW, vcpus=2)
    assert resources.unavailable == () and resources.problems == ()
    cpu = resources.metric("CPUUtilization")
    assert (cpu.mean, cpu.maximum, cpu.minutes) == (160.0, 199.0, 60)
    assert resources.cpu_per_core == (80.0, 99.5)
    assert resources.error_percent == (30.0, 600.0, 5.0)
    assert cpu.per_period[0] == (START, (150.0, 180.0))
    violations = find_resource_violations(resources, ResourceLimits(59.0, 75.0, 4.0), WINDOW)
    assert [(v.feature_name, v.constraint_check_type) for v in violations] == [
        ("memory_utilization_percent", "resource_threshold_check"),
        ("cpu_utilization_percent_per_core", "resource_threshold_check"),
        ("error_percent_5xx", "resource_threshold_check"),
    ]
    window = "from 2026-11-22T18:00:00Z to 2026-11-22T19:00:00Z"
    assert violations[1].description == (
        f"Average CPU utilization 80.0% per core (160.0% over 2 vCPUs) {window} exceeds the threshold "
        "of 75% per core (MAX_CPU_PERCENT_PER_CORE=75)"
    )
    assert violations[2].description == (
        f"30 of 600 invocations (5.00%) answered 5XX {window}, exceeding the threshold of 4% (MAX_ERROR_PERCENT=4)"
    )
    # At the thresholds exactly: within them, as the latency check.
    assert find_resource_violations(resources, ResourceLimits(60.0, 80.0, 5.0), WINDOW) == ()


def test_pages_are_followed_by_next_token_and_joined(cloudwatch_client):
    client, stubber = cloudwatch_client
    first = {
        "MetricDataResults": [result("cPUUtilization_average", [100.0] * 40, status="PartialData")],
        "NextToken": "page-2",
    }
    second = {
        "MetricDataResults": [
            result("cPUUtilization_average", [200.0] * 20, first=40),
            result("memoryUtilization_average", [50.0] * 60),
        ],
        "NextToken": "page-3",
    }
    third = {"MetricDataResults": [result("invocations_sum", [5.0] * 60)]}
    stubber.add_response("get_metric_data", first, expected_request())
    stubber.add_response("get_metric_data", second, expected_request("page-2"))
    stubber.add_response("get_metric_data", third, expected_request("page-3"))
    resources = summarize(read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client), WINDOW, vcpus=4)
    stubber.assert_no_pending_responses()
    cpu = resources.metric("CPUUtilization")
    assert (cpu.minutes, round(cpu.mean, 3), cpu.maximum) == (60, round((40 * 100 + 20 * 200) / 60, 3), 200.0)
    assert resources.cpu_per_core[1] == 50.0
    assert resources.metric("Invocations").total == 300.0
    assert resources.unavailable == tuple(
        name for name in ALL_NAMES if name not in ("CPUUtilization", "MemoryUtilization", "Invocations")
    )


def test_a_new_endpoints_partial_data_is_reported_never_a_violation(cloudwatch_client):
    client, stubber = cloudwatch_client
    # Ten minutes of CPU with a gap, invocations but no 5XX series at all, messages from CloudWatch.
    response = {
        "MetricDataResults": [
            result("cPUUtilization_average", [190.0] * 5, first=50),
            result("cPUUtilization_average", [195.0] * 5, first=0)
            | {"Timestamps": minutes(5, 55), "Id": "cPUUtilization_average"},
            result("invocations_sum", [3.0] * 10, first=50),
            result("memoryUtilization_average", [], status="Forbidden"),
        ],
        "Messages": [{"Code": "MaxQueryTimeRangeExceed", "Value": "example"}],
    }
    stubber.add_response("get_metric_data", response, expected_request())
    resources = summarize(read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client), WINDOW, vcpus=2)
    assert resources.metric("CPUUtilization").minutes == 10
    assert resources.periods_expected == 60
    assert "MemoryUtilization" in resources.unavailable and "Invocation5XXErrors" in resources.unavailable
    assert resources.problems == ("memoryUtilization_average: Forbidden", "MaxQueryTimeRangeExceed: example")
    assert resources.error_percent is None  # 5XX unknown is not 0 %, and not 100 %
    limits = ResourceLimits(max_memory_percent=1.0, max_cpu_percent_per_core=99.0, max_error_percent=0.1)
    assert find_resource_violations(resources, limits, WINDOW) == ()


def test_a_refused_request_leaves_the_run_complete_with_the_reason(cloudwatch_client):
    client, stubber = cloudwatch_client
    stubber.add_client_error(
        "get_metric_data",
        service_error_code="AccessDenied",
        service_message="not authorized to perform: cloudwatch:GetMetricData",
        http_status_code=403,
        expected_params=expected_request(),
    )
    data = read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client)
    resources = summarize(data, WINDOW, vcpus=2)
    assert resources.unavailable == tuple(ALL_NAMES) and resources.metrics == ()
    (problem,) = resources.problems
    assert problem.startswith("GetMetricData failed: An error occurred (AccessDenied)")


def test_a_page_that_fails_keeps_the_pages_before_it(cloudwatch_client):
    client, stubber = cloudwatch_client
    first = {"MetricDataResults": [result("memoryUtilization_average", [40.0] * 60)], "NextToken": "page-2"}
    stubber.add_response("get_metric_data", first, expected_request())
    stubber.add_client_error(
        "get_metric_data",
        service_error_code="Throttling",
        service_message="Rate exceeded",
        http_status_code=400,
        expected_params=expected_request("page-2"),
    )
    resources = summarize(read_cloudwatch(SETTINGS, ENDPOINT, WINDOW, client), WINDOW, vcpus=2)
    assert resources.metric("MemoryUtilization").mean == 40.0
    (problem,) = resources.problems
    assert "GetMetricData failed" in problem and "Rate exceeded" in problem
    assert "MemoryUtilization" not in resources.unavailable and "CPUUtilization" in resources.unavailable


def test_the_whole_run_on_sagemaker_reads_cloudwatch_and_writes_its_violations(
    cloudwatch_client, tmp_path, monkeypatch
):
    client, stubber = cloudwatch_client
    stubber.add_response("get_metric_data", {"MetricDataResults": full_hour()}, expected_request())
    monkeypatch.setattr(cloudwatch, "_client", lambda region: client)
    (tmp_path / "capture").mkdir()
    settings = MonitorConfig(
        dataset_source=tmp_path / "capture",
        output_path=tmp_path / "out",
        output_root=tmp_path / "out",
        window=WINDOW,
        endpoint_name=ENDPOINT,
        resources=ResourceSettings(limits=ResourceLimits(max_memory_percent=50.0), cloudwatch=True, vcpus=2),
    )
    outcome = job.run(settings)
    assert outcome.message.startswith("CompletedWithViolations: Average memory utilization 60.0%")
    violations = json.loads((tmp_path / "out" / "constraint_violations.json").read_text())["violations"]
    assert [v["feature_name"] for v in violations] == ["memory_utilization_percent"]
    document = json.loads((tmp_path / "out" / "statistics.json").read_text())
    section = document["endpoint_resources"]
    assert section["cpu_percent_per_core"] == {"mean": 80.0, "max": 99.5}
    assert section["metrics"]["MemoryUtilization"]["per_period"][0] == {
        "start": "2026-11-22T18:00:00Z",
        "Average": 60.0,
        "Maximum": 61.0,
    }
    assert document["thresholds"]["max_memory_percent"] == 50.0
    page = (tmp_path / "out" / "report.html").read_text()
    assert "Endpoint resources" in page and "CPU per core" in page


def test_without_boto3_a_cloudwatch_run_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)  # `import boto3` raises ImportError
    data = read_cloudwatch(SETTINGS, ENDPOINT, WINDOW)
    assert data.problems == ("boto3 is not installed in the monitoring image",)


def test_requests_are_validated_against_cloudwatchs_model(cloudwatch_client):
    """With a response queued, botocore still validates the request: a malformed one fails here, not in AWS."""
    client, stubber = cloudwatch_client
    stubber.add_response("get_metric_data", {"MetricDataResults": []})
    with pytest.raises(ParamValidationError, match="MetricDataQueries"):
        client.get_metric_data(MetricDataQueries=[{"Id": 5}], StartTime=START, EndTime=START)
    # What botocore does not check, the documented Id pattern, is checked here.
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9_]*", q["Id"]) for q in queries(ENDPOINT, "AllTraffic", 60))
