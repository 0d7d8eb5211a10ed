"""A clock for waits, and a scripted AWS: tests fake hours of AWS work without sleeping."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import get_type_hints

from botocore.exceptions import ClientError

from deployment.aws import Aws
from deployment.aws.functions import FunctionStatus
from deployment.executor import Clock, Executor, WaitPolicy
from deployment.resources.base import Run
from deployment.resources.distribution import Distribution
from deployment.resources.endpoint import RemoteEndpoint as Seen
from tests.unit.deployment.builders import API_ID
from tests.unit.deployment.web_builders import ACCESS_CONTROL_ID, DISTRIBUTION_ARN, DISTRIBUTION_ID, DOMAIN

ACTIVE = FunctionStatus("Active", "Successful", "")


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


# The real wrapper class behind each attribute of `Aws`: a fake method must be one of its methods.
REAL_SERVICES: dict[str, type] = get_type_hints(Aws)


def real_method(service: str, method: str) -> str:
    """`method`, if the real `service` wrapper has it; a misspelled name fails the test at once."""
    real = REAL_SERVICES[service]
    if method.startswith("_") or not callable(getattr(real, method, None)):
        raise AttributeError(f"{real.__name__} has no method {method!r}")
    return method


class Calls:
    """Records every call made on it; `answers` scripts what a method returns (or raises)."""

    def __init__(self, log: list, service: str, **answers) -> None:
        for method in answers:
            real_method(service, method)
        self._log, self._service, self._answers = log, service, answers

    def __getattr__(self, method: str):
        real_method(self._service, method)

        def call(*args, **kwargs):
            self._log.append((self._service, method, args))
            answer = self._answers.get(method)
            return answer(*args, **kwargs) if answer else None

        return call


@dataclass
class FakeAws:
    clock: FakeClock
    endpoint_timeline: list[tuple[float, Seen | None]] = field(default_factory=list)
    schedule_timeline: list[tuple[float, str | None]] = field(default_factory=list)
    calls: list = field(default_factory=list)
    model_errors: list[ClientError] = field(default_factory=list)
    # What the endpoint goes through once CreateEndpoint is called: (seconds after the call, state).
    on_create: list[tuple[float, Seen]] = field(default_factory=list)
    function_timeline: list[tuple[float, FunctionStatus]] = field(default_factory=lambda: [(0, ACTIVE)])
    function_errors: list[ClientError] = field(default_factory=list)
    # CloudFront's answers to GetDistribution: (seconds after the start, state); by default at once.
    distribution_timeline: list[tuple[float, Distribution | None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.sagemaker = Calls(
            self.calls,
            "sagemaker",
            describe_endpoint=lambda name: self._at(self.endpoint_timeline),
            schedule_status=lambda name: self._at(self.schedule_timeline),
            create_model=self._create_model,
            create_endpoint=self._create_endpoint,
        )
        self.functions = Calls(
            self.calls,
            "functions",
            status=lambda name: self._at(self.function_timeline),
            create=self._create_function,
        )
        self.http_api = Calls(
            self.calls, "http_api", create=self._create_api, create_integration=lambda i: "int9"
        )
        self.cdn = Calls(
            self.calls,
            "cdn",
            create=lambda distribution, tags: self._deploying(distribution),
            update=self._deploying,
            disable=lambda distribution_id: self._deploying(
                replace(self._at(self.distribution_timeline), enabled=False)
            ),
            read=lambda distribution_id: self._at(self.distribution_timeline),
            create_access_control=lambda control: ACCESS_CONTROL_ID,
            invalidate=lambda distribution_id, paths, reference: "I2J0I21PCUYOIK",
            invalidation_status=lambda distribution_id, invalidation_id: "Completed",
        )
        for service in (
            "storage",
            "identity",
            "alarms",
            "scaling",
            "website",
            "notifications",
            "keys",
            "dashboards",
        ):
            setattr(self, service, Calls(self.calls, service))

    def _at(self, timeline: list):
        """The last state whose start time has passed."""
        return [state for start, state in timeline if start <= self.clock.now()][-1]

    def _create_model(self, model, tags):
        if self.model_errors:
            raise self.model_errors.pop(0)

    def _create_endpoint(self, endpoint, tags):
        if self.on_create:
            self.endpoint_timeline = [(self.clock.now() + delay, state) for delay, state in self.on_create]

    def _create_function(self, function, tags):
        if self.function_errors:
            raise self.function_errors.pop(0)

    def _deploying(self, distribution: Distribution) -> Distribution:
        """As CloudFront answers a create or update: ids assigned, InProgress, Deployed when read."""
        assigned = replace(
            distribution,
            distribution_id=DISTRIBUTION_ID,
            arn=DISTRIBUTION_ARN,
            domain_name=DOMAIN,
            status="InProgress",
            etag="E1",
        )
        if not self.distribution_timeline or self.distribution_timeline[-1][1] is None:
            self.distribution_timeline = [(self.clock.now(), replace(assigned, status="Deployed", etag="E2"))]
        return assigned

    def _create_api(self, state, tags):
        return replace(
            state.api, api_id=API_ID, endpoint=f"https://{API_ID}.execute-api.us-east-1.amazonaws.com"
        )

    def made(self) -> list[tuple[str, str]]:
        reads = {"describe_endpoint", "schedule_status", "status", "read", "invalidation_status"}
        return [(service, method) for service, method, _ in self.calls if method not in reads]


def run(aws: FakeAws, lines: list[str], **waits) -> Run:
    """What a handler works with, on the fake AWS and clock."""
    return Run(aws, (("pose:deployment", "pose-dev"),), lines.append, aws.clock.clock(), WaitPolicy(**waits))


def executor(aws: FakeAws, lines: list[str], **waits) -> Executor:
    return Executor(
        aws, (("pose:deployment", "pose-dev"),), lines.append, aws.clock.clock(), WaitPolicy(**waits)
    )
