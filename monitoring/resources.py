"""The endpoint's own metrics over the window (CPU, memory, disk, invocations, latency, errors): pure.

A source (CloudWatch's GetMetricData in monitoring/cloudwatch.py, the local stack's sample files in
monitoring/samples.py) answers per-minute series; everything after that is shared: the summary in
statistics.json, the checks against the thresholds, the report's charts. A metric without data is
named as unavailable, never a violation: a new endpoint, or one with gaps, is not a faulty one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

from monitoring.config import Window

INSTANCE = "/aws/sagemaker/Endpoints"  # the endpoint instances' CPU, memory and disk
SAGEMAKER = "AWS/SageMaker"  # invocations, latency and errors of the endpoint's variant
LOCAL = "local"  # what only the local stack measures
PERIOD_SECONDS = 60
AVERAGE, MAXIMUM, SUM = "Average", "Maximum", "Sum"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    namespace: str
    unit: str  # CloudWatch's unit of the values
    statistics: tuple[str, ...]  # read per minute; the first is the headline (mean over minutes, total)


CPU = MetricSpec("CPUUtilization", INSTANCE, "Percent", (AVERAGE, MAXIMUM))  # summed over cores
MEMORY = MetricSpec("MemoryUtilization", INSTANCE, "Percent", (AVERAGE, MAXIMUM))
DISK = MetricSpec("DiskUtilization", INSTANCE, "Percent", (AVERAGE, MAXIMUM))
INVOCATIONS = MetricSpec("Invocations", SAGEMAKER, "Count", (SUM,))
MODEL_LATENCY = MetricSpec("ModelLatency", SAGEMAKER, "Microseconds", (AVERAGE, MAXIMUM))
OVERHEAD_LATENCY = MetricSpec("OverheadLatency", SAGEMAKER, "Microseconds", (AVERAGE, MAXIMUM))
ERRORS_4XX = MetricSpec("Invocation4XXErrors", SAGEMAKER, "Count", (SUM,))
ERRORS_5XX = MetricSpec("Invocation5XXErrors", SAGEMAKER, "Count", (SUM,))
RESIDENT_MEMORY = MetricSpec("MemoryResidentBytes", LOCAL, "Bytes", (AVERAGE, MAXIMUM))
CLOUDWATCH_METRICS = (CPU, MEMORY, DISK, INVOCATIONS, MODEL_LATENCY, OVERHEAD_LATENCY, ERRORS_4XX, ERRORS_5XX)
LOCAL_METRICS = (CPU, MEMORY, RESIDENT_MEMORY)
ALL_METRICS = {spec.name: spec for spec in (*CLOUDWATCH_METRICS, RESIDENT_MEMORY)}


@dataclass(frozen=True)
class Series:
    """One statistic of one metric, a value per period (the period's start), oldest first."""

    metric: str
    statistic: str
    points: tuple[tuple[datetime, float], ...]


@dataclass(frozen=True)
class MetricData:
    """What a source answered for the metrics it was asked for."""

    source: str  # "CloudWatch", "local samples in DIR"
    requested: tuple[MetricSpec, ...]
    series: tuple[Series, ...] = ()
    problems: tuple[str, ...] = ()  # why some or all of it could not be read
    period_seconds: int = PERIOD_SECONDS


@dataclass(frozen=True)
class MetricSummary:
    spec: MetricSpec
    minutes: int  # periods with a headline value
    mean: float  # of the headline statistic over the periods (for a Sum: per period)
    maximum: float  # the largest Maximum (else headline) of any period
    total: float | None  # for a Sum
    per_period: tuple[tuple[datetime, tuple[float | None, ...]], ...]  # values in spec.statistics' order


@dataclass(frozen=True)
class EndpointResources:
    source: str = ""
    vcpus: int = 0
    period_seconds: int = PERIOD_SECONDS
    periods_expected: int | None = None  # in the window, when it has both ends
    metrics: tuple[MetricSummary, ...] = ()
    unavailable: tuple[str, ...] = ()  # metric names asked for, with no data in the window
    problems: tuple[str, ...] = ()
    requested: tuple[str, ...] = field(default=())

    def metric(self, name: str) -> MetricSummary | None:
        return next((summary for summary in self.metrics if summary.spec.name == name), None)

    @property
    def cpu_per_core(self) -> tuple[float, float] | None:
        """(mean, max) CPU percent per core: CloudWatch sums CPUUtilization over the vCPUs."""
        cpu = self.metric(CPU.name)
        if cpu is None or self.vcpus < 1:
            return None
        return cpu.mean / self.vcpus, cpu.maximum / self.vcpus

    @property
    def error_percent(self) -> tuple[float, float, float] | None:
        """(5XX errors, invocations, percent) over the window; None without invocations to divide by."""
        invocations = self.metric(INVOCATIONS.name)
        if invocations is None or not invocations.total:
            return None
        errors = self.metric(ERRORS_5XX.name)
        if errors is None:
            return None  # 5XX not reported: unknown, not zero
        return errors.total, invocations.total, 100.0 * errors.total / invocations.total


NO_RESOURCES = EndpointResources()


def summarize(data: MetricData, window: Window, vcpus: int) -> EndpointResources:
    """Per-metric mean, max and per-period values; metrics with no data point are `unavailable`."""
    by_metric: dict[str, dict[str, Series]] = {}
    for series in data.series:
        if series.points:
            by_metric.setdefault(series.metric, {})[series.statistic] = series
    summaries = []
    for spec in data.requested:
        found = by_metric.get(spec.name, {})
        if spec.statistics[0] in found:
            summaries.append(_summary(spec, found))
    expected = None
    if window.start and window.end:
        expected = math.ceil((window.end - window.start).total_seconds() / data.period_seconds)
    return EndpointResources(
        source=data.source,
        vcpus=vcpus,
        period_seconds=data.period_seconds,
        periods_expected=expected,
        metrics=tuple(summaries),
        unavailable=tuple(
            spec.name for spec in data.requested if spec.statistics[0] not in by_metric.get(spec.name, {})
        ),
        problems=data.problems,
        requested=tuple(spec.name for spec in data.requested),
    )


def _summary(spec: MetricSpec, found: dict[str, Series]) -> MetricSummary:
    columns = [dict(found[statistic].points) if statistic in found else {} for statistic in spec.statistics]
    headline = columns[0]
    moments = sorted(set().union(*columns))
    per_period = tuple((moment, tuple(column.get(moment) for column in columns)) for moment in moments)
    values = list(headline.values())
    peaks = [value for value in (columns[1] if len(columns) > 1 and columns[1] else headline).values()]
    return MetricSummary(
        spec=spec,
        minutes=len(values),
        mean=sum(values) / len(values),
        maximum=max(peaks),
        total=sum(values) if spec.statistics[0] == SUM else None,
        per_period=per_period,
    )
