"""Statistics and violations to the files SageMaker reads.

SageMaker's outputs contract: https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-outputs.html

`output_path`: statistics.json and constraint_violations.json. `/opt/ml/output`: the status message
(the job's ExitMessage, first 1 KB) and, when enabled, CloudWatch metrics as JSON lines.
"""

from __future__ import annotations

import json
import logging
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitoring.aggregates import PEOPLE_LABELS, Summary
from monitoring.by_model import model_document
from monitoring.checks import Statistics, Violation
from monitoring.config import MonitorConfig, Thresholds
from monitoring.contract import (
    MESSAGE_FILE,
    NO_LIMITS,
    STATISTICS_FILE,
    VIOLATIONS_FILE,
    ResourceLimits,
    format_time,
)
from monitoring.dataset import ScanCounts
from monitoring.resources import INSTANCE, LOCAL, EndpointResources

log = logging.getLogger(__name__)

METRICS_DIR = Path("metrics") / "cloudwatch"
METRICS_FILE = "pose-monitor.jsonl"
MESSAGE_LIMIT_BYTES = 1024  # SageMaker keeps the first 1 KB as the job's ExitMessage
COMPLETED = "Completed"
COMPLETED_WITH_VIOLATIONS = "CompletedWithViolations"
FAILED = "Failed"


@dataclass(frozen=True)
class Metric:
    """One CloudWatch datum: a single value, or a statistic set (never both)."""

    name: str
    unit: str
    value: float | None = None
    statistic: Summary | None = None


def write_results(config: MonitorConfig, statistics: Statistics, violations: tuple[Violation, ...]) -> str:
    """Write every output of a completed run; returns the status message."""
    config.output_path.mkdir(parents=True, exist_ok=True)
    document = statistics_document(statistics, config.thresholds, config.resources.limits)
    _write_json(config.output_path / STATISTICS_FILE, document)
    _write_json(config.output_path / VIOLATIONS_FILE, violations_document(violations))
    if config.publish_metrics:
        write_metrics(config, statistics, violations)
    message = status_message(statistics, violations, config.thresholds)
    write_message(config.output_root, message)
    return message


def write_message(output_root: Path, message: str) -> None:
    """The first 1 KB, cut on a UTF-8 character boundary, becomes the job's ExitMessage."""
    output_root.mkdir(parents=True, exist_ok=True)
    encoded = message.encode("utf-8")[:MESSAGE_LIMIT_BYTES]
    (output_root / MESSAGE_FILE).write_bytes(encoded.decode("utf-8", "ignore").encode("utf-8"))


def failure_message(reason: str) -> str:
    return f"{FAILED}: {reason}"


def violations_document(violations: tuple[Violation, ...]) -> dict:
    return {
        "violations": [
            {
                "feature_name": violation.feature_name,
                "constraint_check_type": violation.constraint_check_type,
                "description": violation.description,
            }
            for violation in violations
        ]
    }


def statistics_document(
    statistics: Statistics, thresholds: Thresholds, limits: ResourceLimits = NO_LIMITS
) -> dict:
    """SageMaker's statistics.json shape (version, dataset, features) plus our own sections."""
    window = statistics.window
    return {
        "version": 0,
        "dataset": {"item_count": statistics.records},
        "window": {
            "start_time": format_time(window.start) if window.start else None,
            "end_time": format_time(window.end) if window.end else None,
        },
        "thresholds": {
            "mean_seconds": thresholds.mean_seconds,
            "p99_seconds": thresholds.p99_seconds,
            "max_memory_percent": limits.max_memory_percent,
            "max_cpu_percent_per_core": limits.max_cpu_percent_per_core,
            "max_error_percent": limits.max_error_percent,
        },
        "capture": _capture_section(statistics.scan),
        "responses": _responses_section(statistics),
        "features": [
            _latency_feature(statistics),
            _feature("keypoint_score", "Fractional", statistics.keypoint_score, statistics.predictions, 4),
            _feature("request_bytes", "Integral", statistics.request_bytes, statistics.records, 1),
            _people_feature(statistics),
        ],
        "latency_over_time": _timeline_section(statistics),
        "models": {model.name: model_document(model) for model in statistics.models},
        "endpoint_resources": resources_section(statistics.resources),
        "notes": notes(statistics),
    }


def notes(statistics: Statistics) -> list[str]:
    """What an operator should know beyond the numbers."""
    found = []
    if not statistics.records:
        found.append(f"no traffic: no captured records {statistics.window.describe()}")
    elif not statistics.latency.summary.count:
        found.append(f"no predictions to time: all {statistics.records} records are errors or uncaptured")
    if statistics.scan.unreadable:
        count = statistics.scan.unreadable
        found.append(f"{count} unreadable capture line{'' if count == 1 else 's'} skipped")
    return found + resource_notes(statistics.resources, statistics)


def resource_notes(resources: EndpointResources, statistics: Statistics) -> list[str]:
    """Which endpoint metrics could not be read or had gaps: reported, never a violation."""
    if not resources.source:
        return []
    found = [f"{resources.source}: {problem}" for problem in resources.problems]
    if resources.unavailable:
        found.append(
            f"unavailable from {resources.source} {statistics.window.describe()}: {', '.join(resources.unavailable)}"
        )
    expected = resources.periods_expected
    gaps = [
        f"{summary.spec.name} {summary.minutes} of {expected}"
        for summary in resources.metrics
        if summary.spec.namespace in (INSTANCE, LOCAL) and expected and summary.minutes < expected
    ]
    if gaps:
        found.append(f"minutes with data from {resources.source}: {', '.join(gaps)}")
    return found


def status_message(statistics: Statistics, violations: tuple[Violation, ...], thresholds: Thresholds) -> str:
    latency = statistics.latency
    parts = [f"{statistics.records} records {statistics.window.describe()}"] if statistics.records else []
    if latency.summary.count:
        parts.append(
            f"average inference {latency.summary.mean:.1f} ms (threshold {thresholds.mean_seconds * 1000:g} ms), "
            f"p99 {latency.p99:.1f} ms over {latency.summary.count} predictions"
        )
    if statistics.records:
        parts.append(f"{statistics.errors} errors")
    parts.extend(notes(statistics))
    summary = "; ".join(parts)
    if violations:
        return (
            f"{COMPLETED_WITH_VIOLATIONS}: " + "; ".join(v.description for v in violations) + f". {summary}"
        )
    return f"{COMPLETED}: {summary}"


def metrics(statistics: Statistics, violations: tuple[Violation, ...] = ()) -> list[Metric]:
    """The numbers worth an alarm or a graph; statistic sets only where there are samples.
    `violation_count` is what the stage's alert on the monitor watches (deployment/resources/alert.py)."""
    found = [
        Metric("violation_count", "Count", value=len(violations)),
        Metric("record_count", "Count", value=statistics.records),
        Metric("error_count", "Count", value=statistics.errors),
        Metric("unreadable_record_count", "Count", value=statistics.scan.unreadable),
    ]
    latency = statistics.latency
    if latency.summary.count:
        found.append(Metric("inference_ms", "Milliseconds", statistic=latency.summary))
        found.append(Metric("inference_ms_p99", "Milliseconds", value=latency.p99))
    if statistics.person_detected_rate is not None:
        found.append(Metric("person_detected_rate", "None", value=statistics.person_detected_rate))
    if statistics.keypoint_score.count:
        found.append(Metric("keypoint_score", "None", statistic=statistics.keypoint_score))
    if statistics.request_bytes.count:
        found.append(Metric("request_bytes", "Bytes", statistic=statistics.request_bytes))
    if statistics.people.summary.count:
        found.append(Metric("people_per_photo", "Count", statistic=statistics.people.summary))
    return found


def metric_lines(
    config: MonitorConfig, statistics: Statistics, violations: tuple[Violation, ...] = ()
) -> list[dict]:
    """CloudWatch's PutMetricData shape, stamped with the start of the hour the traffic belongs to."""
    window = config.window
    moment = window.start or window.end or datetime.now(UTC)
    dimensions = [
        {"Name": "Endpoint", "Value": config.endpoint_name},
        {"Name": "MonitoringSchedule", "Value": config.schedule_name},
    ]
    lines = []
    for metric in metrics(statistics, violations):
        line = {"MetricName": metric.name, "Timestamp": format_time(moment), "Dimensions": dimensions}
        if metric.statistic is not None:
            line["StatisticValues"] = {
                "SampleCount": float(metric.statistic.count),
                "Sum": metric.statistic.total,
                "Minimum": metric.statistic.minimum,
                "Maximum": metric.statistic.maximum,
            }
        else:
            line["Value"] = float(metric.value)
        line["Unit"] = metric.unit
        lines.append(line)
    return lines


def write_metrics(
    config: MonitorConfig, statistics: Statistics, violations: tuple[Violation, ...] = ()
) -> Path:
    folder = config.output_root / METRICS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / METRICS_FILE
    lines = metric_lines(config, statistics, violations)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), "utf-8")
    return path


def _capture_section(scan: ScanCounts) -> dict:
    return {
        "files": scan.files,
        "lines": scan.lines,
        "in_window": scan.in_window,
        "outside_window": scan.outside_window,
        "unreadable": scan.unreadable,
        "unreadable_examples": list(scan.unreadable_examples),
        "variants": dict(scan.variants),
    }


def _responses_section(statistics: Statistics) -> dict:
    return {
        **{outcome.value: count for outcome, count in statistics.outcomes},
        "errors": statistics.errors,
        "error_rate": _round(statistics.error_rate, 4),
        "output_not_captured": statistics.output_not_captured,
        "person_detected": statistics.person_detected,
        "person_detected_rate": _round(statistics.person_detected_rate, 4),
    }


def _timeline_section(statistics: Statistics) -> dict:
    return {
        "bucket_seconds": statistics.timeline_seconds,
        "buckets": [
            {
                "start": format_time(bucket.start),
                "count": bucket.count,
                "errors": bucket.errors,
                "mean_inference_ms": _round(bucket.latency.mean, 3),
                "max_inference_ms": _round(bucket.latency.maximum, 3),
            }
            for bucket in statistics.timeline
        ],
    }


def resources_section(resources: EndpointResources) -> dict | None:
    """Mean, max and per-period values of each endpoint metric; CPU per core and the 5XX share."""
    if not resources.source:
        return None
    per_core = resources.cpu_per_core
    errors = resources.error_percent
    return {
        "source": resources.source,
        "vcpus": resources.vcpus,
        "period_seconds": resources.period_seconds,
        "periods_in_window": resources.periods_expected,
        "unavailable": list(resources.unavailable),
        "problems": list(resources.problems),
        "cpu_percent_per_core": (
            {"mean": _round(per_core[0], 3), "max": _round(per_core[1], 3)} if per_core else None
        ),
        "error_percent_5xx": (
            {"errors": errors[0], "invocations": errors[1], "percent": _round(errors[2], 4)}
            if errors
            else None
        ),
        "metrics": {
            summary.spec.name: {
                "namespace": summary.spec.namespace,
                "unit": summary.spec.unit,
                "statistic": summary.spec.statistics[0],
                "periods_with_data": summary.minutes,
                "mean": _round(summary.mean, 3),
                "max": _round(summary.maximum, 3),
                "total": _round(summary.total, 3),
                "per_period": [
                    {
                        "start": format_time(moment),
                        **{
                            statistic: _round(value, 3)
                            for statistic, value in zip(summary.spec.statistics, values, strict=True)
                        },
                    }
                    for moment, values in summary.per_period
                ],
            }
            for summary in resources.metrics
        },
    }


def _latency_feature(statistics: Statistics) -> dict:
    latency = statistics.latency
    feature = _feature("inference_ms", "Fractional", latency.summary, statistics.records, 3)
    numbers = feature["numerical_statistics"]
    numbers["percentiles"] = {name: _round(getattr(latency, name), 3) for name in ("p50", "p90", "p99")}
    numbers["distribution"] = {
        "log_histogram": {
            "buckets": [
                {
                    "lower_bound": _round(lower, 4),
                    "upper_bound": _round(upper, 4) if math.isfinite(upper) else None,  # the overflow bucket
                    "count": count,
                }
                for lower, upper, count in latency.histogram
            ]
        }
    }
    return feature


def _people_feature(statistics: Statistics) -> dict:
    """People per photo: mean, max, ... and how many photos had 0, 1, 2, 3, 4, 5 or more people."""
    people = statistics.people
    feature = _feature("people_per_photo", "Integral", people.summary, statistics.predictions, 3)
    feature["numerical_statistics"]["distribution"] = {
        "histogram": {
            "buckets": [
                {"people": label, "count": count}
                for label, count in zip(PEOPLE_LABELS, people.histogram, strict=True)
            ]
        }
    }
    return feature


def _feature(name: str, inferred_type: str, summary: Summary, out_of: int, digits: int) -> dict:
    return {
        "name": name,
        "inferred_type": inferred_type,
        "numerical_statistics": {
            "common": {"num_present": summary.count, "num_missing": out_of - summary.count},
            "mean": _round(summary.mean, digits),
            "sum": _round(summary.total, digits),
            "std_dev": _round(summary.std_dev, digits),
            "min": _round(summary.minimum, digits),
            "max": _round(summary.maximum, digits),
        },
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _write_json(path: Path, document: dict) -> None:
    path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    log.info("wrote %s", path)
