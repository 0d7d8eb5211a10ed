"""CloudWatch alarms that roll a blue/green endpoint update back."""

from __future__ import annotations

from deployment.aws.errors import tag_list
from deployment.resources.alarm import Alarm


class Alarms:
    def __init__(self, client) -> None:
        self.client = client

    def read(self, names: list[str]) -> tuple[Alarm, ...]:
        found = self.client.describe_alarms(AlarmNames=names)["MetricAlarms"]
        return tuple(_from_description(alarm) for alarm in found)

    def put(self, alarm: Alarm, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.put_metric_alarm(
            AlarmName=alarm.name,
            AlarmDescription=f"Rolls back updates of endpoint {alarm.endpoint_name}",
            Namespace="AWS/SageMaker",
            MetricName=alarm.metric_name,
            Dimensions=[
                {"Name": "EndpointName", "Value": alarm.endpoint_name},
                {"Name": "VariantName", "Value": alarm.variant_name},
            ],
            Statistic=alarm.statistic,
            Period=60,
            EvaluationPeriods=1,
            Threshold=alarm.threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",
            Tags=tag_list(tags),
        )

    def delete(self, names: list[str]) -> None:
        self.client.delete_alarms(AlarmNames=names)


def _from_description(alarm: dict) -> Alarm:
    dimensions = {d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}
    return Alarm(
        name=alarm["AlarmName"],
        metric_name=alarm["MetricName"],
        statistic=alarm["Statistic"],
        threshold=alarm["Threshold"],
        endpoint_name=dimensions.get("EndpointName", ""),
        variant_name=dimensions.get("VariantName", ""),
    )
