"""CloudWatch alarms on the endpoint that roll a blue/green update back."""

from __future__ import annotations

from dataclasses import dataclass

from deployment.resources.base import Action, Kind, Resource, Run, TagService, partition


@dataclass(frozen=True)
class Alarm:
    name: str
    metric_name: str  # Invocation5XXErrors | ModelLatency
    statistic: str
    threshold: float  # ModelLatency is in microseconds
    endpoint_name: str
    variant_name: str


class AlarmResource(Resource):
    kind = Kind.ALARM
    tag_service = TagService.CLOUDWATCH

    def create(self, run: Run, action: Action) -> None:
        run.aws.alarms.put(action.target, run.tags)

    update = create  # PutMetricAlarm replaces the alarm whole

    def delete(self, run: Run, action: Action) -> None:
        run.aws.alarms.delete([action.name])

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return f"arn:{partition(region)}:cloudwatch:{region}:{account_id}:alarm:{name}"


RESOURCES = (AlarmResource(),)
