"""Carry out a plan's actions against AWS, waiting where SageMaker works asynchronously.

An endpoint change is a success only when the endpoint is InService **and** on the config we
asked for: after a rolled-back update SageMaker reports InService on the old config.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from deployment.aws import Aws
from deployment.aws.errors import error_code
from deployment.errors import DeploymentError
from deployment.planner import Action
from deployment.public_steps import PUBLIC_KINDS, PublicSteps
from deployment.state import Autoscaling, Endpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Clock:
    """Injected so tests can fake a 20-minute endpoint creation without sleeping."""

    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], float] = time.monotonic


@dataclass(frozen=True)
class WaitPolicy:
    poll_seconds: float = 30.0
    endpoint_timeout_seconds: float = 3600.0
    role_propagation_attempts: int = 12  # a new IAM role takes seconds to be assumable
    function_poll_seconds: float = 2.0
    function_timeout_seconds: float = 300.0
    distribution_poll_seconds: float = 20.0
    distribution_timeout_seconds: float = 2700.0  # CloudFront deploys in minutes, rarely past half an hour


def _registered_again(deregistration: Action, rest: list[Action]) -> bool:
    return any(a.kind == "autoscaling" and a.verb == "create" and a.name == deregistration.name for a in rest)


@dataclass
class Executor(PublicSteps):
    aws: Aws
    tags: tuple[tuple[str, str], ...]
    report: Callable[[str], None] = print
    clock: Clock = field(default_factory=Clock)
    waits: WaitPolicy = field(default_factory=WaitPolicy)
    assigned: dict[str, str] = field(default_factory=dict, init=False)  # ids AWS assigned in this run

    def run(self, actions: list[Action]) -> None:
        paused: list[Autoscaling] = []  # deregistered for an endpoint update, registered again after
        for position, action in enumerate(actions):
            if not action.mutates:
                continue
            self.report(f"{action.verb:<9} {action.kind} {action.name}")
            try:
                self._apply(action)
            except ClientError as error:  # one line naming the step, not a traceback
                message = error.response.get("Error", {}).get("Message", "")
                self._resume(paused)
                raise DeploymentError(
                    f"{error.operation_name} failed ({error_code(error)}): {message}",
                    where=f"{action.kind} {action.name}",
                ) from error
            except DeploymentError:
                self._resume(paused)
                raise
            if (action.kind, action.verb) == ("autoscaling", "delete") and _registered_again(
                action, actions[position:]
            ):
                paused.append(action.target)

    def _resume(self, paused: list[Autoscaling]) -> None:
        """A failed or rolled-back update leaves the endpoint on its old config: give it back the
        autoscaling it had, rather than leaving it at a fixed size until the next deploy."""
        for scaling in paused:
            self.report(f"restoring autoscaling {scaling.resource_id}")
            self.aws.scaling.put(scaling, self.tags)

    def _apply(self, action: Action) -> None:
        """One flat table: every AWS call spelled out, so a reader can grep for it."""
        if action.kind in PUBLIC_KINDS:
            self.apply_public(action)
            return
        aws, target = self.aws, action.target
        match action.kind, action.verb:
            case "bucket", "create":
                aws.storage.create_bucket(target, self.tags)
            case "bucket-access-block", "update":
                aws.storage.put_access_block(target)
            case "bucket-policy", "update":
                aws.storage.put_policy(target)
            case "bucket-encryption", "update":
                aws.storage.put_encryption(target)
            case "bucket-lifecycle", "update":
                aws.storage.put_stage_rules(target)
            case "tags", "update":
                aws.tagging.change(target)
            case "bucket", "delete":
                aws.storage.delete_bucket(action.name)
            case "bucket-folder", "delete":
                bucket, _, prefix = action.name.removeprefix("s3://").partition("/")
                aws.storage.delete_folder(bucket, prefix)
            case "role", "create":
                aws.identity.create_role(target, self.tags)
            case "role", "update":
                aws.identity.put_policy(target)
            case "role", "delete":
                aws.identity.delete_role(action.name)
            case "artifact", "create":
                aws.storage.upload_artifact(target)
            case "model", "create":
                self._retry_while_role_propagates(lambda: aws.sagemaker.create_model(target, self.tags))
            case "model", "delete":
                aws.sagemaker.delete_model(action.name)
            case "endpoint-config", "create":
                aws.sagemaker.create_endpoint_config(target, self.tags)
            case "endpoint-config", "delete":
                aws.sagemaker.delete_endpoint_config(action.name)
            case "alarm", "create" | "update":
                aws.alarms.put(target, self.tags)
            case "alarm", "delete":
                aws.alarms.delete([action.name])
            case "endpoint", "create":
                aws.sagemaker.create_endpoint(target, self.tags)
                self.wait_for_endpoint(target)
            case "endpoint", "update":
                aws.sagemaker.update_endpoint(target)
                # Blue/green traffic shifting may run until its MaximumExecutionTimeout plus termination wait.
                longest = (
                    target.deployment.max_execution_timeout_seconds
                    + target.deployment.termination_wait_seconds
                )
                self.wait_for_endpoint(target, max(longest, self.waits.endpoint_timeout_seconds))
            case "endpoint", "delete":
                aws.sagemaker.delete_endpoint(action.name)
                self.wait_until_deleted(action.name)
            case "autoscaling", "create" | "update":
                aws.scaling.put(target, self.tags)
            case "autoscaling", "delete":
                aws.scaling.delete(target)
            case "monitoring-schedule", "create":
                aws.sagemaker.create_schedule(target, self.tags)
            case "monitoring-schedule", "update":
                aws.sagemaker.update_schedule(target)
            case "monitoring-schedule", "delete":
                aws.sagemaker.delete_schedule(
                    action.name, endpoint_name=getattr(target, "endpoint_name", None)
                )
                self._wait_until_schedule_deleted(action.name)
            case _:
                raise DeploymentError(f"no way to {action.verb} a {action.kind}", where=action.name)

    def wait_for_endpoint(self, endpoint: Endpoint, timeout_seconds: float | None = None) -> None:
        started = self.clock.now()
        while True:
            current = self.aws.sagemaker.describe_endpoint(endpoint.name)
            elapsed = self.clock.now() - started
            status = current.status if current else "missing"
            self.report(f"  endpoint {endpoint.name}: {status} ({elapsed:.0f}s)")
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
            self._pause(elapsed, f"endpoint {endpoint.name}", timeout_seconds)

    def wait_until_deleted(self, name: str) -> None:
        started = self.clock.now()
        while (current := self.aws.sagemaker.describe_endpoint(name)) is not None:
            elapsed = self.clock.now() - started
            self.report(f"  endpoint {name}: {current.status} ({elapsed:.0f}s)")
            self._pause(elapsed, f"deletion of endpoint {name}")

    def _wait_until_schedule_deleted(self, name: str) -> None:
        started = self.clock.now()
        while self.aws.sagemaker.schedule_status(name) is not None:
            self._pause(self.clock.now() - started, f"deletion of monitoring schedule {name}")

    def _pause(
        self,
        elapsed: float,
        what: str,
        timeout_seconds: float | None = None,
        poll_seconds: float | None = None,
    ) -> None:
        if elapsed >= (timeout_seconds or self.waits.endpoint_timeout_seconds):
            raise DeploymentError(f"gave up waiting after {elapsed:.0f}s", where=what)
        self.clock.sleep(poll_seconds or self.waits.poll_seconds)

    def _retry_while_role_propagates(self, create: Callable[[], None]) -> None:
        for attempt in range(self.waits.role_propagation_attempts):
            try:
                create()
                return
            except ClientError as error:
                message = error.response.get("Error", {}).get("Message", "")
                last = attempt == self.waits.role_propagation_attempts - 1
                # SageMaker says ValidationException, Lambda InvalidParameterValueException.
                propagating = error_code(error) in {"ValidationException", "InvalidParameterValueException"}
                if not propagating or "assume" not in message.lower() or last:
                    raise
                log.info("the new role is not assumable yet; retrying")
                self.clock.sleep(5)
