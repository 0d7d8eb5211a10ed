"""`monitor --now` and `status` through the CLI, on a moto deployment with stubbed schedule APIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from tests.moto.deployment.conftest import ACCOUNT, REGION

JOB = "model-monitoring-202605011300-0123abcd"
JOB_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:processing-job/{JOB}"
WHEN = datetime(2026, 5, 1, 13, tzinfo=UTC)


def execution(status: str, **extra: str) -> dict:
    return {
        "MonitoringScheduleName": "pose-dev-monitor-now",
        "ScheduledTime": WHEN,
        "CreationTime": WHEN,
        "LastModifiedTime": WHEN,
        "MonitoringExecutionStatus": status,
        **extra,
    }


@pytest.mark.parametrize(
    ("status", "message", "code"),
    [
        ("Completed", "Completed: average inference 0.21 s over 340 requests", 0),
        ("CompletedWithViolations", "CompletedWithViolations: average inference 1.4 s > 1.0 s", 0),
        ("Failed", "AlgorithmError: no capture files", 1),
    ],
)
def test_monitor_now_runs_the_deployed_job_once_over_the_last_hour(
    run, account, clock, status, message, code
):
    assert run("deploy").code == 0
    account.executions["pose-dev-monitor-now"] = [
        [],
        [execution("Pending")],
        [execution("InProgress", ProcessingJobArn=JOB_ARN)],
        [execution(status, ProcessingJobArn=JOB_ARN)],
    ]
    account.exit_messages[JOB] = message

    result = run("monitor", "--now")

    assert (result.code, result.err) == (code, "")
    # The status is printed once: SageMaker's exit message usually starts with it already.
    shown = message if message.startswith(status) else f"{status}: {message}"
    assert result.out.splitlines()[-1] == f"monitoring run: {shown}"
    deployed, one_off = account.requests("CreateMonitoringSchedule")
    assert one_off == {
        "MonitoringScheduleName": "pose-dev-monitor-now",
        "MonitoringScheduleConfig": {
            "ScheduleConfig": {
                "ScheduleExpression": "NOW",
                "DataAnalysisStartTime": "-PT1H",
                "DataAnalysisEndTime": "-PT0H",
            },
            "MonitoringJobDefinition": deployed["MonitoringScheduleConfig"]["MonitoringJobDefinition"],
        },
    }
    assert clock.sleeps == [30, 30, 30]
    assert account.deleted_schedules == ["pose-dev-monitor-now"]
    assert set(account.schedules) == {"pose-dev-monitor"}


def test_monitor_now_without_a_deployed_schedule_exits_1(run, account, clock):
    assert run("deploy", "--set", "monitoring.enabled=false").code == 0

    result = run("monitor", "--now")

    assert (result.code, result.err) == (
        1,
        "error: pose-dev-monitor: no monitoring schedule is deployed (hint: deploy with monitoring enabled)\n",
    )
    assert account.requests("CreateMonitoringSchedule") == []


def test_status_reports_the_endpoint_and_the_schedule(run, account):
    assert run("deploy").code == 0
    account.executions["pose-dev-monitor"] = [
        [execution("Completed") | {"MonitoringScheduleName": "pose-dev-monitor"}]
    ]
    config = account.requests("CreateEndpointConfig")[0]["EndpointConfigName"]

    result = run("status")

    lines = result.out.splitlines()
    assert (result.code, lines[:3]) == (
        0,
        [
            f"endpoint pose-dev: InService on {config}",
            "monitoring schedule pose-dev-monitor: Scheduled",
            "latest monitoring run: Completed",
        ],
    )
    assert re.fullmatch(r"api_url: https://\w+\.execute-api\.us-east-1\.amazonaws\.com/predict", lines[3])
    assert re.fullmatch(r"web_url: https://\w+\.cloudfront\.net/", lines[4])


def test_status_of_nothing_deployed_exits_1(run):
    result = run("status")

    assert (result.code, result.out) == (
        1,
        "endpoint pose-dev: absent\nmonitoring schedule pose-dev-monitor: absent\n"
        "api_url: absent\nweb_url: absent\ndashboard_url: absent\n",
    )
