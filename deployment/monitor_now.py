"""`monitor --now`: a one-off run of the deployed monitoring job over the last hour.

The hourly schedule can make a user wait up to an hour (plus up to 20 minutes of start
delay) for a first report; a `NOW` schedule with the same job definition runs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from deployment.errors import DeploymentError
from deployment.naming import Names
from deployment.resources.base import Clock

if TYPE_CHECKING:
    from deployment.aws import Aws

FINISHED = frozenset({"Completed", "CompletedWithViolations", "Failed", "Stopped"})


def run_now(
    aws: Aws,
    names: Names,
    clock: Clock | None = None,
    poll_seconds: float = 30,
    timeout_seconds: float = 3600,
    report: Callable[[str], None] = print,
) -> tuple[str, str]:
    """Start the run, wait for it, clean the one-off schedule up; returns (status, exit message)."""
    clock = clock or Clock()
    deployed = aws.sagemaker.describe_schedule(names.monitoring_schedule)
    if deployed is None:
        raise DeploymentError(
            "no monitoring schedule is deployed",
            where=names.monitoring_schedule,
            hint="deploy with monitoring enabled",
        )
    one_off = replace(deployed, name=names.one_off_schedule)
    if aws.sagemaker.schedule_status(one_off.name) is not None:
        aws.sagemaker.delete_schedule(one_off.name)
    aws.sagemaker.create_one_off_schedule(one_off)
    started = clock.now()
    try:
        while True:
            execution = aws.sagemaker.latest_execution(one_off.name)
            status = execution["MonitoringExecutionStatus"] if execution else "Pending"
            report(f"  monitoring run: {status} ({clock.now() - started:.0f}s)")
            if status in FINISHED:
                job_arn = execution.get("ProcessingJobArn", "")
                message = (
                    aws.sagemaker.processing_job_exit_message(job_arn.rsplit("/", 1)[-1]) if job_arn else ""
                )
                return status, message or execution.get("FailureReason", "")
            if clock.now() - started >= timeout_seconds:
                raise DeploymentError(f"no result after {timeout_seconds:.0f}s", where=one_off.name)
            clock.sleep(poll_seconds)
    finally:
        aws.sagemaker.delete_schedule(one_off.name)
