"""Bounded-memory accumulators: a month of traffic costs the same few kilobytes as an hour.

Count, sum, min and max are exact; percentiles come from a log-scale histogram within ~1 %;
latency over time keeps at most MAX_TIME_BUCKETS buckets, widening them as the span grows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

MAX_TIME_BUCKETS = 1440
PEOPLE_LABELS = ("0", "1", "2", "3", "4", "5+")  # the people-per-photo histogram's buckets


@dataclass(frozen=True)
class Summary:
    count: int = 0
    total: float = 0.0
    mean: float | None = None
    std_dev: float | None = None
    minimum: float | None = None
    maximum: float | None = None


class RunningStats:
    """Exact count, sum, min, max and (population) standard deviation of a stream of numbers."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self._squares = 0.0
        self.minimum = math.inf
        self.maximum = -math.inf

    def add(self, value: float) -> None:
        self.count += 1
        self.total += value
        self._squares += value * value
        self.minimum = min(self.minimum, value)
        self.maximum = max(self.maximum, value)

    def merge(self, other: RunningStats) -> None:
        self.count += other.count
        self.total += other.total
        self._squares += other._squares
        self.minimum = min(self.minimum, other.minimum)
        self.maximum = max(self.maximum, other.maximum)

    def summary(self) -> Summary:
        if not self.count:
            return Summary()
        mean = self.total / self.count
        variance = max(0.0, self._squares / self.count - mean * mean)
        return Summary(self.count, self.total, mean, math.sqrt(variance), self.minimum, self.maximum)


class LogHistogram:
    """Counts in buckets whose bounds grow by `growth`: any value is within ~1 % of its bucket's middle.

    The defaults cover 0.01 ms to 10 minutes in ~900 buckets; values outside land in the two end buckets.
    """

    def __init__(self, low: float = 0.01, high: float = 600_000.0, growth: float = 1.02) -> None:
        self.low = low
        self.growth = growth
        self._log_low = math.log(low)
        self._log_growth = math.log(growth)
        inner = math.ceil(math.log(high / low) / self._log_growth)
        self.counts = [0] * (inner + 2)  # [0]: below low; [-1]: at or above high
        self.count = 0

    def add(self, value: float) -> int:
        """Count `value`; returns its bucket, for another histogram of the same bounds (add_index)."""
        if value < self.low:
            index = 0
        else:
            index = min(len(self.counts) - 1, 1 + int((math.log(value) - self._log_low) / self._log_growth))
        self.counts[index] += 1
        self.count += 1
        return index

    def add_index(self, index: int) -> None:
        self.counts[index] += 1
        self.count += 1

    def bounds(self, index: int) -> tuple[float, float]:
        if index == 0:
            return 0.0, self.low
        upper = math.inf if index == len(self.counts) - 1 else self.low * self.growth**index
        return self.low * self.growth ** (index - 1), upper

    def quantile(self, fraction: float, minimum: float, maximum: float) -> float | None:
        """The nearest-rank quantile, as its bucket's geometric middle clamped to the exact min and max."""
        if not self.count:
            return None
        rank = max(1, math.ceil(fraction * self.count))
        seen = 0
        for index, bucket_count in enumerate(self.counts):
            seen += bucket_count
            if seen >= rank:
                lower, upper = self.bounds(index)
                middle = math.sqrt(lower * upper) if lower > 0 and math.isfinite(upper) else lower or upper
                return min(maximum, max(minimum, middle))
        return maximum

    def buckets(self) -> list[tuple[float, float, int]]:
        """(lower, upper, count) of every non-empty bucket, lowest first."""
        return [(*self.bounds(index), count) for index, count in enumerate(self.counts) if count]


@dataclass(frozen=True)
class Latency:
    """Inference time in milliseconds, from each prediction's timing.inference_ms."""

    summary: Summary
    p50: float | None = None
    p90: float | None = None
    p99: float | None = None
    histogram: tuple[tuple[float, float, int], ...] = ()  # (lower_ms, upper_ms, count), non-empty buckets


class LatencyStats:
    """Exact count, mean, min and max of inference times, and percentiles from their log histogram."""

    def __init__(self) -> None:
        self.stats = RunningStats()
        self.histogram = LogHistogram()

    def add(self, inference_ms: float) -> int:
        """Returns the histogram's bucket: add_indexed counts the same time elsewhere without a log."""
        self.stats.add(inference_ms)
        return self.histogram.add(inference_ms)

    def add_indexed(self, inference_ms: float, index: int) -> None:
        self.stats.add(inference_ms)
        self.histogram.add_index(index)

    def latency(self) -> Latency:
        summary = self.stats.summary()
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


@dataclass(frozen=True)
class People:
    """People found per photo, over the predictions (a response without `people`: its person_detected)."""

    summary: Summary
    histogram: tuple[int, ...] = (0,) * len(PEOPLE_LABELS)  # photos per PEOPLE_LABELS bucket


class PeopleCounts:
    def __init__(self) -> None:
        self.stats = RunningStats()
        self.histogram = [0] * len(PEOPLE_LABELS)

    def add(self, people: int) -> None:
        self.stats.add(people)
        self.histogram[min(people, len(PEOPLE_LABELS) - 1)] += 1

    def people(self) -> People:
        return People(self.stats.summary(), tuple(self.histogram))


@dataclass(frozen=True)
class TimeBucket:
    start: datetime
    count: int  # records
    errors: int
    latency: Summary  # of the predictions among them


class Timeline:
    """Per-minute aggregates that merge pairwise into wider buckets past MAX_TIME_BUCKETS."""

    def __init__(self, max_buckets: int = MAX_TIME_BUCKETS) -> None:
        self.seconds = 60
        self._max_buckets = max_buckets
        self._buckets: dict[int, tuple[int, int, RunningStats]] = {}

    def add(self, moment: datetime, inference_ms: float | None, is_error: bool) -> int:
        """Returns the bucket's start (seconds since the epoch), for a SubTimeline of the same records."""
        key = int(moment.timestamp()) // self.seconds * self.seconds
        count, errors, latency = self._buckets.get(key) or (0, 0, RunningStats())
        if inference_ms is not None:
            latency.add(inference_ms)
        self._buckets[key] = (count + 1, errors + is_error, latency)
        if len(self._buckets) > self._max_buckets:
            self._widen()
        return key

    def buckets(self) -> tuple[TimeBucket, ...]:
        return tuple(
            TimeBucket(datetime.fromtimestamp(key, UTC), count, errors, latency.summary())
            for key, (count, errors, latency) in sorted(self._buckets.items())
        )

    def _widen(self) -> None:
        """Twice as wide: a width is always 60 s doubled, so every older bucket start stays aligned."""
        self.seconds *= 2
        merged: dict[int, tuple[int, int, RunningStats]] = {}
        for key, (count, errors, latency) in self._buckets.items():
            wide = key // self.seconds * self.seconds
            if wide in merged:
                wide_count, wide_errors, wide_latency = merged[wide]
                wide_latency.merge(latency)
                merged[wide] = (wide_count + count, wide_errors + errors, wide_latency)
            else:
                merged[wide] = (count, errors, latency)
        self._buckets = merged


class SubTimeline:
    """The mean latency of some of a Timeline's records (one model's), in that timeline's buckets.

    Fed the bucket start the Timeline gave each record, so a record costs no second time conversion;
    a start given before the Timeline widened falls into the wider bucket when `buckets` re-keys.
    Only count and sum per bucket: the charts draw a model's mean.
    """

    def __init__(self, max_buckets: int = MAX_TIME_BUCKETS) -> None:
        self._max_buckets = max_buckets
        self._buckets: dict[int, list[float]] = {}  # start: [count, sum]

    def add(self, key: int, inference_ms: float, seconds: int) -> None:
        totals = self._buckets.get(key)
        if totals is None:
            if len(self._buckets) >= 2 * self._max_buckets:  # starts from before a widening: merge them
                self._rekey(seconds)
                key = key // seconds * seconds
            totals = self._buckets.setdefault(key, [0, 0.0])
        totals[0] += 1
        totals[1] += inference_ms

    def buckets(self, seconds: int) -> tuple[TimeBucket, ...]:
        """In buckets `seconds` wide (the Timeline's final width); each bucket's count is its records."""
        self._rekey(seconds)
        return tuple(
            TimeBucket(datetime.fromtimestamp(key, UTC), count, 0, Summary(count, total, total / count))
            for key, (count, total) in sorted(self._buckets.items())
        )

    def _rekey(self, seconds: int) -> None:
        merged: dict[int, list[float]] = {}
        for key, (count, total) in self._buckets.items():
            wide = merged.setdefault(key // seconds * seconds, [0, 0.0])
            wide[0] += count
            wide[1] += total
        self._buckets = merged
