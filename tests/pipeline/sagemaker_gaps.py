"""The SageMaker operations moto 5.2 lacks, answered in front of it, with state.

moto has no monitoring-schedule API, no UpdateEndpoint, no tags on monitoring schedules and accepts
any image in CreateModel. Each request here is first checked against botocore's service model
(`service_model.validated`), then answered as SageMaker answers: schedules are kept here, a `NOW`
schedule runs its monitoring job at once (`processing.py`) and lists it as an execution,
UpdateEndpoint moves moto's own endpoint to the new config (after checking the config and the
rollback alarms exist), and CreateModel refuses an image that is not in ECR, with SageMaker's error.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from botocore.exceptions import ClientError
from moto.sagemaker.models import sagemaker_backends

from tests.pipeline.processing import Job, JobResult, find_in_ecr, run_job
from tests.pipeline.service_model import Refused, validated

ACCOUNT = "123456789012"  # moto's default account, the one the deploy role lives in


@dataclass
class Schedule:
    name: str
    arn: str
    config: dict
    tags: list[dict]
    created: datetime
    status: str = "Scheduled"


@dataclass
class Execution:
    schedule: str
    endpoint: str
    job_name: str
    job_arn: str
    created: datetime
    result: JobResult
    definition: dict


@dataclass
class SageMakerGaps:
    """State of the stand-ins. `console` is an unrecorded boto3 session onto moto itself."""

    console: Callable
    schedules: dict[str, Schedule] = field(default_factory=dict)
    executions: list[Execution] = field(default_factory=list)
    endpoint_updates: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    OPERATIONS = frozenset(
        {
            "CreateMonitoringSchedule",
            "DescribeMonitoringSchedule",
            "UpdateMonitoringSchedule",
            "DeleteMonitoringSchedule",
            "ListMonitoringSchedules",
            "ListMonitoringExecutions",
            "DescribeProcessingJob",
            "UpdateEndpoint",
            "ListTags",
            "AddTags",
            "DeleteTags",
            "CreateModel",
        }
    )

    def answer(self, operation: str, params: dict, region: str) -> dict | None:
        """SageMaker's answer, or None to let moto answer (the request was checked all the same)."""
        validated("sagemaker", operation, params)
        handler = {
            "CreateMonitoringSchedule": self._create_schedule,
            "DescribeMonitoringSchedule": self._describe_schedule,
            "UpdateMonitoringSchedule": self._update_schedule,
            "DeleteMonitoringSchedule": self._delete_schedule,
            "ListMonitoringSchedules": self._list_schedules,
            "ListMonitoringExecutions": self._list_executions,
            "DescribeProcessingJob": self._describe_processing_job,
            "UpdateEndpoint": self._update_endpoint,
            "ListTags": self._tags,
            "AddTags": self._tags,
            "DeleteTags": self._tags,
            "CreateModel": self._check_model_images,
        }[operation]
        with self.lock:
            return handler(params, region)

    # Monitoring schedules.

    def _schedule(self, name: str, region: str) -> Schedule:
        if name not in self.schedules:
            arn = schedule_arn(name, region)
            raise Refused("ResourceNotFound", f"Monitoring Schedule {arn} does not exist.")
        return self.schedules[name]

    def _create_schedule(self, params: dict, region: str) -> dict:
        name = params["MonitoringScheduleName"]
        if name in self.schedules:
            raise Refused(
                "ResourceInUse", f"Monitoring Schedule {schedule_arn(name, region)} already exists."
            )
        config = params["MonitoringScheduleConfig"]
        endpoint = self._monitored_endpoint(config, region)
        now = datetime.now(UTC)
        schedule = Schedule(name, schedule_arn(name, region), config, params.get("Tags", []), now)
        self.schedules[name] = schedule
        if config.get("ScheduleConfig", {}).get("ScheduleExpression") == "NOW":
            self._run_now(schedule, endpoint, region, now)
        return {"MonitoringScheduleArn": schedule.arn}

    def _monitored_endpoint(self, config: dict, region: str) -> dict:
        """The endpoint the job reads, which must exist and capture data (SageMaker checks both)."""
        inputs = config.get("MonitoringJobDefinition", {}).get("MonitoringInputs", [])
        names = [item["EndpointInput"]["EndpointName"] for item in inputs if "EndpointInput" in item]
        if len(names) != 1:
            raise Refused("ValidationException", "exactly one EndpointInput is expected by this stand-in")
        sagemaker = self.console().client("sagemaker", region_name=region)
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=names[0])
        except ClientError as error:
            raise Refused("ValidationException", error.response["Error"]["Message"]) from error
        if not endpoint.get("DataCaptureConfig", {}).get("EnableCapture"):
            raise Refused("ValidationException", f"Endpoint {names[0]} does not capture data")
        return endpoint

    def _run_now(self, schedule: Schedule, endpoint: dict, region: str, now: datetime) -> None:
        schedule_part = schedule.config["ScheduleConfig"]
        start = now - _duration(schedule_part["DataAnalysisStartTime"])
        end = now - _duration(schedule_part["DataAnalysisEndTime"])
        definition = schedule.config["MonitoringJobDefinition"]
        job_name = f"monitoring-{now:%Y%m%d%H%M%S}-{len(self.executions):04d}"
        job = Job(definition, endpoint, schedule.name, start, end, job_name)
        result = run_job(job, self.console(), region)
        arn = f"arn:aws:sagemaker:{region}:{ACCOUNT}:processing-job/{job_name}"
        execution = Execution(schedule.name, endpoint["EndpointName"], job_name, arn, now, result, definition)
        self.executions.append(execution)

    def _describe_schedule(self, params: dict, region: str) -> dict:
        schedule = self._schedule(params["MonitoringScheduleName"], region)
        described = {
            "MonitoringScheduleArn": schedule.arn,
            "MonitoringScheduleName": schedule.name,
            "MonitoringScheduleStatus": schedule.status,
            "CreationTime": schedule.created,
            "LastModifiedTime": schedule.created,
            "MonitoringScheduleConfig": schedule.config,
        }
        mine = [execution for execution in self.executions if execution.schedule == schedule.name]
        if mine:
            described["LastMonitoringExecutionSummary"] = _summary(mine[-1])
        return described

    def _update_schedule(self, params: dict, region: str) -> dict:
        schedule = self._schedule(params["MonitoringScheduleName"], region)
        self._monitored_endpoint(params["MonitoringScheduleConfig"], region)
        schedule.config = params["MonitoringScheduleConfig"]
        return {"MonitoringScheduleArn": schedule.arn}

    def _delete_schedule(self, params: dict, region: str) -> dict:
        self._schedule(params["MonitoringScheduleName"], region)
        del self.schedules[params["MonitoringScheduleName"]]
        return {}

    def _list_schedules(self, params: dict, region: str) -> dict:
        def monitors(schedule: Schedule) -> str:
            inputs = schedule.config["MonitoringJobDefinition"]["MonitoringInputs"]
            return inputs[0]["EndpointInput"]["EndpointName"]

        found = [
            {
                "MonitoringScheduleName": schedule.name,
                "MonitoringScheduleArn": schedule.arn,
                "CreationTime": schedule.created,
                "LastModifiedTime": schedule.created,
                "MonitoringScheduleStatus": schedule.status,
                "EndpointName": monitors(schedule),
            }
            for schedule in self.schedules.values()
            if params.get("NameContains", "") in schedule.name
            and params.get("EndpointName", monitors(schedule)) == monitors(schedule)
        ]
        return {"MonitoringScheduleSummaries": found}

    def _list_executions(self, params: dict, region: str) -> dict:
        found = [
            execution
            for execution in self.executions
            if params.get("MonitoringScheduleName", execution.schedule) == execution.schedule
            and params.get("EndpointName", execution.endpoint) == execution.endpoint
        ]
        found.sort(key=lambda execution: execution.created, reverse=params.get("SortOrder") == "Descending")
        return {
            "MonitoringExecutionSummaries": [_summary(item) for item in found][: params.get("MaxResults")]
        }

    def _describe_processing_job(self, params: dict, region: str) -> dict | None:
        mine = [item for item in self.executions if item.job_name == params["ProcessingJobName"]]
        if not mine:
            return None  # moto's own processing jobs
        execution = mine[0]
        definition = execution.definition
        described = {
            "ProcessingJobName": execution.job_name,
            "ProcessingJobArn": execution.job_arn,
            "ProcessingJobStatus": "Completed" if execution.result.exit_code == 0 else "Failed",
            "ExitMessage": execution.result.message,
            "CreationTime": execution.created,
            "ProcessingResources": definition["MonitoringResources"],
            "AppSpecification": {"ImageUri": definition["MonitoringAppSpecification"]["ImageUri"]},
            "RoleArn": definition["RoleArn"],
            "MonitoringScheduleArn": schedule_arn(execution.schedule, region),
        }
        if execution.result.failure_reason:
            described["FailureReason"] = execution.result.failure_reason
        return described

    def _tags(self, params: dict, region: str) -> dict | None:
        """Tags of a monitoring schedule; every other resource's tags are moto's."""
        arn = params["ResourceArn"]
        if ":monitoring-schedule/" not in arn:
            return None
        schedule = self._schedule(arn.rsplit("/", 1)[1], region)
        tags = {tag["Key"]: tag["Value"] for tag in schedule.tags}
        tags |= {tag["Key"]: tag["Value"] for tag in params.get("Tags", [])}
        for key in params.get("TagKeys", []):
            tags.pop(key, None)
        schedule.tags = [{"Key": key, "Value": value} for key, value in tags.items()]
        return {"Tags": schedule.tags} if "TagKeys" not in params and "Tags" not in params else {}

    # Endpoints and models.

    def _update_endpoint(self, params: dict, region: str) -> dict:
        backend = sagemaker_backends[ACCOUNT][region]
        endpoint = backend.endpoints.get(params["EndpointName"])
        if endpoint is None:
            raise Refused("ValidationException", f"Could not find endpoint \"{params['EndpointName']}\".")
        config = backend.endpoint_configs.get(params["EndpointConfigName"])
        if config is None:
            name = params["EndpointConfigName"]
            raise Refused("ValidationException", f'Could not find endpoint configuration "{name}".')
        alarms = params.get("DeploymentConfig", {}).get("AutoRollbackConfiguration", {}).get("Alarms", [])
        self._check_alarms([alarm["AlarmName"] for alarm in alarms], region)
        # SageMaker brings up the new fleet, shifts traffic, bakes, then drops the old fleet; moto's
        # endpoint moves at once (the engine's waiter then sees InService on the new config).
        endpoint.endpoint_config_name = config.endpoint_config_name
        endpoint.production_variants = endpoint._process_production_variants(config.production_variants)
        endpoint.data_capture_config = config.data_capture_config
        endpoint.last_modified_time = datetime.now(UTC).isoformat()
        self.endpoint_updates.append(params)
        return {"EndpointArn": endpoint.arn}

    def _check_alarms(self, names: list[str], region: str) -> None:
        if not names:
            return
        cloudwatch = self.console().client("cloudwatch", region_name=region)
        found = {alarm["AlarmName"] for alarm in cloudwatch.describe_alarms(AlarmNames=names)["MetricAlarms"]}
        missing = sorted(set(names) - found)
        if missing:
            raise Refused("ValidationException", f"The alarm(s) {', '.join(missing)} do not exist")

    def _check_model_images(self, params: dict, region: str) -> None:
        """CreateModel, which moto answers, once every ECR image of the model is known to exist."""
        containers = [params["PrimaryContainer"]] if "PrimaryContainer" in params else []
        for container in containers + params.get("Containers", []):
            image = container.get("Image", "")
            if ".dkr.ecr." in image and find_in_ecr(self.console(), image, region) is None:
                raise Refused("ValidationException", f"Requested image {image} not found.")
        return None


def schedule_arn(name: str, region: str) -> str:
    return f"arn:aws:sagemaker:{region}:{ACCOUNT}:monitoring-schedule/{name}"


def _duration(text: str) -> timedelta:
    """SageMaker's negative offsets: -PT1H, -PT0H, -PT30M."""
    found = re.fullmatch(r"-PT(?:(\d+)H)?(?:(\d+)M)?", text)
    if not found:
        raise Refused("ValidationException", f"{text!r} is not an offset such as -PT1H")
    hours, minutes = found.groups()
    return timedelta(hours=int(hours or 0), minutes=int(minutes or 0))


def _summary(execution: Execution) -> dict:
    summary = {
        "MonitoringScheduleName": execution.schedule,
        "ScheduledTime": execution.created,
        "CreationTime": execution.created,
        "LastModifiedTime": execution.created,
        "MonitoringExecutionStatus": execution.result.status,
        "ProcessingJobArn": execution.job_arn,
        "EndpointName": execution.endpoint,
    }
    if execution.result.failure_reason:
        summary["FailureReason"] = execution.result.failure_reason
    return summary
