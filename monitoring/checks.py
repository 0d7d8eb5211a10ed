"""Records in, statistics and violations out: pure, so the threshold logic is tested without files.

Every violation is data first (feature_name, constraint_check_type, description), text second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitoring.aggregates import LogHistogram, RunningStats, Summary, TimeBucket, Timeline
from monitoring.capture import Outcome, Record
from monitoring.config import ALL_TIME, Thresholds, Window
from monitoring.dataset import ScanCounts

LATENCY_CHECK = "latency_threshold_check"
MEAN_LATENCY_FEATURE = "inference_ms"
P99_LATENCY_FEATURE = "inference_ms_p99"
PEOPLE_LABELS = ("0", "1", "2", "3", "4", "5+")  # the people-per-photo histogram's buckets


@dataclass(frozen=True)
class Latency:
    """Inference time in milliseconds, from each prediction's timing.inference_ms."""

    summary: Summary
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    histogram: tuple[tuple[float, float, int], ...] = ()  # (lower_ms, upper_ms, count), non-empty buckets


@dataclass(frozen=True)
class People:
    """People found per photo, over the predictions (a response without `people`: its person_detected)."""

    summary: Summary
    histogram: tuple[int, ...] = (0,) * len(PEOPLE_LABELS)  # photos per PEOPLE_LABELS bucket


@dataclass(frozen=True)
class Statistics:
    window: Window
    scan: ScanCounts
    records: int  # in the window
    outcomes: tuple[tuple[Outcome, int], ...]  # every Outcome, in declaration order
    output_not_captured: int
    person_detected: int
    latency: Latency
    request_bytes: Summary
    keypoint_score: Summary
    people: People
    timeline: tuple[TimeBucket, ...]
    timeline_seconds: int

    def outcome(self, outcome: Outcome) -> int:
        return dict(self.outcomes)[outcome]

    @property
    def predictions(self) -> int:
        return self.outcome(Outcome.PREDICTION)

    @property
    def errors(self) -> int:
        return sum(count for outcome, count in self.outcomes if outcome is not Outcome.PREDICTION)

    @property
    def error_rate(self) -> float | None:
        responses = self.predictions + self.errors
        return self.errors / responses if responses else None

    @property
    def person_detected_rate(self) -> float | None:
        return self.person_detected / self.predictions if self.predictions else None


@dataclass(frozen=True)
class Violation:
    feature_name: str
    constraint_check_type: str
    description: str


class Aggregate:
    """The running totals behind Statistics; memory stays flat however many records are added."""

    def __init__(self) -> None:
        self.records = 0
        self.outcomes = dict.fromkeys(Outcome, 0)
        self.output_not_captured = 0
        self.person_detected = 0
        self.latency = RunningStats()
        self.histogram = LogHistogram()
        self.request_bytes = RunningStats()
        self.keypoint_score = RunningStats()
        self.people = RunningStats()
        self.people_histogram = [0] * len(PEOPLE_LABELS)
        self.timeline = Timeline()

    def add(self, record: Record) -> None:
        self.records += 1
        if record.request_bytes is not None:
            self.request_bytes.add(record.request_bytes)
        response = record.response
        if response is None:
            self.output_not_captured += 1
            self.timeline.add(record.inference_time, None, False)
            return
        self.outcomes[response.outcome] += 1
        self.timeline.add(record.inference_time, response.inference_ms, response.is_error)
        if response.inference_ms is not None:
            self.latency.add(response.inference_ms)
            self.histogram.add(response.inference_ms)
        if response.person_detected:
            self.person_detected += 1
        if response.keypoint_score is not None:
            self.keypoint_score.add(response.keypoint_score)
        people = response.people_count
        if people is not None:
            self.people.add(people)
            self.people_histogram[min(people, len(PEOPLE_LABELS) - 1)] += 1

    def statistics(self, window: Window, scan: ScanCounts) -> Statistics:
        return Statistics(
            window=window,
            scan=scan,
            records=self.records,
            outcomes=tuple(self.outcomes.items()),
            output_not_captured=self.output_not_captured,
            person_detected=self.person_detected,
            latency=self._latency(),
            request_bytes=self.request_bytes.summary(),
            keypoint_score=self.keypoint_score.summary(),
            people=People(self.people.summary(), tuple(self.people_histogram)),
            timeline=self.timeline.buckets(),
            timeline_seconds=self.timeline.seconds,
        )

    def _latency(self) -> Latency:
        summary = self.latency.summary()
        if not summary.count:
            return Latency(summary)
        low, high = summary.minimum, summary.maximum
        return Latency(
            summary,
            p50=self.histogram.quantile(0.50, low, high),
            p90=self.histogram.quantile(0.90, low, high),
            p99=self.histogram.quantile(0.99, low, high),
            histogram=tuple(self.histogram.buckets()),
        )


def summarize(
    records: Iterable[Record], window: Window = ALL_TIME, scan: ScanCounts | None = None
) -> Statistics:
    """Statistics of records; pass `scan` when the records come from files (a CaptureScan's counts)."""
    aggregate = Aggregate()
    for record in records:
        aggregate.add(record)
    counts = scan if scan is not None else ScanCounts(lines=aggregate.records, in_window=aggregate.records)
    return aggregate.statistics(window, counts)


def find_violations(statistics: Statistics, thresholds: Thresholds) -> tuple[Violation, ...]:
    """Average above THRESHOLD (and p99 above P99_THRESHOLD, when set); equal is within the limit.

    An hour without predictions has nothing to measure, so it has no latency violation.
    """
    latency = statistics.latency
    if not latency.summary.count:
        return ()
    found = []
    mean_limit_ms = thresholds.mean_seconds * 1000.0
    if latency.summary.mean > mean_limit_ms:
        found.append(
            Violation(
                MEAN_LATENCY_FEATURE,
                LATENCY_CHECK,
                f"Average inference time {latency.summary.mean:.1f} ms over {latency.summary.count} predictions "
                f"exceeds the threshold of {mean_limit_ms:g} ms (THRESHOLD={thresholds.mean_seconds:g} s)",
            )
        )
    if thresholds.p99_seconds is not None and latency.p99 > thresholds.p99_seconds * 1000.0:
        found.append(
            Violation(
                P99_LATENCY_FEATURE,
                LATENCY_CHECK,
                f"p99 inference time {latency.p99:.1f} ms over {latency.summary.count} predictions "
                f"exceeds the threshold of {thresholds.p99_seconds * 1000.0:g} ms "
                f"(P99_THRESHOLD={thresholds.p99_seconds:g} s)",
            )
        )
    return tuple(found)
