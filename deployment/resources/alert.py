"""Alarms that notify people: on the alerts topic (alerts.emails) and alerts.topic_arn.

The rollback alarms (alarm.py) roll a blue/green update back; these watch the running stage:
5XX answers, model latency over monitoring.threshold_seconds, the monitoring job's violations,
and the resource thresholds in `monitoring` (memory, CPU per core, error percent) when set. They
exist whether or not anyone is subscribed, so the dashboard shows their state either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deployment.resources.alarm import alarm_arn
from deployment.resources.base import Action, Kind, Phase, Run, Standalone, TagService

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

SAGEMAKER = "AWS/SageMaker"
INSTANCE = "/aws/sagemaker/Endpoints"  # CPU, memory and disk of the endpoint's instances
# AWS documents the monitoring job's namespace spelled both ways: the alarm watches both.
MONITOR_NAMESPACES = ("aws/sagemaker/Endpoints/data-metrics", "/aws/sagemaker/Endpoint/data-metrics")
VIOLATION_METRIC = "violation_count"  # published by the monitoring job with its other metrics
FIVE_MINUTES = 300
HOUR = 3600


@dataclass(frozen=True)
class Metric:
    id: str  # how the alarm's expression names it
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    statistic: str


@dataclass(frozen=True)
class Alert:
    name: str
    description: str
    metrics: tuple[Metric, ...]
    expression: str  # metric math over the metrics' ids; "" to watch the single metric itself
    threshold: float
    period_seconds: int
    evaluation_periods: int
    datapoints_to_alarm: int
    actions: tuple[str, ...]  # SNS topic ARNs
    state: str = field(default="", compare=False)  # read back: OK | ALARM | INSUFFICIENT_DATA


def alerts(config: Config, names: Names) -> tuple[Alert, ...]:
    actions = tuple(
        arn
        for arn in (names.alert_topic_arn if config.alerts.emails else None, config.alerts.topic_arn)
        if arn
    )
    endpoint = (("EndpointName", names.endpoint), ("VariantName", config.endpoint.variant_name))

    def endpoint_metric(id_: str, namespace: str, metric: str, statistic: str) -> Metric:
        return Metric(id_, namespace, metric, endpoint, statistic)

    def alert(what: str, description: str, metrics, expression: str, threshold: float, **timing) -> Alert:
        period, periods, datapoints = (
            timing.get("period", FIVE_MINUTES),
            timing.get("of", 3),
            timing.get("at", 2),
        )
        return Alert(
            names.alert(what),
            description,
            tuple(metrics),
            expression,
            threshold,
            period,
            periods,
            datapoints,
            actions,
        )

    monitoring = config.monitoring
    found = [
        alert(
            "5xx",
            f"{names.endpoint} answered with server errors (5XX)",
            [endpoint_metric("errors", SAGEMAKER, "Invocation5XXErrors", "Sum")],
            "",
            1,
            of=1,
            at=1,
        ),
        alert(
            "latency",
            f"{names.endpoint}'s average model latency passed {monitoring.threshold_seconds:g} s",
            [endpoint_metric("latency", SAGEMAKER, "ModelLatency", "Average")],
            "",
            monitoring.threshold_seconds * 1_000_000,  # ModelLatency is in microseconds
        ),
    ]
    if monitoring.enabled:
        schedule = (("Endpoint", names.endpoint), ("MonitoringSchedule", names.monitoring_schedule))
        spellings = [
            Metric(f"v{index}", namespace, VIOLATION_METRIC, schedule, "Maximum")
            for index, namespace in enumerate(MONITOR_NAMESPACES, 1)
        ]
        found.append(
            alert(
                "violations",
                f"The monitoring job found violations on {names.endpoint} (see its report)",
                spellings,
                "MAX([FILL(v1, 0), FILL(v2, 0)])",
                1,
                # An hourly job reports its window an hour or more after it starts: two hours are watched.
                period=HOUR,
                of=2,
                at=1,
            )
        )
    if monitoring.max_memory_percent is not None:
        found.append(
            alert(
                "memory",
                f"{names.endpoint} uses more than {monitoring.max_memory_percent:g}% of its memory",
                [endpoint_metric("memory", INSTANCE, "MemoryUtilization", "Average")],
                "",
                monitoring.max_memory_percent,
            )
        )
    if monitoring.max_cpu_percent_per_core is not None:
        cores = vcpus(config.endpoint.instance_type)
        found.append(
            alert(
                "cpu",
                f"{names.endpoint} uses more than {monitoring.max_cpu_percent_per_core:g}% CPU per core",
                [endpoint_metric("cpu", INSTANCE, "CPUUtilization", "Average")],
                f"cpu / {cores}",  # SageMaker sums CPUUtilization over the instance's cores
                monitoring.max_cpu_percent_per_core,
            )
        )
    if monitoring.max_error_percent is not None:
        found.append(
            alert(
                "error-rate",
                f"More than {monitoring.max_error_percent:g}% of {names.endpoint}'s answers are 5XX",
                [
                    endpoint_metric("errors", SAGEMAKER, "Invocation5XXErrors", "Sum"),
                    endpoint_metric("invocations", SAGEMAKER, "Invocations", "Sum"),
                ],
                "IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)",
                monitoring.max_error_percent,
            )
        )
    return tuple(found)


def vcpus(instance_type: str) -> int:
    """vCPUs from the size in an instance type's name, by EC2's naming (large 2, xlarge 4, 8xlarge 32...)."""
    size = instance_type.rsplit(".", 1)[-1]
    if size in ("medium", "large"):
        return 2
    if size == "xlarge":
        return 4
    multiple = size.removesuffix("xlarge")
    return 4 * int(multiple) if multiple.isdigit() else 2


class AlertResource(Standalone):
    kind = Kind.ALERT
    tag_service = TagService.CLOUDWATCH
    phase = Phase.BEFORE_ENDPOINT  # after the topic it notifies (the registry's order)

    def desired(self, config: Config, names: Names) -> tuple[Alert, ...]:
        return alerts(config, names)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[Alert, ...]:
        return aws.alarms.read_alerts(lookup.names.alert(""))

    def create(self, run: Run, action: Action) -> None:
        run.aws.alarms.put_alert(action.target, run.tags)

    update = create  # PutMetricAlarm replaces the alarm whole

    def delete(self, run: Run, action: Action) -> None:
        run.aws.alarms.delete([action.name])

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return alarm_arn(region, account_id, name)


RESOURCES = (AlertResource(),)
