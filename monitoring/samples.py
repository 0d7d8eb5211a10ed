"""The local stack's stand-in for CloudWatch: resource samples of its inference server, in files.

The local stack (deployment/local/usage.py) writes one JSON line per metric and sample, in CloudWatch's
PutMetricData spelling, under `{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/*.jsonl` as data capture
is laid out. Read back, the samples become per-minute Average, Maximum and Sum series, as
GetMetricData answers them, and go through the same summary, checks and report as CloudWatch's.
"""

from __future__ import annotations

import json
import logging
import math
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

from monitoring.aggregates import RunningStats
from monitoring.config import Window, parse_time
from monitoring.contract import format_time
from monitoring.dataset import capture_files
from monitoring.errors import MonitoringError
from monitoring.resources import AVERAGE, LOCAL_METRICS, MAXIMUM, PERIOD_SECONDS, SUM, MetricData, Series

log = logging.getLogger(__name__)


def sample_line(metric: str, moment: datetime, value: float, unit: str) -> str:
    record = {"MetricName": metric, "Timestamp": format_time(moment), "Value": value, "Unit": unit}
    return json.dumps(record, allow_nan=False) + "\n"


def samples_path(root: Path, endpoint: str, variant: str, moment: datetime) -> Path:
    """`{root}/{endpoint}/{variant}/yyyy/mm/dd/hh/samples.jsonl`: one file per hour."""
    return root / endpoint / variant / f"{moment.astimezone(UTC):%Y/%m/%d/%H}" / "samples.jsonl"


def read_samples(root: Path, endpoint: str, variant: str, window: Window) -> MetricData:
    """Every sample of the window as per-minute series of LOCAL_METRICS."""
    source = f"local samples in {root}"
    folder = root / endpoint / variant
    if not folder.is_dir():
        return MetricData(source, LOCAL_METRICS, problems=(f"no samples under {folder}",))
    minutes: dict[tuple[str, int], RunningStats] = defaultdict(RunningStats)
    unreadable = outside = 0
    try:
        for path in capture_files(folder):
            with path.open(encoding="utf-8", errors="replace") as lines:
                for line in lines:
                    sample = _sample(line)
                    if sample is None:
                        unreadable += not line.isspace()
                    elif window.contains(sample[1]):
                        start = int(sample[1].timestamp()) // PERIOD_SECONDS * PERIOD_SECONDS
                        minutes[sample[0], start].add(sample[2])
                    else:
                        outside += 1
    except (OSError, MonitoringError) as error:
        return MetricData(source, LOCAL_METRICS, problems=(f"cannot read the samples: {error}",))
    problems = [f"{unreadable} unreadable sample lines skipped"] if unreadable else []
    if outside and not minutes:
        problems.append(f"{outside} samples, none {window.describe()}")
    return MetricData(source, LOCAL_METRICS, _series(minutes), tuple(problems))


def _series(minutes: dict[tuple[str, int], RunningStats]) -> tuple[Series, ...]:
    found = []
    for spec in LOCAL_METRICS:
        periods = sorted((start, stats) for (name, start), stats in minutes.items() if name == spec.name)
        for statistic in spec.statistics:
            value = {
                AVERAGE: lambda s: s.total / s.count,
                MAXIMUM: lambda s: s.maximum,
                SUM: lambda s: s.total,
            }
            points = tuple(
                (datetime.fromtimestamp(start, UTC), value[statistic](stats)) for start, stats in periods
            )
            found.append(Series(spec.name, statistic, points))
    return tuple(found)


def _sample(line: str) -> tuple[str, datetime, float] | None:
    try:
        record = json.loads(line)
        value = float(record["Value"])
        moment = parse_time(record["Timestamp"], "Timestamp")
        name = record["MetricName"]
    except (ValueError, KeyError, TypeError, AttributeError, MonitoringError):
        return None
    return (name, moment, value) if isinstance(name, str) and math.isfinite(value) else None
