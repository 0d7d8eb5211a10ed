"""CloudWatch alarms on the endpoint that roll a blue/green update back."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from deployment.naming import partition
from deployment.resources.base import Action, Kind, Phase, Run, Standalone, TagService

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup


@dataclass(frozen=True)
class Alarm:
    name: str
    metric_name: str  # Invocation5XXErrors | ModelLatency
    statistic: str
    threshold: float  # ModelLatency is in microseconds
    endpoint_name: str
    variant_name: str


class AlarmResource(Standalone):
    kind = Kind.ALARM
    tag_service = TagService.CLOUDWATCH
    phase = Phase.BEFORE_ENDPOINT  # UpdateEndpoint names them

    def desired(self, config: Config, names: Names) -> tuple[Alarm, ...]:
        variant = config.endpoint.variant_name
        return (
            Alarm(
                names.error_alarm,
                "Invocation5XXErrors",
                "Sum",
                config.update.rollback_on_5xx,
                names.endpoint,
                variant,
            ),
            # ModelLatency is reported in microseconds.
            Alarm(
                names.latency_alarm,
                "ModelLatency",
                "Average",
                config.update.rollback_on_latency_ms * 1000,
                names.endpoint,
                variant,
            ),
        )

    def read(self, aws: Aws, lookup: Lookup) -> tuple[Alarm, ...]:
        return aws.alarms.read([lookup.names.error_alarm, lookup.names.latency_alarm])

    def create(self, run: Run, action: Action) -> None:
        run.aws.alarms.put(action.target, run.tags)

    update = create  # PutMetricAlarm replaces the alarm whole

    def delete(self, run: Run, action: Action) -> None:
        run.aws.alarms.delete([action.name])

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return alarm_arn(region, account_id, name)


def alarm_arn(region: str, account_id: str, name: str) -> str:
    """A CloudWatch alarm's ARN: what its tags are reached by, and what a dashboard lists."""
    return f"arn:{partition(region)}:cloudwatch:{region}:{account_id}:alarm:{name}"


RESOURCES = (AlarmResource(),)
