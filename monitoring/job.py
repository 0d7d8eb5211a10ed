"""One monitoring run, shared by the container and `analyze`: capture files → statistics → violations → files.

report.html goes beside statistics.json, so every scheduled run leaves a page an operator can open from S3.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from monitoring.checks import Aggregate, Statistics, Violation, find_violations
from monitoring.config import MonitorConfig
from monitoring.dataset import CaptureScan
from monitoring.errors import MonitoringError
from monitoring.page import write_page
from monitoring.report import write_results

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
    statistics = aggregate.statistics(config.window, scan.counts)
    violations = find_violations(statistics, config.thresholds)
    try:
        message = write_results(config, statistics, violations)
        write_page(config, statistics, violations, message)
    except OSError as error:
        where = str(error.filename or config.output_path)
        raise MonitoringError(f"cannot write the results ({error.strerror or error})", where=where) from error
    log.info("%s", message)
    return RunResult(statistics, violations, message)
