"""The local stand-in for an endpoint instance's CloudWatch metrics: CPU and memory of the inference server.

Every few seconds, the server's process group (the front process and its workers, as the supervisor
starts it) is read from /proc: CPU summed over cores as CloudWatch's CPUUtilization is (100 % is one
core busy), resident memory, and that memory as a share of the machine. The samples go to files laid
out like data capture (monitoring/samples.py), which the local monitoring run reads through the same
code as CloudWatch's data. Where there is no /proc (not Linux) nothing is sampled and the report says
the metrics are unavailable.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from monitoring.resources import CPU, MEMORY, RESIDENT_MEMORY
from monitoring.samples import sample_line, samples_path

log = logging.getLogger(__name__)
SAMPLE_SECONDS = 5.0
PROC = Path("/proc")


@dataclass(frozen=True)
class UsageSettings:
    root: Path
    endpoint: str
    variant: str
    interval_seconds: float = SAMPLE_SECONDS


@dataclass(frozen=True)
class Usage:
    cpu_percent: float  # summed over cores
    resident_bytes: int
    memory_percent: float  # of the machine's memory
    processes: int


class GroupMeter:
    """CPU between two readings of a process group, and its resident memory now."""

    def __init__(self, proc: Path = PROC, clock: Callable[[], float] = time.monotonic) -> None:
        self._proc = proc
        self._clock = clock
        self._ticks_per_second = os.sysconf("SC_CLK_TCK")
        self._page_bytes = os.sysconf("SC_PAGE_SIZE")
        self._last: tuple[int, float, dict[int, int]] | None = None  # (group, monotonic, ticks by pid)

    def read(self, group: int) -> Usage | None:
        """None on the first reading of a group (CPU needs two) or when it has no process left."""
        now = self._clock()
        ticks, resident = self._group(group)
        last, self._last = self._last, (group, now, ticks)
        if not ticks or last is None or last[0] != group or now <= last[1]:
            return None
        # A process started since the last reading counts from zero: its ticks are all in the interval.
        used = sum(total - last[2].get(pid, 0) for pid, total in ticks.items())
        cpu_percent = 100.0 * used / self._ticks_per_second / (now - last[1])
        memory_percent = 100.0 * resident / self._memory_total()
        return Usage(round(max(cpu_percent, 0.0), 2), resident, round(memory_percent, 3), len(ticks))

    def _group(self, group: int) -> tuple[dict[int, int], int]:
        ticks: dict[int, int] = {}
        resident = 0
        for entry in self._proc.iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != group:  # field 5, pgrp
                    continue
                pages = int((entry / "statm").read_text().split()[1])
            except (OSError, IndexError, ValueError):  # exited while being read
                continue
            ticks[int(entry.name)] = int(fields[11]) + int(fields[12])  # utime + stime
            resident += pages * self._page_bytes
        return ticks, resident

    def _memory_total(self) -> int:
        for line in (self._proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
        raise OSError("no MemTotal in /proc/meminfo")


class UsageSampler:
    """A thread writing the server's usage every `interval_seconds` until stopped."""

    def __init__(
        self, settings: UsageSettings, group: Callable[[], int | None], meter: GroupMeter | None = None
    ):
        self.settings = settings
        self._group = group  # the server's process group now (it changes when the server is restarted)
        self._meter = meter
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="usage-sampler", daemon=True)

    def start(self) -> None:
        if not (PROC / "self" / "stat").is_file():
            log.warning("no /proc here: the inference server's CPU and memory are not sampled")
            return
        self._meter = self._meter or GroupMeter()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sample(self) -> Usage | None:
        """One reading, written to the hour's file; None when there is nothing to write yet."""
        group = self._group()
        usage = self._meter.read(group) if group else None
        if usage is not None:
            write_usage(self.settings, datetime.now(UTC), usage)
        return usage

    def _loop(self) -> None:
        while True:
            try:
                self.sample()
            except OSError as error:
                log.warning("could not sample the inference server's usage: %s", error)
            if self._stop.wait(self.settings.interval_seconds):
                return


def write_usage(settings: UsageSettings, moment: datetime, usage: Usage) -> Path:
    path = samples_path(settings.root, settings.endpoint, settings.variant, moment)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        sample_line(CPU.name, moment, usage.cpu_percent, CPU.unit),
        sample_line(MEMORY.name, moment, usage.memory_percent, MEMORY.unit),
        sample_line(RESIDENT_MEMORY.name, moment, float(usage.resident_bytes), RESIDENT_MEMORY.unit),
    ]
    with path.open("a", encoding="utf-8") as samples:
        samples.write("".join(lines))
    return path
