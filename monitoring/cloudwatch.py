"""The endpoint variant's metrics for the window, read with CloudWatch's GetMetricData.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html
boto3 is imported only here and only when a run reads CloudWatch: the local stack and `analyze`
run without it. Whatever fails (no credentials, no permission, throttling, no region) leaves the
run complete, with the reason among its notes: the capture statistics do not depend on it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from datetime import UTC
from typing import Any

from monitoring.config import ResourceSettings, Window
from monitoring.resources import CLOUDWATCH_METRICS, PERIOD_SECONDS, MetricData, MetricSpec, Series

log = logging.getLogger(__name__)
SOURCE = "CloudWatch"
MAX_PERIODS = 1440  # per series: a 24-hour window at one minute
MAX_PAGES = 50  # a bound on NextToken loops; 13 series of 1440 points fit in one page


def read_cloudwatch(
    settings: ResourceSettings, endpoint: str, window: Window, client: Any | None = None
) -> MetricData:
    """The series of every metric in CLOUDWATCH_METRICS; `client` is a boto3 CloudWatch client (tests)."""
    if not endpoint or window.start is None or window.end is None:
        return _failed("no endpoint name or no start_time and end_time to read CloudWatch for")
    period = PERIOD_SECONDS * max(
        1, math.ceil((window.end - window.start).total_seconds() / 60 / MAX_PERIODS)
    )
    try:
        client = client or _client(settings.region)
    except ImportError:
        return _failed("boto3 is not installed in the monitoring image", period)
    except Unavailable as error:
        return _failed(str(error), period)
    request = {
        "MetricDataQueries": queries(endpoint, settings.variant_name, period),
        "StartTime": window.start.astimezone(UTC),
        "EndTime": window.end.astimezone(UTC),
        "ScanBy": "TimestampAscending",
    }
    return _fetch(client, request, period)


def queries(endpoint: str, variant: str, period: int) -> list[dict]:
    dimensions = [{"Name": "EndpointName", "Value": endpoint}, {"Name": "VariantName", "Value": variant}]
    return [
        {
            "Id": query_id(spec, statistic),
            "MetricStat": {
                "Metric": {"Namespace": spec.namespace, "MetricName": spec.name, "Dimensions": dimensions},
                "Period": period,
                "Stat": statistic,
            },
            "ReturnData": True,
        }
        for spec in CLOUDWATCH_METRICS
        for statistic in spec.statistics
    ]


def query_id(spec: MetricSpec, statistic: str) -> str:
    """GetMetricData's Id: starts lower-case, letters, digits and underscores."""
    return f"{spec.name[0].lower()}{spec.name[1:]}_{statistic.lower()}"


def _fetch(client: Any, request: dict, period: int) -> MetricData:
    """Every page; a request that fails keeps what the pages before it returned."""
    from botocore.exceptions import BotoCoreError, ClientError  # present whenever a client is

    points: dict[str, list] = {query["Id"]: [] for query in request["MetricDataQueries"]}
    problems: list[str] = []
    try:
        for response in _pages(client, request, problems):
            for result in response.get("MetricDataResults", []):
                if result.get("Id") in points:
                    pairs = zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                    points[result["Id"]] += pairs
                    if result.get("StatusCode") in ("InternalError", "Forbidden"):
                        problems.append(f"{result.get('Label') or result['Id']}: {result['StatusCode']}")
            problems += [f"{note.get('Code')}: {note.get('Value')}" for note in response.get("Messages", [])]
    except (BotoCoreError, ClientError) as error:
        log.warning("CloudWatch GetMetricData failed: %s", error)
        problems.append(f"GetMetricData failed: {error}")
    lookup = {
        query_id(spec, stat): (spec.name, stat) for spec in CLOUDWATCH_METRICS for stat in spec.statistics
    }
    series = tuple(
        Series(
            *lookup[query], tuple(sorted((moment.astimezone(UTC), float(value)) for moment, value in found))
        )
        for query, found in points.items()
    )
    return MetricData(SOURCE, CLOUDWATCH_METRICS, series, tuple(problems), period)


def _pages(client: Any, request: dict, problems: list[str]) -> Iterator[dict]:
    """GetMetricData's answers, following NextToken (at most MAX_PAGES)."""
    token = None
    for _ in range(MAX_PAGES):
        response = client.get_metric_data(**request, **({"NextToken": token} if token else {}))
        yield response
        token = response.get("NextToken")
        if not token:
            return
    problems.append(f"more than {MAX_PAGES} pages of data; the rest was not read")


class Unavailable(Exception):
    """No client could be made (no region, say)."""


def _client(region: str | None) -> Any:
    import boto3  # lazily: only a run on SageMaker reads CloudWatch
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    config = Config(connect_timeout=5, read_timeout=20, retries={"max_attempts": 4, "mode": "standard"})
    try:
        return boto3.client("cloudwatch", region_name=region, config=config)
    except BotoCoreError as error:
        raise Unavailable(f"no CloudWatch client: {error}") from error


def _failed(reason: str, period: int = PERIOD_SECONDS) -> MetricData:
    return MetricData(SOURCE, CLOUDWATCH_METRICS, (), (reason,), period)
