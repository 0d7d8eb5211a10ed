"""The report's time charts and its Endpoint resources section, from plain numbers."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from monitoring import charts, report
from monitoring.capture import Outcome, Record, Response
from monitoring.checks import find_violations, summarize
from monitoring.config import MonitorConfig, ResourceSettings, Thresholds, Window
from monitoring.contract import NO_LIMITS, ResourceLimits
from monitoring.page import render_page
from monitoring.resources import AVERAGE, LOCAL_METRICS, MAXIMUM, MetricData, Series
from monitoring.resources import summarize as summarize_resources
from tests.unit.monitoring.monitor_samples import at

WINDOW = Window(at(19), at(20))
SPAN = (WINDOW.start.timestamp(), WINDOW.end.timestamp())


def polylines(svg: str) -> dict[str, list[list[tuple[float, float]]]]:
    """Each series' drawn runs of points, by its <title>."""
    found: dict[str, list] = {}
    for points, title in re.findall(r'<polyline points="([^"]+)"[^>]*><title>([^<]+)</title>', svg):
        pairs = [tuple(float(n) for n in pair.split(",")) for pair in points.split()]
        found.setdefault(title, []).append(pairs)
    return found


def x_axis_labels(svg: str) -> list[str]:
    return re.findall(r'<text x="[\d.]+" y="236" text-anchor="middle">([^<]+)</text>', svg)


def records(*minute_ms: tuple[int, float]) -> list[Record]:
    return [
        Record(at(19, minute), 100, Response(Outcome.PREDICTION, ms, True, 0.5)) for minute, ms in minute_ms
    ]


def test_latency_over_time_spans_the_window_and_draws_every_series_to_the_end():
    # Traffic from 19:05 to 19:15 only, one prediction a minute at the end (mean == max there).
    statistics = summarize(records((5, 10.0), (5, 30.0), (6, 20.0), (14, 25.0), (15, 25.0)), WINDOW)
    svg = charts.latency_over_time(statistics.timeline, 1000.0, statistics.timeline_seconds, SPAN)
    assert x_axis_labels(svg)[0] == "19:00" and x_axis_labels(svg)[-1] == "20:00"
    drawn = polylines(svg)
    # 19:05-19:06 and 19:14-19:15 are two runs: the quiet minutes between are a gap, not a bridge.
    assert [len(run) for run in drawn["mean"]] == [2, 2] and [len(run) for run in drawn["max"]] == [2, 2]
    assert drawn["max"][-1][-1][0] == drawn["mean"][-1][-1][0]  # max ends where mean ends
    assert svg.index("<title>mean</title>") < svg.index("<title>max</title>")  # max drawn over mean
    assert "threshold 1000 ms (above the scale)" in svg  # 40x the data: marked, not flattening it


def test_the_thresholds_are_on_both_latency_charts():
    statistics = summarize(records((5, 10.0), (6, 40.0)), WINDOW)
    over_time = charts.latency_over_time(statistics.timeline, 50.0, 60, SPAN, p99_threshold_ms=80.0)
    histogram = charts.latency_histogram(statistics.latency.histogram, 50.0, 80.0)
    for svg in (over_time, histogram):
        assert "threshold 50 ms" in svg and "p99 threshold 80 ms" in svg
    # A threshold far from the data is still on the (log) histogram.
    assert "threshold 0.001 ms" in charts.latency_histogram(statistics.latency.histogram, 0.001)


def resources(*cpu: tuple[int, float], memory: tuple[int, float] = ()):
    """Local-sample shaped data: CPU and memory per minute; no resident memory."""
    series = [
        Series("CPUUtilization", AVERAGE, tuple((at(19, m), v) for m, v in cpu)),
        Series("CPUUtilization", MAXIMUM, tuple((at(19, m), v + 10) for m, v in cpu)),
        Series("MemoryUtilization", AVERAGE, tuple((at(19, m), v) for m, v in memory)),
    ]
    return summarize_resources(MetricData("local samples in /x", LOCAL_METRICS, tuple(series)), WINDOW, 4)


def page_of(found, limits=NO_LIMITS) -> str:
    statistics = summarize(records((5, 10.0)), WINDOW)
    statistics = replace(statistics, resources=found)
    config = MonitorConfig(
        Path("/in"), Path("/out"), Path("/opt"), WINDOW, Thresholds(1.0), resources=ResourceSettings(limits)
    )
    violations = find_violations(statistics, config.thresholds)
    return render_page(
        config, statistics, violations, report.status_message(statistics, violations, config.thresholds)
    )


def test_the_resources_section_charts_cpu_per_core_and_memory_with_their_limits():
    found = resources((0, 200.0), (1, 240.0), (2, 320.0), memory=((0, 40.0), (1, 41.0), (2, 42.0)))
    page = page_of(found, ResourceLimits(max_memory_percent=80.0, max_cpu_percent_per_core=75.0))
    section = page[page.index("<h2>Endpoint resources</h2>") :]
    cpu_chart = section[section.index("<h3>CPU per core</h3>") : section.index("<h3>Memory in use</h3>")]
    (average,) = polylines(cpu_chart)["average"]
    assert len(average) == 3
    assert "max 75% per core" in cpu_chart and "max 80%" in section
    assert "CPU per core: mean / max" in section and "63.3% / 82.5%" in section  # 253.3 / 4, 330 / 4
    assert "MemoryResidentBytes" in section  # asked for, and not there: named


def test_missing_metrics_are_named_and_their_charts_say_so():
    page = page_of(resources())
    section = page[page.index("<h2>Endpoint resources</h2>") :]
    assert "no data for CPUUtilization, MemoryUtilization, MemoryResidentBytes" in section
    assert "no cpu per core to plot" in section and "no memory in use to plot" in section
    statistics_notes = report.resource_notes(resources(), summarize([], WINDOW))
    assert statistics_notes == [
        "unavailable from local samples in /x from 2026-11-22T19:00:00Z to 2026-11-22T20:00:00Z: "
        "CPUUtilization, MemoryUtilization, MemoryResidentBytes"
    ]


def test_gaps_are_noted_for_instance_metrics():
    found = resources(*((minute, 100.0) for minute in range(0, 60, 2)))
    notes = report.resource_notes(found, summarize([], WINDOW))
    assert "minutes with data from local samples in /x: CPUUtilization 30 of 60" in notes
    document = report.resources_section(found)
    assert document["metrics"]["CPUUtilization"]["periods_with_data"] == 30
    assert document["cpu_percent_per_core"] == {"mean": 25.0, "max": 27.5}
    assert document["metrics"]["CPUUtilization"]["per_period"][1] == {
        "start": (WINDOW.start + timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Average": 100.0,
        "Maximum": 110.0,
    }


def test_a_run_without_a_source_has_no_section():
    statistics = summarize(records((5, 10.0)), WINDOW)
    assert report.statistics_document(statistics, Thresholds())["endpoint_resources"] is None
    assert "Endpoint resources" not in page_of(statistics.resources)
