"""What the monitoring container reads and writes: the one spelling the deployer and the local stack share.

SageMaker's bring-your-own-container contract, inputs and outputs:
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-outputs.html
Standard library only: the monitoring image installs monitoring/requirements.txt and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

# Set by SageMaker for every monitoring job.
DATASET_SOURCE = "dataset_source"
OUTPUT_PATH = "output_path"
START_TIME = "start_time"
END_TIME = "end_time"
PUBLISH_METRICS = "publish_cloudwatch_metrics"
ENDPOINT_NAME = "sagemaker_endpoint_name"
SCHEDULE_NAME = "sagemaker_monitoring_schedule_name"
# Ours, from the job definition's Environment: latency limits in seconds.
THRESHOLD = "THRESHOLD"
P99_THRESHOLD = "P99_THRESHOLD"
# Ours, from the job definition's Environment, each only when set (config.yml's `monitoring`): the
# endpoint's resources over the window (CloudWatch), checked against these percentages.
MAX_MEMORY_PERCENT = "MAX_MEMORY_PERCENT"
MAX_CPU_PERCENT_PER_CORE = "MAX_CPU_PERCENT_PER_CORE"
MAX_ERROR_PERCENT = "MAX_ERROR_PERCENT"
# Ours: which of the endpoint's variants the metrics are read for, and its instance's vCPUs
# (CloudWatch sums CPUUtilization over cores). Passed only when they differ from these defaults,
# the shipped config.yml's (variant AllTraffic on an ml.m5.large).
VARIANT_NAME = "ENDPOINT_VARIANT"
VCPUS = "ENDPOINT_VCPUS"
DEFAULT_VARIANT_NAME = "AllTraffic"
DEFAULT_VCPUS = 2
# Ours, not SageMaker's: move /opt/ml/output and the job description for tests and the local stack.
OUTPUT_ROOT = "MONITORING_OUTPUT_ROOT"
JOB_CONFIG = "MONITORING_JOB_CONFIG"
# Ours, the local stack's: read the endpoint's resources from these sample files instead of CloudWatch.
RESOURCE_SAMPLES = "MONITORING_RESOURCE_SAMPLES"

# SageMaker's own spelling of start_time and end_time: 2026-11-22T18:25:49Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# In output_path, read by SageMaker.
STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"
# In output_path, ours: the page an operator opens.
REPORT_FILE = "report.html"
# In /opt/ml/output: the job's ExitMessage (SageMaker keeps the first 1 KB).
MESSAGE_FILE = "message"


@dataclass(frozen=True)
class ResourceLimits:
    """Percentages (0, 100]; None: not checked."""

    max_memory_percent: float | None = None
    max_cpu_percent_per_core: float | None = None
    max_error_percent: float | None = None


NO_LIMITS = ResourceLimits()


def threshold_environment(mean_seconds: float, p99_seconds: float | None) -> dict[str, str]:
    """The job definition's Environment for the latency limits; P99_THRESHOLD only when set."""
    environment = {THRESHOLD: str(mean_seconds)}
    if p99_seconds:
        environment[P99_THRESHOLD] = str(p99_seconds)
    return environment


def resource_environment(
    limits: ResourceLimits, variant_name: str = DEFAULT_VARIANT_NAME, vcpus: int | None = DEFAULT_VCPUS
) -> dict[str, str]:
    """The job definition's Environment for the resource checks: each threshold only when set, the
    variant and vCPUs only when they differ from the defaults, so a default config adds nothing."""
    environment = {
        name: str(float(value))
        for name, value in (
            (MAX_MEMORY_PERCENT, limits.max_memory_percent),
            (MAX_CPU_PERCENT_PER_CORE, limits.max_cpu_percent_per_core),
            (MAX_ERROR_PERCENT, limits.max_error_percent),
        )
        if value is not None
    }
    if variant_name != DEFAULT_VARIANT_NAME:
        environment[VARIANT_NAME] = variant_name
    if vcpus is not None and vcpus != DEFAULT_VCPUS:
        environment[VCPUS] = str(vcpus)
    return environment


def format_time(moment: datetime) -> str:
    """A time as start_time and end_time spell it, in UTC."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)
