"""The files SageMaker reads: statistics, violations, the status message, CloudWatch metrics; and report.html."""

import json
from pathlib import Path

import pytest

from monitoring import charts, report
from monitoring.capture import Outcome, Record, Response
from monitoring.checks import find_violations, summarize
from monitoring.config import MonitorConfig, Thresholds, Window
from monitoring.dataset import ScanCounts
from monitoring.page import render_page
from tests.unit.monitoring.monitor_samples import at

WINDOW = Window(at(19), at(20))
CONFIG = MonitorConfig(
    dataset_source=Path("/in"),
    output_path=Path("/out"),
    output_root=Path("/opt"),
    window=WINDOW,
    thresholds=Thresholds(1.0),
    publish_metrics=True,
    endpoint_name="pose-prod",
    schedule_name="pose-prod-latency",
)


def statistics_of(*latencies_ms, errors=0):
    records = [Record(at(19, 1), 3000, Response(Outcome.PREDICTION, ms, True, 0.5)) for ms in latencies_ms]
    records += [Record(at(19, 2), 100, Response(Outcome.ERROR_RESPONSE))] * errors
    scan = ScanCounts(files=1, lines=len(records) + 2, in_window=len(records), outside_window=1, unreadable=1)
    return summarize(records, WINDOW, scan)


def test_statistics_document_sections():
    document = report.statistics_document(statistics_of(10.0, 30.0, errors=1), CONFIG.thresholds)
    assert document["dataset"] == {"item_count": 3}
    assert document["window"] == {"start_time": "2026-11-22T19:00:00Z", "end_time": "2026-11-22T20:00:00Z"}
    assert document["responses"] == {
        "prediction": 2,
        "error_response": 1,
        "no_timing": 0,
        "not_json": 0,
        "errors": 1,
        "error_rate": 0.3333,
        "output_not_captured": 0,
        "person_detected": 2,
        "person_detected_rate": 1.0,
    }
    latency = document["features"][0]
    assert latency["name"] == "inference_ms"
    numbers = latency["numerical_statistics"]
    assert (numbers["common"], numbers["mean"], numbers["sum"], numbers["min"], numbers["max"]) == (
        {"num_present": 2, "num_missing": 1},
        20.0,
        40.0,
        10.0,
        30.0,
    )
    assert sum(bucket["count"] for bucket in numbers["distribution"]["log_histogram"]["buckets"]) == 2
    assert document["latency_over_time"]["buckets"][0] == {
        "start": "2026-11-22T19:01:00Z",
        "count": 2,
        "errors": 0,
        "mean_inference_ms": 20.0,
        "max_inference_ms": 30.0,
    }
    assert document["notes"] == ["1 unreadable capture line skipped"]


def test_statistics_are_strict_json_even_past_the_histograms_range():
    document = report.statistics_document(statistics_of(20 * 60 * 1000.0), CONFIG.thresholds)
    text = json.dumps(document, allow_nan=False)
    assert '"upper_bound": null' in text


def test_status_messages():
    ok = statistics_of(10.0, 30.0)
    assert report.status_message(ok, (), CONFIG.thresholds) == (
        "Completed: 2 records from 2026-11-22T19:00:00Z to 2026-11-22T20:00:00Z; average inference 20.0 ms "
        "(threshold 1000 ms), p99 30.0 ms over 2 predictions; 0 errors; 1 unreadable capture line skipped"
    )
    slow = statistics_of(1500.0)
    message = report.status_message(slow, find_violations(slow, CONFIG.thresholds), CONFIG.thresholds)
    assert message.startswith("CompletedWithViolations: Average inference time 1500.0 ms over 1 predictions")


def test_no_traffic_is_completed_with_a_note():
    message = report.status_message(summarize([], WINDOW), (), CONFIG.thresholds)
    assert (
        message
        == "Completed: no traffic: no captured records from 2026-11-22T19:00:00Z to 2026-11-22T20:00:00Z"
    )


def test_message_keeps_the_first_kilobyte_on_a_character_boundary(tmp_path):
    report.write_message(tmp_path, "Completed: " + "é" * 2000)
    written = (tmp_path / "message").read_bytes()
    assert len(written) == 1023  # 11 ASCII bytes + 506 two-byte characters; half a character is dropped
    assert written.decode("utf-8").endswith("é")


def test_metric_lines_follow_cloudwatchs_shape():
    lines = report.metric_lines(CONFIG, statistics_of(10.0, 30.0))
    dimensions = [
        {"Name": "Endpoint", "Value": "pose-prod"},
        {"Name": "MonitoringSchedule", "Value": "pose-prod-latency"},
    ]
    assert {line["Timestamp"] for line in lines} == {"2026-11-22T19:00:00Z"}
    assert all(line["Dimensions"] == dimensions for line in lines)
    assert all(("Value" in line) != ("StatisticValues" in line) for line in lines)
    by_name = {line["MetricName"]: line for line in lines}
    assert by_name["inference_ms"]["StatisticValues"] == {
        "SampleCount": 2.0,
        "Sum": 40.0,
        "Minimum": 10.0,
        "Maximum": 30.0,
    }
    assert by_name["inference_ms"]["Unit"] == "Milliseconds"
    assert by_name["record_count"]["Value"] == 2.0
    assert set(by_name) == {
        "violation_count",
        "record_count",
        "error_count",
        "unreadable_record_count",
        "inference_ms",
        "inference_ms_p99",
        "person_detected_rate",
        "keypoint_score",
        "request_bytes",
        "people_per_photo",
    }


def test_the_violation_count_is_published_for_the_stages_alert():
    violations = find_violations(statistics_of(1500.0, 2500.0), CONFIG.thresholds)
    lines = report.metric_lines(CONFIG, statistics_of(1500.0, 2500.0), violations)
    by_name = {line["MetricName"]: line for line in lines}
    assert violations and by_name["violation_count"]["Value"] == float(len(violations))


def test_no_traffic_metrics_are_counts_only():
    lines = report.metric_lines(CONFIG, summarize([], WINDOW))
    assert [(line["MetricName"], line["Value"]) for line in lines] == [
        ("violation_count", 0.0),
        ("record_count", 0.0),
        ("error_count", 0.0),
        ("unreadable_record_count", 0.0),
    ]


def test_histogram_chart_draws_bars_and_the_threshold():
    svg = charts.latency_histogram(statistics_of(10.0, 10.1, 500.0).latency.histogram, 1000.0)
    assert svg.startswith("<svg") and svg.count("<rect") == 2
    assert "threshold 1000 ms" in svg


@pytest.mark.parametrize("chart", [charts.latency_histogram, charts.latency_over_time])
def test_charts_without_data_say_so(chart):
    svg = chart((), 1000.0) if chart is charts.latency_histogram else chart((), 1000.0, 60)
    assert "no inference times to plot" in svg


def test_page_shows_violations_and_escapes_names():
    statistics = statistics_of(1500.0)
    violations = find_violations(statistics, CONFIG.thresholds)
    config = MonitorConfig(Path("/in"), Path("/out"), Path("/opt"), WINDOW, endpoint_name="<pose>")
    page = render_page(config, statistics, violations, "CompletedWithViolations: slow")
    assert page.count("<svg") == 3
    assert "&lt;pose&gt;" in page and "<pose>" not in page
    assert "latency_threshold_check" in page and 'class="status violations"' in page


def test_people_per_photo_feature_and_chart():
    records = [
        Record(at(19, 1), 3000, Response(Outcome.PREDICTION, 10.0, True, 0.5, n)) for n in (0, 2, 2, 6)
    ]
    records.append(Record(at(19, 2), 100, Response(Outcome.ERROR_RESPONSE)))
    statistics = summarize(records, WINDOW)
    (feature,) = [
        f
        for f in report.statistics_document(statistics, CONFIG.thresholds)["features"]
        if f["name"] == "people_per_photo"
    ]
    numbers = feature["numerical_statistics"]
    assert (numbers["common"], numbers["mean"], numbers["max"]) == (
        {"num_present": 4, "num_missing": 0},
        2.5,
        6.0,
    )
    assert numbers["distribution"]["histogram"]["buckets"] == [
        {"people": "0", "count": 1},
        {"people": "1", "count": 0},
        {"people": "2", "count": 2},
        {"people": "3", "count": 0},
        {"people": "4", "count": 0},
        {"people": "5+", "count": 1},
    ]
    svg = charts.people_histogram(("0", "1", "2", "3", "4", "5+"), statistics.people.histogram)
    assert svg.count("<rect") == 3 and "<title>2 with 2 people</title>" in svg
    page = render_page(CONFIG, statistics, (), "Completed")
    assert '<th>people per photo: mean / max</th><td class="number">2.50 / 6</td>' in page


def test_people_chart_without_predictions_says_so():
    assert "no predictions to count people in" in charts.people_histogram(("0", "5+"), (0, 0))
