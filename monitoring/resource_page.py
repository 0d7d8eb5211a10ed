"""report.html's "Endpoint resources" section: CPU per core and memory over the window, a table of
every endpoint metric, and what could not be read. The same section for CloudWatch and local samples."""

from __future__ import annotations

from datetime import datetime
from html import escape

from monitoring import charts
from monitoring.charts import Limit, Line
from monitoring.contract import ResourceLimits
from monitoring.resources import (
    CPU,
    DISK,
    ERRORS_4XX,
    ERRORS_5XX,
    INVOCATIONS,
    MEMORY,
    MODEL_LATENCY,
    OVERHEAD_LATENCY,
    RESIDENT_MEMORY,
    EndpointResources,
    MetricSummary,
)

AVERAGE_COLOUR, PEAK_COLOUR = "#1f4e79", "#e0a030"
MEBIBYTE = 1024 * 1024


def resource_section(
    resources: EndpointResources, limits: ResourceLimits, span: tuple[float, float] | None
) -> str:
    if not resources.source:
        return ""
    parts = [
        "<h2>Endpoint resources</h2>",
        f"<p>From {escape(resources.source)}, per {resources.period_seconds / 60:g} minute"
        f"{'' if resources.period_seconds == 60 else 's'} (UTC); CPU per core over {resources.vcpus} vCPUs.</p>",
    ]
    cpu_limit = _limits("per core", limits.max_cpu_percent_per_core)
    parts.append(
        _chart("CPU per core", "%", resources.metric(CPU.name), span, resources, cpu_limit, resources.vcpus)
    )
    memory = resources.metric(MEMORY.name)
    parts.append(
        _chart(
            "Memory in use",
            "% of the machine",
            memory,
            span,
            resources,
            _limits("", limits.max_memory_percent),
        )
    )
    resident = resources.metric(RESIDENT_MEMORY.name)
    if resident is not None:
        title = "Resident memory of the inference server"
        parts.append(_chart(title, "MiB", resident, span, resources, [], MEBIBYTE))
    parts.append(_table(_rows(resources)))
    if resources.unavailable or resources.problems:
        items = [f"no data for {', '.join(resources.unavailable)}"] if resources.unavailable else []
        items += list(resources.problems)
        parts.append(f"<ul>{''.join(f'<li>{escape(item)}</li>' for item in items)}</ul>")
    return "\n".join(parts)


def _limits(what: str, percent: float | None) -> list[Limit]:
    return [Limit(f"max {percent:g}%{' ' + what if what else ''}", percent)] if percent is not None else []


def _chart(
    title: str,
    unit: str,
    summary: MetricSummary | None,
    span: tuple[float, float] | None,
    resources: EndpointResources,
    limits: list[Limit],
    divisor: float = 1.0,
) -> str:
    if summary is None:
        empty = charts.time_chart(title, [], [], span or (0.0, 1.0), resources.period_seconds, unit)
        return f"<h3>{escape(title)}</h3>{empty}"
    middle = resources.period_seconds / 2
    lines = [
        Line(
            f"{statistic.lower()}",
            colour,
            [
                (moment.timestamp() + middle, values[index] / divisor)
                for moment, values in summary.per_period
                if values[index] is not None
            ],
            width=2.5 if index == 0 else 1.5,
        )
        for index, (statistic, colour) in enumerate(
            zip(summary.spec.statistics, (AVERAGE_COLOUR, PEAK_COLOUR), strict=False)
        )
    ]
    first: datetime = summary.per_period[0][0]
    window = span or (first.timestamp(), summary.per_period[-1][0].timestamp() + resources.period_seconds)
    return f"<h3>{escape(title)}</h3>" + charts.time_chart(
        title, lines, limits, window, resources.period_seconds, unit
    )


def _rows(resources: EndpointResources) -> list[tuple[str, str]]:
    rows = []
    per_core = resources.cpu_per_core
    if per_core:
        rows.append(("CPU per core: mean / max", f"{per_core[0]:.1f}% / {per_core[1]:.1f}%"))
    for spec, label in ((CPU, "CPU, summed over cores"), (MEMORY, "memory"), (DISK, "disk")):
        summary = resources.metric(spec.name)
        if summary:
            rows.append((f"{label}: mean / max", f"{summary.mean:.1f}% / {summary.maximum:.1f}%"))
    resident = resources.metric(RESIDENT_MEMORY.name)
    if resident:
        rows.append(
            (
                "resident memory: mean / max",
                f"{resident.mean / MEBIBYTE:,.0f} / {resident.maximum / MEBIBYTE:,.0f} MiB",
            )
        )
    for spec, label in ((MODEL_LATENCY, "model latency"), (OVERHEAD_LATENCY, "overhead latency")):
        summary = resources.metric(spec.name)
        if summary:  # CloudWatch's latencies are in microseconds
            rows.append(
                (f"{label}: mean / max", f"{summary.mean / 1000:,.1f} / {summary.maximum / 1000:,.1f} ms")
            )
    for spec in (INVOCATIONS, ERRORS_4XX, ERRORS_5XX):
        summary = resources.metric(spec.name)
        if summary:
            rows.append((spec.name, f"{summary.total:,.0f}"))
    errors = resources.error_percent
    if errors:
        rows.append(("5XX share of invocations", f"{errors[2]:.2f}%"))
    expected = resources.periods_expected
    for summary in resources.metrics:
        if expected:
            rows.append((f"{summary.spec.name}: periods with data", f"{summary.minutes} of {expected}"))
    return rows


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th>{escape(name)}</th><td class="number">{escape(value)}</td></tr>' for name, value in rows
    )
    return f"<table>{body}</table>"
