"""The job's settings, checked once: SageMaker's environment variables, else processingjobconfig.json.

SageMaker passes a monitoring job's settings as environment variables and also writes the whole
processing-job description (its "Environment" map included) to /opt/ml/config/processingjobconfig.json;
a variable wins over the file. Every bad value fails here, naming the variable, before any work starts.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitoring import contract
from monitoring.contract import format_time
from monitoring.errors import MonitoringError

DEFAULT_DATASET_SOURCE = "/opt/ml/processing/input/endpoint"
DEFAULT_OUTPUT_PATH = "/opt/ml/processing/resultdata"
DEFAULT_OUTPUT_ROOT = "/opt/ml/output"
DEFAULT_JOB_CONFIG = "/opt/ml/config/processingjobconfig.json"
DEFAULT_THRESHOLD_SECONDS = 1.0
TIME_HINT = "use an ISO-8601 UTC time such as 2026-11-22T18:00:00Z"


@dataclass(frozen=True)
class Window:
    """The analysed period, [start, end); an open side means no limit (local analysis of everything)."""

    start: datetime | None = None
    end: datetime | None = None

    def contains(self, moment: datetime) -> bool:
        return (self.start is None or moment >= self.start) and (self.end is None or moment < self.end)

    def describe(self) -> str:
        """ "from 2026-11-22T18:00:00Z to 2026-11-22T19:00:00Z", or "over all time" without limits."""
        if self.start and self.end:
            return f"from {format_time(self.start)} to {format_time(self.end)}"
        if self.start or self.end:
            return f"from {format_time(self.start)}" if self.start else f"until {format_time(self.end)}"
        return "over all time"


ALL_TIME = Window()


@dataclass(frozen=True)
class Thresholds:
    """Latency limits in seconds, as the job definition's Environment gives them."""

    mean_seconds: float = DEFAULT_THRESHOLD_SECONDS
    p99_seconds: float | None = None


@dataclass(frozen=True)
class MonitorConfig:
    dataset_source: Path
    output_path: Path
    output_root: Path  # /opt/ml/output: the status message and CloudWatch metrics go below it
    window: Window = ALL_TIME
    thresholds: Thresholds = Thresholds()
    publish_metrics: bool = False
    endpoint_name: str = ""
    schedule_name: str = ""


def output_root(environ: Mapping[str, str]) -> Path:
    """Where the status message goes; readable even when the rest of the configuration is bad."""
    return Path(environ.get(contract.OUTPUT_ROOT) or DEFAULT_OUTPUT_ROOT)


def load(environ: Mapping[str, str]) -> MonitorConfig:
    settings = {**job_environment(Path(environ.get(contract.JOB_CONFIG) or DEFAULT_JOB_CONFIG)), **environ}
    present = {name: value.strip() for name, value in settings.items() if value and value.strip()}
    window = checked_window(
        _time(present, contract.START_TIME),
        _time(present, contract.END_TIME),
        f"{contract.START_TIME}, {contract.END_TIME}",
    )
    mean = present.get(contract.THRESHOLD, str(DEFAULT_THRESHOLD_SECONDS))
    p99 = present.get(contract.P99_THRESHOLD)
    return MonitorConfig(
        dataset_source=Path(present.get(contract.DATASET_SOURCE, DEFAULT_DATASET_SOURCE)),
        output_path=Path(present.get(contract.OUTPUT_PATH, DEFAULT_OUTPUT_PATH)),
        output_root=output_root(environ),
        window=window,
        thresholds=Thresholds(
            mean_seconds=parse_seconds(mean, contract.THRESHOLD),
            p99_seconds=parse_seconds(p99, contract.P99_THRESHOLD) if p99 is not None else None,
        ),
        publish_metrics=_enabled(present.get(contract.PUBLISH_METRICS, "Disabled")),
        endpoint_name=present.get(contract.ENDPOINT_NAME, ""),
        schedule_name=present.get(contract.SCHEDULE_NAME, ""),
    )


def checked_window(start: datetime | None, end: datetime | None, where: str) -> Window:
    if start and end and start >= end:
        raise MonitoringError(
            f"{format_time(start)} is not before {format_time(end)}",
            where=where,
            hint="the window is [start, end)",
        )
    return Window(start, end)


def job_environment(path: Path) -> dict[str, str]:
    """The "Environment" map of the processing-job description, or nothing when there is no such file."""
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise MonitoringError(
            f"cannot read the processing job description ({error})", where=str(path)
        ) from error
    environment = description.get("Environment") if isinstance(description, dict) else None
    if environment is None:
        return {}
    if not isinstance(environment, dict):
        raise MonitoringError('"Environment" is not a JSON object', where=str(path))
    return {str(name): str(value) for name, value in environment.items() if value is not None}


def parse_time(value: str, where: str) -> datetime:
    """An ISO-8601 time as an aware UTC datetime; a time without a zone is taken as UTC."""
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError as error:
        raise MonitoringError(f"{value!r} is not an ISO-8601 time", where=where, hint=TIME_HINT) from error
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_seconds(value: str, where: str) -> float:
    try:
        seconds = float(value)
    except ValueError as error:
        raise MonitoringError(
            f"{value!r} is not a number of seconds", where=where, hint="for example 1.0 or 0.25"
        ) from error
    if not math.isfinite(seconds) or seconds <= 0:
        raise MonitoringError(f"{value!r} must be a positive number of seconds", where=where)
    return seconds


def _time(settings: Mapping[str, str], name: str) -> datetime | None:
    return parse_time(settings[name], name) if name in settings else None


def _enabled(value: str) -> bool:
    if value.lower() in ("enabled", "disabled"):
        return value.lower() == "enabled"
    raise MonitoringError(f"{value!r} is neither Enabled nor Disabled", where=contract.PUBLISH_METRICS)
