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
from monitoring.contract import NO_LIMITS, ResourceLimits, format_time
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
class ResourceSettings:
    """Where the endpoint's resource metrics come from, and the limits they are checked against.

    CloudWatch when the job runs on SageMaker (its processing-job description exists) or a region is
    given; the local stack's sample files when `samples` is set; neither: the run reports none.
    """

    limits: ResourceLimits = NO_LIMITS
    variant_name: str = contract.DEFAULT_VARIANT_NAME
    vcpus: int = contract.DEFAULT_VCPUS
    samples: Path | None = None
    cloudwatch: bool = False
    region: str | None = None


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
    resources: ResourceSettings = ResourceSettings()


def output_root(environ: Mapping[str, str]) -> Path:
    """Where the status message goes; readable even when the rest of the configuration is bad."""
    return Path(environ.get(contract.OUTPUT_ROOT) or DEFAULT_OUTPUT_ROOT)


def load(environ: Mapping[str, str]) -> MonitorConfig:
    job_config = Path(environ.get(contract.JOB_CONFIG) or DEFAULT_JOB_CONFIG)
    description = job_description(job_config)
    settings = {**_environment_of(description, job_config), **environ}
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
        resources=resource_settings(present, description),
    )


def resource_settings(present: Mapping[str, str], description: dict | None) -> ResourceSettings:
    """CloudWatch is read only on SageMaker (a processing-job description exists): tests and
    local runs never reach AWS. The region: AWS_REGION, AWS_DEFAULT_REGION, else the job's ARN."""
    samples = present.get(contract.RESOURCE_SAMPLES)
    region = present.get("AWS_REGION") or present.get("AWS_DEFAULT_REGION") or _arn_region(description)
    return ResourceSettings(
        limits=ResourceLimits(
            *(
                parse_percent(present[name], name) if name in present else None
                for name in (
                    contract.MAX_MEMORY_PERCENT,
                    contract.MAX_CPU_PERCENT_PER_CORE,
                    contract.MAX_ERROR_PERCENT,
                )
            )
        ),
        variant_name=present.get(contract.VARIANT_NAME, contract.DEFAULT_VARIANT_NAME),
        vcpus=(
            parse_count(present[contract.VCPUS], contract.VCPUS)
            if contract.VCPUS in present
            else (contract.DEFAULT_VCPUS)
        ),
        samples=Path(samples) if samples else None,
        cloudwatch=samples is None and description is not None,
        region=region,
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
    return _environment_of(job_description(path), path)


def job_description(path: Path) -> dict | None:
    """processingjobconfig.json, or None when there is no such file (not on SageMaker)."""
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise MonitoringError(
            f"cannot read the processing job description ({error})", where=str(path)
        ) from error
    return description if isinstance(description, dict) else {}


def _environment_of(description: dict | None, where: object) -> dict[str, str]:
    environment = description.get("Environment") if description else None
    if environment is None:
        return {}
    if not isinstance(environment, dict):
        raise MonitoringError('"Environment" is not a JSON object', where=str(where))
    return {str(name): str(value) for name, value in environment.items() if value is not None}


def _arn_region(description: dict | None) -> str | None:
    """arn:aws:sagemaker:REGION:ACCOUNT:processing-job/NAME -> REGION."""
    arn = description.get("ProcessingJobArn") if description else None
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[3] if len(parts) > 5 and parts[3] else None


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


def parse_percent(value: str, where: str) -> float:
    """A threshold in percent, in (0, 100]."""
    try:
        percent = float(value)
    except ValueError as error:
        raise MonitoringError(
            f"{value!r} is not a number", where=where, hint="a percentage such as 80"
        ) from error
    if not math.isfinite(percent) or not 0 < percent <= 100:
        raise MonitoringError(f"{value!r} is not a percentage in (0, 100]", where=where)
    return percent


def parse_count(value: str, where: str) -> int:
    try:
        count = int(value)
    except ValueError as error:
        raise MonitoringError(f"{value!r} is not a whole number", where=where) from error
    if count < 1:
        raise MonitoringError(f"{value!r} must be at least 1", where=where)
    return count


def _time(settings: Mapping[str, str], name: str) -> datetime | None:
    return parse_time(settings[name], name) if name in settings else None


def _enabled(value: str) -> bool:
    if value.lower() in ("enabled", "disabled"):
        return value.lower() == "enabled"
    raise MonitoringError(f"{value!r} is neither Enabled nor Disabled", where=contract.PUBLISH_METRICS)
