"""The local server's CPU and memory: measured from /proc, written like capture, read back as CloudWatch's."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deployment.local.usage import GroupMeter, Usage, UsageSampler, UsageSettings, write_usage
from monitoring.checks import find_resource_violations
from monitoring.config import Window
from monitoring.contract import ResourceLimits
from monitoring.resources import summarize
from monitoring.samples import read_samples

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
HOUR = datetime(2026, 11, 22, 18, tzinfo=UTC)


def fake_proc(root: Path, processes: dict[int, tuple[int, int, int]], total_kb: int = 1_000_000) -> Path:
    """processes: pid -> (pgrp, utime + stime ticks, resident pages), in /proc's own formats."""
    root.mkdir(exist_ok=True)
    (root / "meminfo").write_text(f"MemTotal:       {total_kb} kB\nMemFree:        1 kB\n")
    (root / "self").mkdir(exist_ok=True)
    for pid, (group, ticks, pages) in processes.items():
        folder = root / str(pid)
        folder.mkdir(exist_ok=True)
        # comm may hold spaces and parentheses: fields are counted after the last ')'.
        fields = ["S", "1", str(group), str(group), "0", "-1", "0", "0", "0", "0", "0", str(ticks), "0"]
        (folder / "stat").write_text(f"{pid} (python (worker) 1) " + " ".join(fields) + " 20 0 1 0\n")
        (folder / "statm").write_text(f"99999 {pages} 10 1 0 5 0\n")
    return root


def test_cpu_is_summed_over_the_group_and_memory_is_resident(tmp_path):
    now = [100.0]
    proc = fake_proc(tmp_path / "proc", {10: (10, 0, 1000), 11: (10, 0, 3000), 20: (20, 500, 9000)})
    meter = GroupMeter(proc, clock=lambda: now[0])
    assert meter.read(10) is None  # CPU needs two readings
    # In 2 s: the front used 1 s of CPU, a worker 2 s, a new worker 1 s; another group's process is not ours.
    fake_proc(
        proc, {10: (10, TICKS, 1000), 11: (10, 2 * TICKS, 3000), 12: (10, TICKS, 2000), 20: (20, 9999, 1)}
    )
    now[0] += 2.0
    usage = meter.read(10)
    resident = 6000 * PAGE
    assert usage == Usage(200.0, resident, round(100.0 * resident / 1_024_000_000, 3), 3)


def test_a_restarted_server_starts_a_new_reading(tmp_path):
    now = [0.0]
    proc = fake_proc(tmp_path / "proc", {10: (10, 0, 1), 30: (30, 0, 1)})
    meter = GroupMeter(proc, clock=lambda: now[0])
    meter.read(10)
    now[0] += 1
    assert meter.read(30) is None  # another group: no CPU from the first one's ticks
    now[0] += 1
    assert meter.read(30).processes == 1
    assert meter.read(99) is None  # a group with no process left


BUSY = (
    "import sys, time\n"
    "sys.stdin.readline()\n"
    "start = time.process_time()\n"
    "while time.process_time() - start < 0.3: pass\n"
    "print('busy done', flush=True)\n"
    "sys.stdin.read()\n"
)


def test_a_busy_process_group_is_measured():
    # Its own group, as the supervisor starts the server; 0.3 s of CPU between the two readings.
    busy = subprocess.Popen(
        [sys.executable, "-c", BUSY], start_new_session=True, stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        moments: list[float] = []
        meter = GroupMeter(clock=lambda: moments.append(time.monotonic()) or moments[-1])
        assert meter.read(busy.pid) is None
        busy.stdin.write(b"go\n")  # the 0.3 s of CPU start after the first reading
        busy.stdin.flush()
        assert busy.stdout.readline() == b"busy done\n"
        usage = meter.read(busy.pid)
    finally:
        os.killpg(busy.pid, signal.SIGKILL)
        busy.wait()
        busy.stdin.close()
        busy.stdout.close()
    cpu_seconds = usage.cpu_percent / 100 * (moments[1] - moments[0])
    assert usage.processes == 1 and cpu_seconds >= 0.29  # its 0.3 s, within /proc's 10 ms ticks
    assert usage.resident_bytes > 1_000_000 and 0 < usage.memory_percent < 100


def test_samples_are_read_back_per_minute_through_the_cloudwatch_path(tmp_path):
    settings = UsageSettings(tmp_path, "pose-dev", "AllTraffic")
    # Minute 0: two samples; minute 1: none (a gap); minute 2: one; and one the hour after the window.
    for offset, cpu in ((0, 100.0), (30, 300.0), (125, 150.0), (3600, 999.0)):
        write_usage(settings, HOUR + timedelta(seconds=offset), Usage(cpu, 2 << 30, 25.0, 3))
    (tmp_path / "pose-dev" / "AllTraffic" / "2026/11/22/18" / "samples.jsonl").open("a").write("not json\n")
    window = Window(HOUR, HOUR + timedelta(hours=1))
    data = read_samples(tmp_path, "pose-dev", "AllTraffic", window)
    resources = summarize(data, window, vcpus=2)
    cpu = resources.metric("CPUUtilization")
    assert [(moment.minute, values) for moment, values in cpu.per_period] == [
        (0, (200.0, 300.0)),
        (2, (150.0, 150.0)),
    ]
    assert (cpu.mean, cpu.maximum, resources.cpu_per_core) == (175.0, 300.0, (87.5, 150.0))
    assert resources.metric("MemoryResidentBytes").mean == float(2 << 30)
    assert resources.unavailable == () and data.problems == ("1 unreadable sample lines skipped",)
    assert [
        v.feature_name for v in find_resource_violations(resources, ResourceLimits(20.0, 80.0, 1.0), window)
    ] == [
        "memory_utilization_percent",
        "cpu_utilization_percent_per_core",
    ]  # no error percent locally: no violation from a metric that is not there


def test_no_samples_is_unavailable_not_a_failure(tmp_path):
    window = Window(HOUR, HOUR + timedelta(hours=1))
    resources = summarize(read_samples(tmp_path, "pose-dev", "AllTraffic", window), window, vcpus=2)
    assert resources.unavailable == ("CPUUtilization", "MemoryUtilization", "MemoryResidentBytes")
    assert resources.problems == (f"no samples under {tmp_path / 'pose-dev' / 'AllTraffic'}",)


def test_the_sampler_writes_the_servers_usage(tmp_path):
    proc = fake_proc(tmp_path / "proc", {10: (10, 0, 100)})
    now = [0.0]
    sampler = UsageSampler(
        UsageSettings(tmp_path / "usage", "pose-dev", "AllTraffic"),
        lambda: 10,
        GroupMeter(proc, clock=lambda: now[0]),
    )
    assert sampler.sample() is None
    fake_proc(proc, {10: (10, TICKS // 2, 100)})
    now[0] = 1.0
    assert sampler.sample().cpu_percent == pytest.approx(50.0, abs=1.0)
    (written,) = (tmp_path / "usage").rglob("samples.jsonl")
    assert [line.split('"MetricName": ')[1].split(",")[0] for line in written.read_text().splitlines()] == [
        '"CPUUtilization"',
        '"MemoryUtilization"',
        '"MemoryResidentBytes"',
    ]
