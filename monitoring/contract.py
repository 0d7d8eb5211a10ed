"""What the monitoring container reads and writes: the one spelling the deployer and the local stack share.

SageMaker's bring-your-own-container contract, inputs and outputs:
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html
https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-outputs.html
Standard library only: the monitoring image installs monitoring/requirements.txt and nothing else.
"""

from __future__ import annotations

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
# Ours, not SageMaker's: move /opt/ml/output and the job description for tests and the local stack.
OUTPUT_ROOT = "MONITORING_OUTPUT_ROOT"
JOB_CONFIG = "MONITORING_JOB_CONFIG"

# SageMaker's own spelling of start_time and end_time: 2026-11-22T18:25:49Z.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

# In output_path, read by SageMaker.
STATISTICS_FILE = "statistics.json"
VIOLATIONS_FILE = "constraint_violations.json"
# In output_path, ours: the page an operator opens.
REPORT_FILE = "report.html"
# In /opt/ml/output: the job's ExitMessage (SageMaker keeps the first 1 KB).
MESSAGE_FILE = "message"


def threshold_environment(mean_seconds: float, p99_seconds: float | None) -> dict[str, str]:
    """The job definition's Environment for the latency limits; P99_THRESHOLD only when set."""
    environment = {THRESHOLD: str(mean_seconds)}
    if p99_seconds:
        environment[P99_THRESHOLD] = str(p99_seconds)
    return environment


def format_time(moment: datetime) -> str:
    """A time as start_time and end_time spell it, in UTC."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)
