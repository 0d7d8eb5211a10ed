"""The same statistics split by the model that answered: an endpoint serving several models
(`endpoint.models`) is judged per model too, since a fast model's traffic can hide a slow one's.

Each response names its model (`model.name`); one that names none (an error from before the model
ran, a record whose output was not captured, a server older than `model`) counts under UNKNOWN.
"""

from __future__ import annotations

from dataclasses import dataclass

from monitoring.aggregates import (
    PEOPLE_LABELS,
    Latency,
    LatencyStats,
    People,
    PeopleCounts,
    RunningStats,
    SubTimeline,
    Summary,
    TimeBucket,
)
from monitoring.capture import Outcome, Response

UNKNOWN = "unknown"
OTHER = "other models"  # names past the first MAX_MODELS: memory stays bounded whatever responses say
MAX_MODELS = 16  # an endpoint serves at most 10 (endpoint.models)


class Rates:
    """The shares that matter of anything counting predictions, errors and person_detected."""

    predictions: int
    errors: int
    person_detected: int

    @property
    def error_rate(self) -> float | None:
        responses = self.predictions + self.errors
        return self.errors / responses if responses else None

    @property
    def person_detected_rate(self) -> float | None:
        return self.person_detected / self.predictions if self.predictions else None


@dataclass(frozen=True)
class ModelStatistics(Rates):
    """One model's share of the window: its counts, latency and quality."""

    name: str
    records: int
    predictions: int
    errors: int
    person_detected: int
    latency: Latency
    keypoint_score: Summary
    people: People
    timeline: tuple[TimeBucket, ...]  # of its predictions, as wide as the window's: the charts line up

    @property
    def named(self) -> bool:
        return self.name not in (UNKNOWN, OTHER)


def is_split(models: tuple[ModelStatistics, ...]) -> bool:
    """Two or more models answered: worth a table and a chart of their own."""
    return sum(model.named for model in models) >= 2


class _ModelTotals:
    """The running totals of one model; a few kilobytes, like the whole window's."""

    __slots__ = (
        "errors",
        "keypoint_score",
        "latency",
        "people",
        "person_detected",
        "predictions",
        "records",
        "timeline",
    )

    def __init__(self) -> None:
        self.records = self.predictions = self.errors = self.person_detected = 0
        self.latency = LatencyStats()
        self.keypoint_score = RunningStats()
        self.people = PeopleCounts()
        self.timeline = SubTimeline()

    def add(self, response: Response | None, key: int, index: int, seconds: int) -> None:
        self.records += 1
        if response is None:
            return
        if response.outcome is not Outcome.PREDICTION:
            self.errors += 1
            return
        self.predictions += 1
        self.latency.add_indexed(response.inference_ms, index)
        self.timeline.add(key, response.inference_ms, seconds)
        if response.person_detected:
            self.person_detected += 1
        if response.keypoint_score is not None:
            self.keypoint_score.add(response.keypoint_score)
        self.people.add(response.people_count)

    def statistics(self, name: str, timeline_seconds: int) -> ModelStatistics:
        return ModelStatistics(
            name=name,
            records=self.records,
            predictions=self.predictions,
            errors=self.errors,
            person_detected=self.person_detected,
            latency=self.latency.latency(),
            keypoint_score=self.keypoint_score.summary(),
            people=self.people.people(),
            timeline=self.timeline.buckets(timeline_seconds),
        )


class ModelSplit:
    """Records by the model that answered them, fed by the window's Aggregate."""

    def __init__(self) -> None:
        self._models: dict[str, _ModelTotals] = {}

    def add(self, response: Response | None, key: int, index: int, seconds: int) -> None:
        """`key`: the record's bucket start in the window's Timeline, `seconds` its width; `index`: the
        prediction's bucket in the window's latency histogram (both unused for other records)."""
        name = (response.model if response is not None else None) or UNKNOWN
        totals = self._models.get(name)
        if totals is None:
            if len(self._models) >= MAX_MODELS and name != UNKNOWN:
                name = OTHER
            totals = self._models.setdefault(name, _ModelTotals())
        totals.add(response, key, index, seconds)

    def statistics(self, timeline_seconds: int) -> tuple[ModelStatistics, ...]:
        """By name, then UNKNOWN and OTHER last."""
        order = sorted(self._models, key=lambda name: (name in (UNKNOWN, OTHER), name == OTHER, name))
        return tuple(self._models[name].statistics(name, timeline_seconds) for name in order)


def model_document(model: ModelStatistics) -> dict:
    """One model's counts, latency and quality: the numbers of the whole window's sections, for it alone."""
    latency = model.latency
    return {
        "records": model.records,
        "predictions": model.predictions,
        "errors": model.errors,
        "error_rate": _round(model.error_rate, 4),
        "inference_ms": {
            "count": latency.summary.count,
            "mean": _round(latency.summary.mean, 3),
            "std_dev": _round(latency.summary.std_dev, 3),
            "min": _round(latency.summary.minimum, 3),
            "p50": _round(latency.p50, 3),
            "p90": _round(latency.p90, 3),
            "p99": _round(latency.p99, 3),
            "max": _round(latency.summary.maximum, 3),
        },
        "person_detected": model.person_detected,
        "person_detected_rate": _round(model.person_detected_rate, 4),
        "keypoint_score": _summary_document(model.keypoint_score, 4),
        "people_per_photo": {
            **_summary_document(model.people.summary, 3),
            "histogram": dict(zip(PEOPLE_LABELS, model.people.histogram, strict=True)),
        },
    }


def _summary_document(summary: Summary, digits: int) -> dict:
    return {
        "count": summary.count,
        "mean": _round(summary.mean, digits),
        "std_dev": _round(summary.std_dev, digits),
        "min": _round(summary.minimum, digits),
        "max": _round(summary.maximum, digits),
    }


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)
