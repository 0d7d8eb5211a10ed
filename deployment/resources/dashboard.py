"""One CloudWatch dashboard per stage: traffic, latency, errors, resources, the monitor's numbers
and the alarms, where an operator looks first. Dashboards carry no tags: found by name."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from deployment.resources.alarm import alarm_arn
from deployment.resources.alert import INSTANCE, SAGEMAKER, alerts
from deployment.resources.base import Action, Kind, Phase, Run, Standalone

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

WIDTH, HEIGHT = 12, 6  # half of the dashboard's 24 columns each


@dataclass(frozen=True)
class Dashboard:
    name: str
    body: str  # canonical JSON (sorted keys), as compared with what CloudWatch holds


def console_url(names: Names) -> str:
    region = names.region
    return f"https://{region}.console.aws.amazon.com/cloudwatch/home?region={region}#dashboards/dashboard/{names.dashboard}"


def dashboard_body(config: Config, names: Names) -> dict:
    region = names.region
    endpoint = ["EndpointName", names.endpoint, "VariantName", config.endpoint.variant_name]

    def graph(title: str, metrics: list, stat: str = "Average", period: int = 60, **extra) -> dict:
        return {
            "type": "metric",
            "properties": {
                "title": title,
                "region": region,
                "stat": stat,
                "period": period,
                "metrics": metrics,
                **extra,
            },
        }

    def monitor(metric: str, label: str, stat: str = "Average") -> list:
        """The monitoring job's metric, whichever namespace SageMaker publishes it under."""
        query = f"SEARCH('MetricName=\"{metric}\" Endpoint=\"{names.endpoint}\"', '{stat}', 3600)"
        return [{"expression": query, "label": label, "id": metric.replace("_", "")}]

    widgets = [
        graph("Invocations per minute", [[SAGEMAKER, "Invocations", *endpoint]], stat="Sum"),
        graph(
            "Latency (microseconds)",
            [
                [SAGEMAKER, "ModelLatency", *endpoint, {"label": "model (mean)"}],
                [SAGEMAKER, "ModelLatency", *endpoint, {"stat": "p99", "label": "model (p99)"}],
                [SAGEMAKER, "OverheadLatency", *endpoint, {"label": "overhead (mean)"}],
            ],
        ),
        graph(
            "Errors per minute",
            [[SAGEMAKER, "Invocation4XXErrors", *endpoint], [SAGEMAKER, "Invocation5XXErrors", *endpoint]],
            stat="Sum",
        ),
    ]
    if not config.endpoint.serverless:
        widgets.append(
            graph(
                "CPU (summed over cores) and memory, %",
                [[INSTANCE, "CPUUtilization", *endpoint], [INSTANCE, "MemoryUtilization", *endpoint]],
            )
        )
    if config.monitoring.enabled:
        widgets += [
            graph(
                "Monitor: inference time from captured answers (ms)",
                [*monitor("inference_ms", "mean"), *monitor("inference_ms_p99", "p99", "Maximum")],
                period=3600,
            ),
            graph(
                "Monitor: person rate and mean keypoint score",
                [
                    *monitor("person_detected_rate", "person rate"),
                    *monitor("keypoint_score", "keypoint score"),
                ],
                period=3600,
            ),
        ]
    alarm_arns = [
        alarm_arn(region, names.account_id, name)
        for name in (names.error_alarm, names.latency_alarm, *(alert.name for alert in alerts(config, names)))
    ]
    widgets.append({"type": "alarm", "properties": {"title": "Alarms", "alarms": alarm_arns}})
    for index, widget in enumerate(widgets):
        widget.update(x=(index % 2) * WIDTH, y=(index // 2) * HEIGHT, width=WIDTH, height=HEIGHT)
    return {"widgets": widgets}


class DashboardResource(Standalone):
    kind = Kind.DASHBOARD
    phase = Phase.AFTER_ENDPOINT

    def desired(self, config: Config, names: Names) -> tuple[Dashboard, ...]:
        return (Dashboard(names.dashboard, canonical_body(dashboard_body(config, names))),)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[Dashboard, ...]:
        found = aws.dashboards.read(lookup.names.dashboard)
        return (found,) if found else ()

    def create(self, run: Run, action: Action) -> None:
        run.aws.dashboards.put(action.target)

    update = create

    def delete(self, run: Run, action: Action) -> None:
        run.aws.dashboards.delete(action.name)


def canonical_body(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"))


RESOURCES = (DashboardResource(),)
