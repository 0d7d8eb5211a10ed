"""The statistics split by the model that answered (issue 20): statistics.json, violations, report.html, the CLI."""

import json
from dataclasses import replace

import pytest

from monitoring import by_model
from monitoring.__main__ import main
from monitoring.aggregates import SubTimeline, Timeline
from monitoring.capture import Outcome, Record, Response
from monitoring.checks import LATENCY_CHECK, Violation, find_violations, summarize
from monitoring.config import Thresholds
from monitoring.page import render_page
from monitoring.report import statistics_document
from tests.unit.monitoring.monitor_samples import at, capture_line, invocation, prediction, write_capture
from tests.unit.monitoring.test_monitor_report import CONFIG, WINDOW


def answer(model, ms, person=True, score=0.5, people=None, minute=1):
    response = Response(Outcome.PREDICTION, ms, person, score, people, model=model)
    return Record(at(19, minute), 1000, response)


def error(model=None, minute=2):
    return Record(at(19, minute), 1000, Response(Outcome.ERROR_RESPONSE, model=model))


MIXED = [
    answer("blazepose-lite", 10.0, people=2),
    answer("blazepose-lite", 30.0, people=1),
    answer("blazepose-lite", 20.0, person=False, score=0.1, people=0),
    answer("blazepose-heavy", 1500.0, people=3, score=0.9),
    error("blazepose-heavy"),
    error(),  # the server refused the photo before any model ran
    Record(at(19, 3), 1000, None),  # output not captured
    answer(None, 40.0),  # a server older than `model`
]


def test_records_are_split_by_model_unnamed_ones_under_unknown():
    models = {model.name: model for model in summarize(MIXED, WINDOW).models}
    assert list(models) == ["blazepose-heavy", "blazepose-lite", "unknown"]
    lite, heavy, unknown = models["blazepose-lite"], models["blazepose-heavy"], models["unknown"]
    assert (lite.records, lite.predictions, lite.errors, lite.person_detected) == (3, 3, 0, 2)
    assert (lite.latency.summary.mean, lite.latency.summary.maximum) == (20.0, 30.0)
    assert lite.latency.p50 == pytest.approx(20.0, rel=0.01)  # from the log histogram, like the window's
    assert lite.people.histogram == (1, 1, 1, 0, 0, 0) and lite.people.summary.mean == 1.0
    assert (heavy.records, heavy.predictions, heavy.errors, heavy.error_rate) == (2, 1, 1, 0.5)
    assert heavy.keypoint_score.mean == 0.9 and heavy.latency.p99 == 1500.0
    assert (unknown.records, unknown.predictions, unknown.errors) == (3, 1, 1)
    assert sum(model.records for model in models.values()) == len(MIXED)


def test_the_overall_numbers_are_those_without_the_split():
    """The split adds a section; every overall number is what it was with no model named at all."""
    anonymous = [
        replace(record, response=replace(record.response, model=None)) if record.response else record
        for record in MIXED
    ]
    split, plain = summarize(MIXED, WINDOW), summarize(anonymous, WINDOW)
    assert replace(split, models=()) == replace(plain, models=())
    assert [model.name for model in plain.models] == ["unknown"]


def test_statistics_json_has_each_models_latency_quality_and_counts():
    document = statistics_document(summarize(MIXED, WINDOW), Thresholds(1.0))
    assert list(document["models"]) == ["blazepose-heavy", "blazepose-lite", "unknown"]
    assert document["models"]["blazepose-lite"] == {
        "records": 3,
        "predictions": 3,
        "errors": 0,
        "error_rate": 0.0,
        "inference_ms": {
            "count": 3,
            "mean": 20.0,
            "std_dev": 8.165,
            "min": 10.0,
            "p50": pytest.approx(20.0, rel=0.01),
            "p90": 30.0,
            "p99": 30.0,
            "max": 30.0,
        },
        "person_detected": 2,
        "person_detected_rate": 0.6667,
        "keypoint_score": {"count": 3, "mean": 0.3667, "std_dev": 0.1886, "min": 0.1, "max": 0.5},
        "people_per_photo": {
            "count": 3,
            "mean": 1.0,
            "std_dev": 0.816,
            "min": 0.0,
            "max": 2.0,
            "histogram": {"0": 1, "1": 1, "2": 1, "3": 0, "4": 0, "5+": 0},
        },
    }
    assert document["models"]["unknown"]["inference_ms"]["count"] == 1
    assert json.dumps(document, allow_nan=False)


def test_no_records_no_models():
    assert statistics_document(summarize([], WINDOW), Thresholds(1.0))["models"] == {}


def test_a_model_over_the_threshold_is_a_violation_even_when_the_average_is_not():
    records = [answer("blazepose-lite", 100.0)] * 9 + [answer("blazepose-heavy", 1500.0)]
    statistics = summarize(records, WINDOW)
    assert statistics.latency.summary.mean == 240.0  # the endpoint's average is well within
    assert find_violations(statistics, Thresholds(1.0)) == (
        Violation(
            "inference_ms:blazepose-heavy",
            LATENCY_CHECK,
            "Average inference time of model blazepose-heavy 1500.0 ms over 1 predictions exceeds the "
            "threshold of 1000 ms (THRESHOLD=1 s)",
        ),
    )


def test_the_overall_violation_stays_and_each_slow_model_adds_its_own():
    records = [answer("blazepose-lite", 900.0), answer("blazepose-heavy", 1500.0), answer(None, 5000.0)]
    found = find_violations(summarize(records, WINDOW), Thresholds(1.0))
    # `unknown` is not a model: its records count in the average, never as a model of their own.
    assert [violation.feature_name for violation in found] == ["inference_ms", "inference_ms:blazepose-heavy"]


def test_one_model_alone_is_judged_once_as_today():
    records = [answer("blazepose-heavy", 1500.0), answer(None, 1500.0), error()]
    found = find_violations(summarize(records, WINDOW), Thresholds(1.0))
    assert [violation.feature_name for violation in found] == ["inference_ms"]


def test_names_past_the_limit_count_together_so_memory_stays_bounded():
    records = [answer(f"model-{index:02d}", 10.0) for index in range(by_model.MAX_MODELS + 4)]
    models = summarize([*records, error()], WINDOW).models
    assert len(models) == by_model.MAX_MODELS + 2
    assert [model.name for model in models[-2:]] == ["unknown", "other models"]
    assert models[-1].predictions == 4 and models[-2].errors == 1


def test_each_models_timeline_is_as_wide_as_the_windows():
    """A month of minutes widens the window's timeline; a model's sparser one is widened to match."""
    busy = [
        Record(
            at(0) + index * (at(1) - at(0)) / 30, 10, Response(Outcome.PREDICTION, 10.0, True, 0.5, model="a")
        )
        for index in range(30 * 24 * 3)
    ]
    rare = [Record(at(5), 10, Response(Outcome.PREDICTION, 20.0, True, 0.5, model="b"))]
    statistics = summarize(busy + rare)
    assert statistics.timeline_seconds > 60
    models = {model.name: model for model in statistics.models}
    seconds = statistics.timeline_seconds
    for model in models.values():
        assert all(int(bucket.start.timestamp()) % seconds == 0 for bucket in model.timeline)
    assert len(models["b"].timeline) == 1 and models["b"].timeline[0].latency.mean == 20.0


def test_the_report_shows_a_table_and_a_chart_per_model_only_for_several_models():
    statistics = summarize(MIXED, WINDOW)
    page = render_page(
        CONFIG, statistics, find_violations(statistics, CONFIG.thresholds), "CompletedWithViolations"
    )
    section = page[page.index("<h2>By model</h2>") :]
    assert (
        '<th scope="row">blazepose-lite</th><td class="number">3</td><td class="number">20.0</td>' in section
    )
    assert '<td class="number over">1,500.0</td>' in section  # heavy's mean, over the threshold
    assert "Mean inference time by model" in section
    for name in ("blazepose-heavy", "blazepose-lite", "unknown"):
        assert f">{name}</text>" in section  # in the chart's legend
    single = [record for record in MIXED if record.response and record.response.model != "blazepose-heavy"]
    alone = summarize(single, WINDOW)
    assert "By model" not in render_page(CONFIG, alone, (), "Completed")


def test_analyze_prints_one_line_per_model(tmp_path, capsys):
    source = tmp_path / "capture"
    lines = [
        capture_line(invocation(at(19, minute), {**prediction(ms), "model": {"name": name, "version": "1"}}))
        for minute, (name, ms) in enumerate(
            [("movenet-lightning", 8.0), ("movenet-lightning", 12.0), ("blazepose-heavy", 1200.0)]
        )
    ]
    write_capture(source, "AllTraffic", lines)
    output = tmp_path / "out"
    assert main(["analyze", "--input", str(source), "--output", str(output)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0] == "CompletedWithViolations"
    assert (
        "  model      blazepose-heavy: 1 predictions, 0 errors, mean 1200.0 ms, p99 1200.0 ms, person in 100.0%"
        in printed
    )
    assert "  model      movenet-lightning: 2 predictions, 0 errors, mean 10.0 ms" in printed
    statistics = json.loads((output / "statistics.json").read_text())
    assert statistics["models"]["movenet-lightning"]["inference_ms"]["mean"] == 10.0
    violations = json.loads((output / "constraint_violations.json").read_text())["violations"]
    # The average, 406.7 ms, is within the threshold: only the heavy model's average is over it.
    assert [violation["feature_name"] for violation in violations] == ["inference_ms:blazepose-heavy"]
    assert "By model" in (output / "report.html").read_text()


def test_a_sub_timeline_matches_its_timeline_however_often_that_widened():
    """Fed the bucket starts a Timeline gave (narrow ones from before each widening), a model's
    SubTimeline ends in the Timeline's buckets with the same latencies, and stays bounded meanwhile."""
    timeline, sub = Timeline(max_buckets=4), SubTimeline(max_buckets=4)
    sizes = []
    for minute in range(200):
        moment = at(0) + minute * (at(0, 1) - at(0))
        sub.add(timeline.add(moment, float(minute), False), float(minute), timeline.seconds)
        sizes.append(len(sub._buckets))
    whole = timeline.buckets()
    assert [(b.start, b.count, b.latency.mean) for b in sub.buckets(timeline.seconds)] == [
        (b.start, b.count, b.latency.mean) for b in whole
    ]
    assert timeline.seconds == 60 * 64 and max(sizes) <= 8
