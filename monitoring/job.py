"""One monitoring run, shared by the container and `analyze`: capture files → statistics → violations → files.

report.html goes beside statistics.json, so every scheduled run leaves a page an operator can open from S3.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from monitoring.checks import (
    Aggregate,
    Statistics,
    Violation,
    find_resource_violations,
    find_violations,
    unchecked_limits,
)
from monitoring.cloudwatch import read_cloudwatch
from monitoring.config import MonitorConfig
from monitoring.dataset import CaptureScan
from monitoring.errors import MonitoringError
from monitoring.page import write_page
from monitoring.report import write_results
from monitoring.resources import NO_RESOURCES, EndpointResources, summarize
from monitoring.samples import read_samples

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    statistics: Statistics
    violations: tuple[Violation, ...]
    message: str  # "Completed: …" or "CompletedWithViolations: …", as written to the message file


def run(config: MonitorConfig) -> RunResult:
    """Raises MonitoringError when the dataset cannot be read or the results cannot be written."""
    log.info(
        "analysing %s (%s), threshold %g s",
        config.dataset_source,
        config.window.describe(),
        config.thresholds.mean_seconds,
    )
    scan = CaptureScan(config.dataset_source, config.window)
    aggregate = Aggregate()
    for record in scan:
        aggregate.add(record)
    statistics = replace(
        aggregate.statistics(config.window, scan.counts), resources=endpoint_resources(config)
    )
    violations = find_violations(statistics, config.thresholds) + find_resource_violations(
        statistics.resources, config.resources.limits, config.window
    )
    try:
        message = write_results(config, statistics, violations)
        write_page(config, statistics, violations, message)
    except OSError as error:
        where = str(error.filename or config.output_path)
        raise MonitoringError(f"cannot write the results ({error.strerror or error})", where=where) from error
    log.info("%s", message)
    return RunResult(statistics, violations, message)


def endpoint_resources(config: MonitorConfig) -> EndpointResources:
    """The endpoint's metrics over the window: the local stack's samples, CloudWatch on SageMaker, else none."""
    settings = config.resources
    if settings.samples is not None:
        data = read_samples(settings.samples, config.endpoint_name, settings.variant_name, config.window)
    elif settings.cloudwatch:
        data = read_cloudwatch(settings, config.endpoint_name, config.window)
    else:
        return NO_RESOURCES
    for problem in data.problems:
        log.warning("endpoint metrics (%s): %s", data.source, problem)
    resources = summarize(data, config.window, settings.vcpus)
    return replace(resources, problems=resources.problems + unchecked_limits(resources, settings.limits))
