"""The local monitoring schedule: the monitoring container's own code, run on a timer.

Each run gets SageMaker's environment variables (`monitoring.contract`: dataset_source,
output_path, start_time, end_time, THRESHOLD, ...) and writes into `.local/monitoring/<run>/`, as the cloud job writes
to its S3 output. The endpoint's metrics come from the local server's usage samples instead of CloudWatch.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitoring import contract
from monitoring.contract import (
    DEFAULT_VARIANT_NAME,
    DEFAULT_VCPUS,
    NO_LIMITS,
    ResourceLimits,
    resource_environment,
    threshold_environment,
)

log = logging.getLogger(__name__)
RUN_NAME = "%Y%m%dT%H%M%SZ"
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class MonitorSettings:
    capture_root: Path
    runs_root: Path
    endpoint: str
    schedule_name: str
    threshold_seconds: float
    p99_threshold_seconds: float | None
    interval_seconds: int
    # The inference server's CPU and memory samples (deployment/local/usage.py), read as CloudWatch's.
    samples_root: Path | None = None
    variant: str = DEFAULT_VARIANT_NAME
    vcpus: int = DEFAULT_VCPUS
    limits: ResourceLimits = NO_LIMITS
    # The local alerts: a run with violations appends one line here and logs it (the cloud's alarms
    # mail alerts.emails; here they are only named).
    alerts_file: Path | None = None
    alert_emails: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonitorRun:
    directory: Path
    exit_code: int
    message: str


def run_monitoring(settings: MonitorSettings, end: datetime | None = None) -> MonitorRun:
    """One run over the window that ends now (or at `end`), exactly as the container runs."""
    end = (end or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    start = end - timedelta(seconds=settings.interval_seconds)
    directory = settings.runs_root / end.strftime(RUN_NAME)
    directory.mkdir(parents=True, exist_ok=True)
    environment = {
        contract.DATASET_SOURCE: str(settings.capture_root),
        contract.OUTPUT_PATH: str(directory),
        contract.OUTPUT_ROOT: str(directory),
        contract.START_TIME: contract.format_time(start),
        contract.END_TIME: contract.format_time(end),
        contract.PUBLISH_METRICS: "Enabled",
        contract.ENDPOINT_NAME: settings.endpoint,
        contract.SCHEDULE_NAME: settings.schedule_name,
        **threshold_environment(settings.threshold_seconds, settings.p99_threshold_seconds),
        **resource_environment(settings.limits, settings.variant, settings.vcpus),
    }
    if settings.samples_root is not None:
        environment[contract.RESOURCE_SAMPLES] = str(settings.samples_root)
    settings.capture_root.mkdir(parents=True, exist_ok=True)
    completed = subprocess.run(
        [sys.executable, "-m", "monitoring"],
        cwd=REPO,
        env={**_inherited(), **environment},
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    message_file = directory / contract.MESSAGE_FILE
    message = message_file.read_text().strip() if message_file.is_file() else completed.stderr.strip()[-500:]
    log.info("monitoring run %s: %s", directory.name, message)
    if settings.alerts_file is not None and message.startswith("CompletedWithViolations"):
        _alert(settings, directory, message)
    return MonitorRun(directory, completed.returncode, message)


def _alert(settings: MonitorSettings, directory: Path, message: str) -> None:
    """The local stand-in for the stage's alarm on the monitor's violations: a line people see."""
    alert = {
        "time": datetime.now(UTC).strftime(contract.TIME_FORMAT),
        "alarm": f"{settings.schedule_name}-violations",
        "run": str(directory),
        "message": message,
        "would_notify": list(settings.alert_emails),
    }
    settings.alerts_file.parent.mkdir(parents=True, exist_ok=True)
    with settings.alerts_file.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(alert) + "\n")
    log.warning("ALERT %s: %s (report: %s)", alert["alarm"], message, directory / contract.REPORT_FILE)


def latest_run(runs_root: Path) -> Path | None:
    runs = sorted(path for path in runs_root.glob("*T*Z") if path.is_dir()) if runs_root.is_dir() else []
    return runs[-1] if runs else None


class MonitorTimer:
    """Runs the monitor every `interval_seconds` until stopped (the hourly schedule, locally)."""

    def __init__(self, settings: MonitorSettings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="monitor-schedule", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.settings.interval_seconds):
            try:
                run_monitoring(self.settings)
            except (OSError, subprocess.SubprocessError) as error:
                log.error("the scheduled monitoring run could not start: %s", error)


def _inherited() -> dict[str, str]:
    """PATH and Python settings only: the job must not see unrelated variables of this shell."""
    keep = ("PATH", "HOME", "LANG", "PYTHONPATH", "VIRTUAL_ENV", "SYSTEMROOT")
    return {key: os.environ[key] for key in keep if key in os.environ}
