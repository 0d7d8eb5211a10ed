"""The endpoint: created once, then moved to each new endpoint config by a blue/green update.

An endpoint change is a success only when the endpoint is InService **and** on the config we
asked for: after a rolled-back update SageMaker reports InService on the old config.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.errors import DeploymentError
from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb
from deployment.resources.model import sagemaker_arn

# Endpoint states in which SageMaker refuses changes until the current operation ends.
BUSY_STATES = frozenset(
    {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed"}
)


@dataclass(frozen=True)
class Deployment:
    """UpdateEndpoint's DeploymentConfig: blue/green traffic shifting with auto-rollback."""

    strategy: str  # all_at_once | canary | linear
    step_percent: int
    wait_seconds: int
    termination_wait_seconds: int
    max_execution_timeout_seconds: int
    alarm_names: tuple[str, ...]


@dataclass(frozen=True)
class Endpoint:
    name: str
    config_name: str
    deployment: Deployment = field(compare=False)
    # The monitoring schedule watching it, kept in its `pose:monitoring-schedule` tag (destroy finds
    # the schedule by it even after monitoring was switched off).
    monitored_by: str | None = field(default=None, compare=False)


@dataclass(frozen=True)
class RemoteEndpoint:
    name: str
    config_name: str
    status: str
    failure_reason: str | None = None
    arn: str = ""
    # The endpoint's tag naming its monitoring schedule, so a schedule is found (and deleted) even
    # after monitoring was disabled in config.yml, without listing every schedule in the account.
    monitored_by: str | None = None


def deployment_config(endpoint: Endpoint) -> dict:
    """UpdateEndpoint's DeploymentConfig (also what the approval Lambda updates the endpoint with)."""
    deployment = endpoint.deployment
    routing = {"Type": deployment.strategy.upper(), "WaitIntervalInSeconds": deployment.wait_seconds}
    step = {"Type": "CAPACITY_PERCENT", "Value": deployment.step_percent}
    if deployment.strategy == "canary":
        routing["CanarySize"] = step
    elif deployment.strategy == "linear":
        routing["LinearStepSize"] = step
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": routing,
            "TerminationWaitInSeconds": deployment.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": deployment.max_execution_timeout_seconds,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in deployment.alarm_names]},
    }


def endpoint_actions(wanted: Endpoint, current: RemoteEndpoint | None) -> list[Action]:
    if current is None:
        return [Action(Verb.CREATE, Kind.ENDPOINT, wanted.name, target=wanted)]
    if current.status in BUSY_STATES:
        raise DeploymentError(
            f"the endpoint is {current.status}; SageMaker accepts no change until that ends",
            where=wanted.name,
            hint="wait for it (python -m deployment status) and deploy again",
        )
    if current.status == "Failed":
        reason = f"it is Failed ({current.failure_reason or 'no reason given'}); recreate it"
        return [
            Action(Verb.DELETE, Kind.ENDPOINT, wanted.name, reason, current),
            Action(Verb.CREATE, Kind.ENDPOINT, wanted.name, target=wanted),
        ]
    if current.config_name != wanted.config_name:
        reason = f"{current.config_name} -> {wanted.config_name} ({wanted.deployment.strategy})"
        return [Action(Verb.UPDATE, Kind.ENDPOINT, wanted.name, reason, wanted)]
    return [Action(Verb.UNCHANGED, Kind.ENDPOINT, wanted.name)]


class EndpointResource(Resource):
    kind = Kind.ENDPOINT
    tag_service = TagService.SAGEMAKER

    def create(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.create_endpoint(action.target, run.tags)
        wait_for_endpoint(run, action.target)

    def update(self, run: Run, action: Action) -> None:
        target: Endpoint = action.target
        run.aws.sagemaker.update_endpoint(target)
        # Blue/green traffic shifting may run until its MaximumExecutionTimeout plus termination wait.
        longest = target.deployment.max_execution_timeout_seconds + target.deployment.termination_wait_seconds
        wait_for_endpoint(run, target, max(longest, run.waits.endpoint_timeout_seconds))

    def delete(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.delete_endpoint(action.name)
        wait_until_deleted(run, action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return sagemaker_arn(region, account_id, self.kind, name)


def wait_for_endpoint(run: Run, endpoint: Endpoint, timeout_seconds: float | None = None) -> None:
    started = run.clock.now()
    while True:
        current = run.aws.sagemaker.describe_endpoint(endpoint.name)
        elapsed = run.clock.now() - started
        status = current.status if current else "missing"
        run.report(f"  endpoint {endpoint.name}: {status} ({elapsed:.0f}s)")
        if current and current.status == "InService":
            if current.config_name != endpoint.config_name:
                raise DeploymentError(
                    f"the update was rolled back: the endpoint is InService on {current.config_name}, "
                    f"not {endpoint.config_name}",
                    where=endpoint.name,
                    hint="check the rollback alarms and the new model's CloudWatch logs",
                )
            return
        if current is None or current.status in {"Failed", "UpdateRollbackFailed", "OutOfService"}:
            reason = (current.failure_reason if current else None) or "no reason given"
            raise DeploymentError(
                f"the endpoint is {status}: {reason}",
                where=endpoint.name,
                hint="see /aws/sagemaker/Endpoints/" + endpoint.name + " in CloudWatch Logs",
            )
        run.pause(elapsed, f"endpoint {endpoint.name}", timeout_seconds)


def wait_until_deleted(run: Run, name: str) -> None:
    started = run.clock.now()
    while (current := run.aws.sagemaker.describe_endpoint(name)) is not None:
        elapsed = run.clock.now() - started
        run.report(f"  endpoint {name}: {current.status} ({elapsed:.0f}s)")
        run.pause(elapsed, f"deletion of endpoint {name}")


RESOURCES = (EndpointResource(),)
