"""`monitor --now` call by call: a NOW schedule over the last hour, waited for, reported, removed."""

from __future__ import annotations

from dataclasses import fields

import pytest

from deployment.aws import Aws
from deployment.aws.sagemaker import SageMaker
from deployment.errors import DeploymentError
from deployment.monitor_now import run_now
from tests.functional.deployment.contract import JOB_DEFINITION, NOW, describe_schedule_response
from tests.unit.deployment.builders import desired
from tests.unit.deployment.fakes import FakeClock

NAMES = desired().names
JOB_ARN = "arn:aws:sagemaker:us-east-1:123456789012:processing-job/model-monitoring-202605011200-0123abcd"
ONE_OFF = {
    "MonitoringScheduleName": "pose-dev-monitor-now",
    "MonitoringScheduleConfig": {
        "ScheduleConfig": {
            "ScheduleExpression": "NOW",
            "DataAnalysisStartTime": "-PT1H",
            "DataAnalysisEndTime": "-PT0H",
        },
        "MonitoringJobDefinition": JOB_DEFINITION,
    },
}
HOURLY = {
    "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
    "MonitoringJobDefinition": JOB_DEFINITION,
}


@pytest.fixture
def sagemaker(stubbed):
    client, stubber = stubbed("sagemaker")
    others = {field.name: None for field in fields(Aws) if field.name not in ("sagemaker", "region")}
    aws = Aws(sagemaker=SageMaker(client), region="us-east-1", **others)
    yield aws, stubber
    stubber.assert_no_pending_responses()


def execution(status: str, **extra) -> dict:
    return {
        "MonitoringScheduleName": "pose-dev-monitor-now",
        "ScheduledTime": NOW,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
        "MonitoringExecutionStatus": status,
        **extra,
    }


def expect_start(stubber, leftover: bool = False) -> None:
    stubber.add_response(
        "describe_monitoring_schedule",
        describe_schedule_response(HOURLY),
        {"MonitoringScheduleName": "pose-dev-monitor"},
    )
    if leftover:
        stubber.add_response(
            "describe_monitoring_schedule",
            describe_schedule_response(
                ONE_OFF["MonitoringScheduleConfig"], "pose-dev-monitor-now", "Stopped"
            ),
            {"MonitoringScheduleName": "pose-dev-monitor-now"},
        )
        stubber.add_response(
            "delete_monitoring_schedule", {}, {"MonitoringScheduleName": "pose-dev-monitor-now"}
        )
    else:
        stubber.add_client_error(
            "describe_monitoring_schedule",
            "ResourceNotFound",
            "Monitoring Schedule pose-dev-monitor-now does not exist",
            expected_params={"MonitoringScheduleName": "pose-dev-monitor-now"},
        )
    stubber.add_response(
        "create_monitoring_schedule",
        {
            "MonitoringScheduleArn": "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/pose-dev-monitor-now"
        },
        ONE_OFF,
    )


def expect_poll(stubber, *summaries: dict) -> None:
    stubber.add_response(
        "list_monitoring_executions",
        {"MonitoringExecutionSummaries": list(summaries)},
        {
            "MonitoringScheduleName": "pose-dev-monitor-now",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 1,
        },
    )


def expect_clean_up(stubber) -> None:
    stubber.add_response("delete_monitoring_schedule", {}, {"MonitoringScheduleName": "pose-dev-monitor-now"})


def test_a_run_is_started_waited_for_and_its_exit_message_returned(sagemaker, capsys):
    aws, stubber = sagemaker
    clock = FakeClock()
    expect_start(stubber)
    expect_poll(stubber)
    expect_poll(stubber, execution("Pending"))
    expect_poll(stubber, execution("InProgress", ProcessingJobArn=JOB_ARN))
    expect_poll(stubber, execution("CompletedWithViolations", ProcessingJobArn=JOB_ARN))
    message = "CompletedWithViolations: average inference 1.4 s > 1.0 s over 212 requests"
    stubber.add_response(
        "describe_processing_job",
        {
            "ProcessingJobName": JOB_ARN.rsplit("/", 1)[-1],
            "ProcessingJobArn": JOB_ARN,
            "ProcessingResources": {
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
            },
            "AppSpecification": {"ImageUri": JOB_DEFINITION["MonitoringAppSpecification"]["ImageUri"]},
            "ProcessingJobStatus": "Completed",
            "ExitMessage": message,
            "CreationTime": NOW,
        },
        {"ProcessingJobName": "model-monitoring-202605011200-0123abcd"},
    )
    expect_clean_up(stubber)

    result = run_now(aws, NAMES, clock.clock(), poll_seconds=60)

    assert result == ("CompletedWithViolations", message)
    assert clock.sleeps == [60, 60, 60]
    assert capsys.readouterr().out.splitlines()[-1] == "  monitoring run: CompletedWithViolations (180s)"


def test_a_leftover_one_off_schedule_is_replaced(sagemaker):
    aws, stubber = sagemaker
    expect_start(stubber, leftover=True)
    expect_poll(stubber, execution("Failed", FailureReason="Job inputs had no data"))
    expect_clean_up(stubber)

    assert run_now(aws, NAMES, FakeClock().clock()) == ("Failed", "Job inputs had no data")


def test_a_run_that_never_finishes_times_out_and_still_removes_the_one_off_schedule(sagemaker):
    aws, stubber = sagemaker
    clock = FakeClock()
    expect_start(stubber)
    for _ in range(5):
        expect_poll(stubber, execution("InProgress"))
    expect_clean_up(stubber)

    with pytest.raises(DeploymentError, match=r"pose-dev-monitor-now: no result after 120s"):
        run_now(aws, NAMES, clock.clock(), poll_seconds=30, timeout_seconds=120)

    assert clock.time == 120


def test_without_a_deployed_schedule_nothing_is_started(sagemaker):
    aws, stubber = sagemaker
    stubber.add_client_error(
        "describe_monitoring_schedule",
        "ResourceNotFound",
        "Monitoring Schedule pose-dev-monitor does not exist",
        expected_params={"MonitoringScheduleName": "pose-dev-monitor"},
    )

    with pytest.raises(DeploymentError) as raised:
        run_now(aws, NAMES, FakeClock().clock())

    assert (raised.value.where, raised.value.hint) == ("pose-dev-monitor", "deploy with monitoring enabled")
