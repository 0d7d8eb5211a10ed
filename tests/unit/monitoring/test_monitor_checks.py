"""checks.py without files: statistics from plain records, and the threshold logic."""

from datetime import timedelta

import pytest

from monitoring.aggregates import LogHistogram, Timeline
from monitoring.capture import Outcome, Record, Response
from monitoring.checks import LATENCY_CHECK, Violation, find_violations, summarize
from monitoring.config import Thresholds
from tests.unit.monitoring.monitor_samples import at


def predictions(*latencies_ms, person=True, score=0.5):
    return [
        Record(at(19, 0, index % 60), 1000, Response(Outcome.PREDICTION, ms, person, score))
        for index, ms in enumerate(latencies_ms)
    ]


def violations_for(latencies_ms, mean_seconds=1.0, p99_seconds=None):
    return find_violations(summarize(predictions(*latencies_ms)), Thresholds(mean_seconds, p99_seconds))


def test_average_above_the_threshold_is_one_violation():
    assert violations_for([900.0, 1200.0]) == (
        Violation(
            "inference_ms",
            LATENCY_CHECK,
            "Average inference time 1050.0 ms over 2 predictions exceeds the threshold of 1000 ms (THRESHOLD=1 s)",
        ),
    )


@pytest.mark.parametrize("latencies", [[1000.0, 1000.0], [500.0, 1500.0], [10.0], [999.9]])
def test_average_equal_to_or_below_the_threshold_is_no_violation(latencies):
    assert violations_for(latencies) == ()


def test_a_slow_two_percent_does_not_trip_the_average_but_trips_p99():
    latencies = [20.0] * 98 + [5000.0] * 2  # nearest rank: p99 of 100 values is the 99th
    assert violations_for(latencies) == ()
    (violation,) = violations_for(latencies, p99_seconds=0.5)
    assert (violation.feature_name, violation.constraint_check_type) == ("inference_ms_p99", LATENCY_CHECK)
    assert "P99_THRESHOLD=0.5 s" in violation.description


def test_p99_below_its_threshold_or_unset_is_no_violation():
    latencies = [20.0] * 50 + [400.0] * 50
    assert violations_for(latencies, p99_seconds=0.5) == ()
    assert violations_for(latencies, mean_seconds=1.0, p99_seconds=None) == ()


def test_both_thresholds_can_be_violated_at_once():
    found = violations_for([2000.0] * 10, mean_seconds=1.0, p99_seconds=1.5)
    assert [violation.feature_name for violation in found] == ["inference_ms", "inference_ms_p99"]


def test_no_traffic_is_zero_samples_and_no_violation():
    statistics = summarize([])
    assert (statistics.records, statistics.latency.summary.count, statistics.latency.p99) == (0, 0, None)
    assert find_violations(statistics, Thresholds(0.001)) == ()


def test_only_errors_means_nothing_to_time_and_no_violation():
    records = [
        Record(at(19), 10, Response(Outcome.ERROR_RESPONSE)),
        Record(at(19), 10, Response(Outcome.NOT_JSON)),
    ]
    statistics = summarize(records)
    assert (statistics.records, statistics.errors, statistics.error_rate) == (2, 2, 1.0)
    assert find_violations(statistics, Thresholds(0.001)) == ()


def test_outcomes_quality_and_request_sizes_are_tallied():
    records = [
        *predictions(10.0, 30.0, person=True, score=0.8),
        *predictions(20.0, person=False, score=0.2),
        Record(at(19), 3000, Response(Outcome.ERROR_RESPONSE)),
        Record(at(19), 5000, Response(Outcome.NO_TIMING)),
        Record(at(19), None, None),
    ]
    statistics = summarize(records)
    assert dict(statistics.outcomes) == {
        Outcome.PREDICTION: 3,
        Outcome.ERROR_RESPONSE: 1,
        Outcome.NO_TIMING: 1,
        Outcome.NOT_JSON: 0,
    }
    assert (statistics.records, statistics.errors, statistics.output_not_captured) == (6, 2, 1)
    assert statistics.error_rate == pytest.approx(2 / 5)
    assert statistics.person_detected_rate == pytest.approx(2 / 3)
    assert statistics.keypoint_score.mean == pytest.approx(0.6)
    assert (statistics.request_bytes.count, statistics.request_bytes.maximum) == (5, 5000)
    assert (statistics.latency.summary.mean, statistics.latency.summary.maximum) == (20.0, 30.0)


def test_percentiles_are_within_one_percent_and_min_max_are_exact():
    latency = summarize(predictions(*[float(ms) for ms in range(1, 1001)])).latency
    assert latency.p50 == pytest.approx(500, rel=0.01)
    assert latency.p90 == pytest.approx(900, rel=0.01)
    assert latency.p99 == pytest.approx(990, rel=0.01)
    assert (latency.summary.minimum, latency.summary.maximum, latency.summary.count) == (1.0, 1000.0, 1000)


def test_one_sample_has_every_percentile_equal_to_it():
    latency = summarize(predictions(18.5)).latency
    assert (latency.p50, latency.p90, latency.p99) == (18.5, 18.5, 18.5)


def test_histogram_keeps_values_outside_its_range_in_its_end_buckets():
    histogram = LogHistogram()
    for value in (0.001, 5.0, 10_000_000.0):
        histogram.add(value)
    buckets = histogram.buckets()
    assert [count for _, _, count in buckets] == [1, 1, 1]
    assert buckets[0][:2] == (0.0, 0.01) and buckets[-1][1] == float("inf")
    assert len(histogram.counts) < 1000  # ~900 buckets whatever the number of values


def test_timeline_widens_its_buckets_but_keeps_every_record():
    timeline = Timeline(max_buckets=10)
    for minute in range(100):
        timeline.add(at(0) + timedelta(minutes=minute), float(minute), is_error=minute % 10 == 0)
    buckets = timeline.buckets()
    assert len(buckets) <= 10 and timeline.seconds == 960
    assert sum(bucket.count for bucket in buckets) == 100
    assert sum(bucket.errors for bucket in buckets) == 10
    assert max(bucket.latency.maximum for bucket in buckets) == 99.0


def test_latency_over_time_is_per_minute():
    records = [
        Record(at(19, minute, 5), None, Response(Outcome.PREDICTION, 10.0 * minute)) for minute in (0, 0, 2)
    ]
    statistics = summarize(records)
    assert statistics.timeline_seconds == 60
    assert [(bucket.start, bucket.count, bucket.latency.mean) for bucket in statistics.timeline] == [
        (at(19, 0), 2, 0.0),
        (at(19, 2), 1, 20.0),
    ]


def test_people_per_photo_mean_max_and_histogram_with_a_five_or_more_bucket():
    def photo(people, person=True):
        return Record(at(19), 1000, Response(Outcome.PREDICTION, 20.0, person, 0.5, people))

    records = [
        photo(0, person=False),
        photo(1),
        photo(1),
        photo(3),
        photo(5),
        photo(9),
        photo(None),  # an older server's answer with a person: one
        photo(None, person=False),  # ... and without: none
        Record(at(19), 1000, Response(Outcome.ERROR_RESPONSE)),  # no photo to count people in
        Record(at(19), 1000, None),
    ]
    people = summarize(records).people
    assert (people.summary.count, people.summary.total, people.summary.maximum) == (8, 20.0, 9.0)
    assert people.summary.mean == pytest.approx(2.5)
    assert people.histogram == (2, 3, 0, 1, 0, 2)
