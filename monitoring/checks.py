"""Records in, statistics and violations out: pure, so the threshold logic is tested without files.

Every violation is data first (feature_name, constraint_check_type, description), text second.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from monitoring.aggregates import (
    Latency,
    LatencyStats,
    People,
    PeopleCounts,
    RunningStats,
    Summary,
    TimeBucket,
    Timeline,
)
from monitoring.by_model import ModelSplit, ModelStatistics, Rates, is_split
from monitoring.capture import Outcome, Record
from monitoring.config import ALL_TIME, Thresholds, Window
from monitoring.contract import (
    MAX_CPU_PERCENT_PER_CORE,
    MAX_ERROR_PERCENT,
    MAX_MEMORY_PERCENT,
    ResourceLimits,
)
from monitoring.dataset import ScanCounts
from monitoring.resources import MEMORY, NO_RESOURCES, EndpointResources

LATENCY_CHECK = "latency_threshold_check"
RESOURCE_CHECK = "resource_threshold_check"
MEAN_LATENCY_FEATURE = "inference_ms"
P99_LATENCY_FEATURE = "inference_ms_p99"


@dataclass(frozen=True)
class Statistics(Rates):
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
    resources: EndpointResources = NO_RESOURCES  # the endpoint's own metrics (CloudWatch or local samples)
    models: tuple[ModelStatistics, ...] = ()  # the same records by the model that answered them

    def outcome(self, outcome: Outcome) -> int:
        return dict(self.outcomes)[outcome]

    @property
    def predictions(self) -> int:
        return self.outcome(Outcome.PREDICTION)

    @property
    def errors(self) -> int:
        return sum(count for outcome, count in self.outcomes if outcome is not Outcome.PREDICTION)


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
        self.latency = LatencyStats()
        self.request_bytes = RunningStats()
        self.keypoint_score = RunningStats()
        self.people = PeopleCounts()
        self.timeline = Timeline()
        self.models = ModelSplit()

    def add(self, record: Record) -> None:
        self.records += 1
        if record.request_bytes is not None:
            self.request_bytes.add(record.request_bytes)
        response = record.response
        if response is None:
            self.output_not_captured += 1
            self.models.add(None, self.timeline.add(record.inference_time, None, False), 0, 0)
            return
        self.outcomes[response.outcome] += 1
        key = self.timeline.add(record.inference_time, response.inference_ms, response.is_error)
        index = self.latency.add(response.inference_ms) if response.inference_ms is not None else 0
        self.models.add(response, key, index, self.timeline.seconds)
        if response.person_detected:
            self.person_detected += 1
        if response.keypoint_score is not None:
            self.keypoint_score.add(response.keypoint_score)
        people = response.people_count
        if people is not None:
            self.people.add(people)

    def statistics(self, window: Window, scan: ScanCounts) -> Statistics:
        return Statistics(
            window=window,
            scan=scan,
            records=self.records,
            outcomes=tuple(self.outcomes.items()),
            output_not_captured=self.output_not_captured,
            person_detected=self.person_detected,
            latency=self.latency.latency(),
            request_bytes=self.request_bytes.summary(),
            keypoint_score=self.keypoint_score.summary(),
            people=self.people.people(),
            timeline=self.timeline.buckets(),
            timeline_seconds=self.timeline.seconds,
            models=self.models.statistics(self.timeline.seconds),
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
    When several models answered, also each model's average above THRESHOLD (model_violations).

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
    return tuple(found) + model_violations(statistics.models, thresholds)


def model_violations(models: tuple[ModelStatistics, ...], thresholds: Thresholds) -> tuple[Violation, ...]:
    """Each model's average above THRESHOLD, when two or more models answered.

    A caller gets the latency of the model they chose: a slow model's average is a broken promise to
    its callers even when fast models' traffic keeps the endpoint's average under the threshold.
    One model alone is the endpoint's own average, already checked.
    """
    if not is_split(models):
        return ()
    limit_ms = thresholds.mean_seconds * 1000.0
    return tuple(
        Violation(
            f"{MEAN_LATENCY_FEATURE}:{model.name}",
            LATENCY_CHECK,
            f"Average inference time of model {model.name} {model.latency.summary.mean:.1f} ms over "
            f"{model.latency.summary.count} predictions exceeds the threshold of {limit_ms:g} ms "
            f"(THRESHOLD={thresholds.mean_seconds:g} s)",
        )
        for model in models
        if model.named and model.latency.summary.count and model.latency.summary.mean > limit_ms
    )


def find_resource_violations(
    resources: EndpointResources, limits: ResourceLimits, window: Window
) -> tuple[Violation, ...]:
    """Averages over the window above the thresholds; a metric without data is never a violation."""
    found = []
    memory = resources.metric(MEMORY.name)
    if limits.max_memory_percent is not None and memory and memory.mean > limits.max_memory_percent:
        found.append(
            Violation(
                "memory_utilization_percent",
                RESOURCE_CHECK,
                f"Average memory utilization {memory.mean:.1f}% {window.describe()} exceeds the threshold "
                f"of {limits.max_memory_percent:g}% ({MAX_MEMORY_PERCENT}={limits.max_memory_percent:g})",
            )
        )
    per_core = resources.cpu_per_core
    limit = limits.max_cpu_percent_per_core
    if limit is not None and per_core and per_core[0] > limit:
        found.append(
            Violation(
                "cpu_utilization_percent_per_core",
                RESOURCE_CHECK,
                f"Average CPU utilization {per_core[0]:.1f}% per core ({per_core[0] * resources.vcpus:.1f}% over "
                f"{resources.vcpus} vCPUs) {window.describe()} exceeds the threshold of {limit:g}% per core "
                f"({MAX_CPU_PERCENT_PER_CORE}={limit:g})",
            )
        )
    errors = resources.error_percent
    if limits.max_error_percent is not None and errors and errors[2] > limits.max_error_percent:
        found.append(
            Violation(
                "error_percent_5xx",
                RESOURCE_CHECK,
                f"{errors[0]:g} of {errors[1]:g} invocations ({errors[2]:.2f}%) answered 5XX {window.describe()}, "
                f"exceeding the threshold of {limits.max_error_percent:g}% "
                f"({MAX_ERROR_PERCENT}={limits.max_error_percent:g})",
            )
        )
    return tuple(found)


def unchecked_limits(resources: EndpointResources, limits: ResourceLimits) -> tuple[str, ...]:
    """The thresholds set whose metrics had no data in the window: said, not silently passed."""
    missing = []
    if limits.max_memory_percent is not None and resources.metric(MEMORY.name) is None:
        missing.append(f"{MAX_MEMORY_PERCENT} not checked: no memory data")
    if limits.max_cpu_percent_per_core is not None and resources.cpu_per_core is None:
        missing.append(f"{MAX_CPU_PERCENT_PER_CORE} not checked: no CPU data")
    if limits.max_error_percent is not None and resources.error_percent is None:
        missing.append(f"{MAX_ERROR_PERCENT} not checked: no invocations, or no 5XX count, in the window")
    return tuple(missing)
