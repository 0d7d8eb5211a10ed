"""CloudWatch alarms: those that roll a blue/green endpoint update back, and those that alert people."""

from __future__ import annotations

from deployment.aws.errors import tag_list
from deployment.resources.alarm import Alarm
from deployment.resources.alert import Alert, Metric


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

    def read_alerts(self, prefix: str) -> tuple[Alert, ...]:
        """The alerting alarms whose names start with `prefix`, with their current state."""
        pages = self.client.get_paginator("describe_alarms").paginate(
            AlarmNamePrefix=prefix, AlarmTypes=["MetricAlarm"]
        )
        return tuple(_alert_from(alarm) for page in pages for alarm in page["MetricAlarms"])

    def put_alert(self, alert: Alert, tags: tuple[tuple[str, str], ...]) -> None:
        queries = [
            {
                "Id": metric.id,
                "MetricStat": {
                    "Metric": {
                        "Namespace": metric.namespace,
                        "MetricName": metric.name,
                        "Dimensions": [{"Name": k, "Value": v} for k, v in metric.dimensions],
                    },
                    "Period": alert.period_seconds,
                    "Stat": metric.statistic,
                },
                "ReturnData": not alert.expression,
            }
            for metric in alert.metrics
        ]
        if alert.expression:
            queries.append({"Id": "alert", "Expression": alert.expression, "ReturnData": True})
        self.client.put_metric_alarm(
            AlarmName=alert.name,
            AlarmDescription=alert.description,
            Metrics=queries,
            EvaluationPeriods=alert.evaluation_periods,
            DatapointsToAlarm=alert.datapoints_to_alarm,
            Threshold=alert.threshold,
            ComparisonOperator="GreaterThanOrEqualToThreshold",
            TreatMissingData="notBreaching",  # no traffic, no data: nothing to alert about
            ActionsEnabled=True,
            AlarmActions=list(alert.actions),
            OKActions=[],
            Tags=tag_list(tags),
        )


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


def _alert_from(alarm: dict) -> Alert:
    metrics, expression, period = [], "", 0
    for query in alarm.get("Metrics", []):
        if "Expression" in query:
            expression = query["Expression"]
            continue
        stat = query["MetricStat"]
        period = stat.get("Period", period)
        metric = stat["Metric"]
        dimensions = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
        metrics.append(
            Metric(query["Id"], metric["Namespace"], metric["MetricName"], dimensions, stat["Stat"])
        )
    return Alert(
        name=alarm["AlarmName"],
        description=alarm.get("AlarmDescription", ""),
        metrics=tuple(metrics),
        expression=expression,
        threshold=alarm["Threshold"],
        period_seconds=period,
        evaluation_periods=alarm["EvaluationPeriods"],
        datapoints_to_alarm=alarm.get("DatapointsToAlarm", alarm["EvaluationPeriods"]),
        actions=tuple(alarm.get("AlarmActions", [])),
        state=alarm.get("StateValue", ""),
    )
