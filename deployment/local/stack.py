"""`python -m deployment local`: start the whole system offline and stop all of it on Ctrl-C."""

from __future__ import annotations

import logging
import os
import signal
import sys
import tarfile
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from deployment.artifact import build_artifact
from deployment.config import Config
from deployment.errors import DeploymentError
from deployment.local.capture import CaptureSettings, CaptureWriter
from deployment.local.drop_folder import DropFolderPaths, DropFolderWatcher
from deployment.local.gateway import GatewayServer, GatewayState
from deployment.local.models import LocalModels
from deployment.local.schedule import MonitorSettings, MonitorTimer
from deployment.local.supervisor import ServerSupervisor, SupervisorSettings, Upstream
from deployment.local.usage import UsageSampler, UsageSettings
from deployment.naming import monitoring_schedule
from monitoring.contract import ResourceLimits

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class LocalPaths:
    """Everything the local stack writes, under one folder (default `.local/`)."""

    root: Path

    @property
    def capture(self) -> Path:
        return self.root / "capture"

    @property
    def monitoring(self) -> Path:
        return self.root / "monitoring"

    @property
    def usage(self) -> Path:
        """The inference server's CPU and memory samples, laid out as capture is."""
        return self.root / "usage"

    def model(self, artifact_sha256: str) -> Path:
        return self.root / "model" / artifact_sha256[:16]


def monitor_settings(config: Config, paths: LocalPaths) -> MonitorSettings:
    return MonitorSettings(
        capture_root=paths.capture,
        runs_root=paths.monitoring,
        endpoint=config.prefix,
        schedule_name=monitoring_schedule(config.prefix),
        threshold_seconds=config.monitoring.threshold_seconds,
        p99_threshold_seconds=config.monitoring.p99_threshold_seconds,
        interval_seconds=config.local.monitor_interval_seconds,
        samples_root=paths.usage,
        variant=config.endpoint.variant_name,
        vcpus=os.cpu_count() or 1,  # the local "instance" is this machine
        limits=ResourceLimits(
            config.monitoring.max_memory_percent,
            config.monitoring.max_cpu_percent_per_core,
            config.monitoring.max_error_percent,
        ),
        alerts_file=paths.root / "alerts.jsonl",
        alert_emails=tuple(config.alerts.emails),
    )


def prepare_model(config: Config, paths: LocalPaths) -> Path:
    """Package the configured model and unpack it as SageMaker does into /opt/ml/model."""
    return _unpacked(config.model, paths)


def prepare_models(config: Config, paths: LocalPaths) -> LocalModels | None:
    """A multi-model endpoint's models, each packaged as its own artifact and unpacked as SageMaker
    does under /opt/ml/models; None for a single-model endpoint."""
    names = config.served_models
    if not names:
        return None
    return LocalModels(
        {name: _unpacked(config.model.model_copy(update={"name": name}), paths) for name in names}
    )


def _unpacked(model, paths: LocalPaths) -> Path:
    artifact, sha256 = build_artifact(model, REPO / ".cache" / "artifacts")
    model_dir = paths.model(sha256)
    if not (model_dir / "model.json").is_file():
        model_dir.mkdir(parents=True, exist_ok=True)
        with tarfile.open(artifact) as archive:
            archive.extractall(model_dir, filter="data")
    return model_dir


def run_local(config: Config, paths: LocalPaths, announce=print) -> None:
    """Serve until Ctrl-C or SIGTERM; every process and thread started here is stopped on the way out."""
    models = prepare_models(config, paths)
    model_dir = None if models else prepare_model(config, paths)
    for stop_signal in (signal.SIGINT, signal.SIGTERM):  # SIGINT too: a background job starts with it ignored
        signal.signal(stop_signal, _raise_interrupt)
    with ExitStack() as cleanup:
        supervisor = ServerSupervisor(partial(server_command, model_dir), SupervisorSettings(cwd=REPO))
        cleanup.callback(supervisor.stop)  # before start: Ctrl-C while the model loads stops it too
        supervisor.start()
        usage = UsageSettings(paths.usage, config.prefix, config.endpoint.variant_name)
        sampler = UsageSampler(usage, lambda: supervisor.pid)  # its process group: the front and workers
        sampler.start()
        cleanup.callback(sampler.stop)
        capture = None
        if config.data_capture.enabled:
            capture = CaptureWriter(_capture_settings(config, paths))
            cleanup.callback(capture.close)
        if config.monitoring.enabled:
            timer = MonitorTimer(monitor_settings(config, paths))
            timer.start()
            cleanup.callback(timer.stop)
        # The drop folder runs locally whatever batch.drop_folder says (it costs nothing here), except
        # on a multi-model endpoint: it names no model, which such an endpoint requires.
        if models is None:
            inbox = DropFolderWatcher(DropFolderPaths(paths.root), lambda: supervisor.status().address)
            inbox.start()
            cleanup.callback(inbox.stop)
        state = GatewayState(supervisor, config.model.name, capture, paths.monitoring, config.prefix, models)
        try:
            gateway = GatewayServer((config.local.host, config.local.port), state)
        except OSError as error:
            raise DeploymentError(
                f"cannot listen on {config.local.host}:{config.local.port} ({error.strerror})",
                where="local.port",
                hint="stop what uses the port, or --set local.port=8090",
            ) from error
        cleanup.callback(gateway.server_close)
        _announce(announce, config, paths, models)
        try:
            gateway.serve_forever()
        except KeyboardInterrupt:
            announce("stopping ...")


def _capture_settings(config: Config, paths: LocalPaths) -> CaptureSettings:
    capture = config.data_capture
    return CaptureSettings(
        paths.capture,
        config.prefix,
        config.endpoint.variant_name,
        capture.sampling_percent,
        capture.capture_input,
        capture.capture_output,
    )


def _announce(announce, config: Config, paths: LocalPaths, models: LocalModels | None) -> None:
    base = f"http://{config.local.host}:{config.local.port}"
    announce(f"web page:        {base}/")
    announce(f"API:             POST {base}/predict  (image/jpeg, image/png or JSON)")
    if models:
        names = ", ".join(models.names)
        announce(f"models:          POST {base}/predict?model=NAME  ({names}; each loaded on first use)")
    announce(f"monitoring:      {base}/monitoring  (every {config.local.monitor_interval_seconds}s)")
    announce(f"data capture:    {paths.capture}/  ({config.data_capture.sampling_percent}% sampled)")
    drop = DropFolderPaths(paths.root)
    if models:
        announce("drop folder:     off (a multi-model endpoint needs each request to name its model)")
    else:
        announce(
            f"drop folder:     photos put in {drop.inbox}/ get results in {drop.outbox}/ ({drop.failed}/ if not)"
        )
    announce("press Ctrl-C to stop everything")


def server_command(model_dir: Path | None, upstream: Upstream) -> list[str]:
    """The container's command, unchanged: `python -m inference serve` on the supervisor's port;
    with no model directory, as on a multi-model endpoint (SAGEMAKER_MULTI_MODEL=true)."""
    command = [sys.executable, "-m", "inference", "serve"]
    command += ["--model-dir", str(model_dir)] if model_dir else ["--multi-model"]
    return [*command, "--host", upstream.host, "--port", str(upstream.port)]


def _raise_interrupt(signum: int, frame: object) -> None:
    # Once only: a second Ctrl-C must not cut the cleanup short and orphan the inference server.
    for stop_signal in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop_signal, signal.SIG_IGN)
    raise KeyboardInterrupt
