"""Keeps `make demo`'s inference server alive: a server that dies is restarted, with back-off.

SageMaker replaces a failed container; locally this supervisor plays that part. Each start
gets a fresh port in a new process group, so the leftovers of a killed server (its forked
workers still holding the old port) are swept away with one signal and never block the next.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import math
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from deployment.errors import DeploymentError

log = logging.getLogger(__name__)
STOP_TIMEOUT_SECONDS = 30  # SIGTERM lets in-flight requests finish; SIGKILL after this


@dataclass(frozen=True)
class Upstream:
    """A fixed inference server address; with no supervisor behind it, it is never restarting."""

    host: str
    port: int

    def status(self) -> UpstreamStatus:
        return UpstreamStatus(self)


@dataclass(frozen=True)
class UpstreamStatus:
    address: Upstream
    restarting: bool = False
    retry_after_seconds: int = 0


@dataclass(frozen=True)
class Backoff:
    """Waits between restarts: first, doubled each time up to most; forgotten after a long good run."""

    first_seconds: float = 1.0
    most_seconds: float = 30.0
    reset_after_seconds: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.first_seconds * 2 ** min(max(failures - 1, 0), 32), self.most_seconds)


@dataclass(frozen=True)
class SupervisorSettings:
    host: str = "127.0.0.1"
    backoff: Backoff = Backoff()
    start_timeout_seconds: float = 60.0
    poll_seconds: float = 0.5
    cwd: Path | None = None


Command = Callable[[Upstream], list[str]]  # the server's command line for an address


class ServerSupervisor:
    """Starts the server, watches it on a thread, restarts it when it exits; `stop` ends all of it."""

    def __init__(self, command: Command, settings: SupervisorSettings = SupervisorSettings()) -> None:
        self._command = command
        self._settings = settings
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._process: subprocess.Popen | None = None
        self._address = Upstream(settings.host, 0)
        self._launched_at = 0.0
        self._ready_since: float | None = None
        self._next_launch_at = 0.0
        self._failures = 0
        self.restarts = 0
        self._start_seconds = 5.0  # how long a start takes, measured on the first one
        self._watcher = threading.Thread(target=self._watch, name="server-supervisor", daemon=True)

    def start(self) -> None:
        """The first start: wait until /ping says 200, or raise (a server that cannot start once
        will not start on a retry either, so this one is not retried)."""
        self._launch()
        deadline = time.monotonic() + self._settings.start_timeout_seconds
        while ping(self._address) != 200:
            code = self._process.poll()
            if code is not None:
                raise DeploymentError(f"the inference server exited with code {code}", where="local")
            if time.monotonic() > deadline:
                raise DeploymentError(
                    f"the inference server was not ready after {self._settings.start_timeout_seconds:.0f}s",
                    where="local",
                )
            time.sleep(0.1)
        with self._lock:
            self._ready_since = time.monotonic()
            self._start_seconds = self._ready_since - self._launched_at
        self._watcher.start()

    @property
    def pid(self) -> int | None:
        """The server's process id, which is also its process group's."""
        with self._lock:
            return self._process.pid if self._process else None

    def status(self) -> UpstreamStatus:
        with self._lock:
            exited = self._process is None or self._process.poll() is not None
            if self._ready_since is not None and not exited:
                return UpstreamStatus(self._address)
            wait = max(self._next_launch_at - time.monotonic(), 0.0) if exited else 0.0
            return UpstreamStatus(self._address, True, max(1, math.ceil(wait + self._start_seconds)))

    def stop(self) -> None:
        """No restart after this; the server gets SIGTERM, then its whole group SIGKILL."""
        self._stopping.set()
        if self._watcher.is_alive():
            self._watcher.join(timeout=5)
        with self._lock:
            process = self._process
        if process is not None:
            _terminate(process)

    def _watch(self) -> None:
        while not self._stopping.wait(self._settings.poll_seconds):
            with self._lock:
                process, ready, launched_at = self._process, self._ready_since is not None, self._launched_at
            code = process.poll()
            if code is None and not ready:
                if ping(self._address) == 200:
                    self._mark_ready()
                    continue
                if time.monotonic() - launched_at > self._settings.start_timeout_seconds:
                    code = "not ready in time"
            if code is not None:
                try:
                    self._restart(process, code)
                except OSError as error:  # could not even spawn it: the next round tries again
                    log.error("the inference server could not be started: %s", error)

    def _mark_ready(self) -> None:
        with self._lock:
            self._ready_since = time.monotonic()
        log.info("the inference server is serving again on port %d", self._address.port)

    def _restart(self, process: subprocess.Popen, code: int | str) -> None:
        now = time.monotonic()
        with self._lock:
            stayed_up = self._ready_since is not None and now - self._ready_since >= (
                self._settings.backoff.reset_after_seconds
            )
            self._failures = 1 if stayed_up else self._failures + 1
            delay = self._settings.backoff.delay(self._failures)
            self._ready_since = None
            self._next_launch_at = now + delay
            self.restarts += 1
        _kill_group(process)
        if self._stopping.is_set():
            return
        log.warning(
            "the inference server (pid %d) %s; restart %d in %gs",
            process.pid,
            _describe(code),
            self.restarts,
            delay,
        )
        if not self._stopping.wait(delay):
            self._launch()

    def _launch(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._address = Upstream(self._settings.host, _free_port(self._settings.host))
            command = self._command(self._address)
            # The whole command once; a restart already has its own line (in `_restart`).
            log.log(
                logging.DEBUG if self._failures else logging.INFO,
                "starting the inference server: %s",
                " ".join(command),
            )
            # Its own process group: Ctrl-C reaches only us, and one killpg sweeps its workers.
            self._process = subprocess.Popen(
                command, cwd=self._settings.cwd, env=os.environ.copy(), start_new_session=True
            )
            self._launched_at = time.monotonic()


def ping(address: Upstream, timeout: float = 2.0) -> int | None:
    """The status of the server's GET /ping, or None when it cannot be reached."""
    connection = http.client.HTTPConnection(address.host, address.port, timeout=timeout)
    try:
        connection.request("GET", "/ping")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


def _terminate(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            log.warning("the inference server ignored SIGTERM for %ds; killing it", STOP_TIMEOUT_SECONDS)
    _kill_group(process)


def _kill_group(process: subprocess.Popen) -> None:
    """SIGKILL whatever is left of the server's process group, then reap its leader."""
    with contextlib.suppress(ProcessLookupError, PermissionError):  # nothing left in the group
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def _describe(code: int | str) -> str:
    if isinstance(code, str):
        return f"was {code}"
    if code < 0:
        return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]
