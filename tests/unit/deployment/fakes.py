"""A clock for waits: tests fake hours of AWS work without sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.executor import Clock


@dataclass
class FakeClock:
    """Time moves only when the code under test sleeps."""

    time: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.time += seconds

    def now(self) -> float:
        return self.time

    def clock(self) -> Clock:
        return Clock(sleep=self.sleep, now=self.now)
