"""Real desired states from real config documents, and an in-memory AWS that applies a plan.

`applied()` is a deliberately small model of what the executor does to the account, so the
planner can be run again on its own result (a second deploy) without boto3.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from deployment.config import parse_config
from deployment.planner import Action, RemoteConfig, RemoteEndpoint, RemoteState
from deployment.state import DesiredState, Inputs, desired_state

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
INFERENCE_IMAGE = f"{REGISTRY}/pose@sha256:" + "a" * 64
MONITORING_IMAGE = f"{REGISTRY}/pose-monitor@sha256:" + "b" * 64
ARTIFACT_SHA = "c" * 64
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def inputs(inference_image: str = INFERENCE_IMAGE, artifact_sha: str = ARTIFACT_SHA) -> Inputs:
    return Inputs(inference_image, MONITORING_IMAGE, "/nonexistent/model.tar.gz", artifact_sha)


def desired(document: dict | None = None, **input_changes: str) -> DesiredState:
    return desired_state(parse_config(document or {}), inputs(**input_changes), ACCOUNT)


def deployed(state: DesiredState, created: datetime = EPOCH, status: str = "InService") -> RemoteState:
    """The account exactly as a successful deploy of `state` leaves it."""
    return RemoteState(
        bucket=state.bucket,
        bucket_is_ours=True,
        role=state.role,
        artifact_exists=True,
        models=frozenset({state.model.name}),
        endpoint_configs=(
            RemoteConfig(state.endpoint_config.name, state.endpoint_config.model_name, created),
        ),
        alarms=state.alarms,
        endpoint=RemoteEndpoint(state.endpoint.name, state.endpoint_config.name, status),
        autoscaling=state.autoscaling,
        schedule=state.schedule,
    )


def applied(remote: RemoteState, actions: list[Action], now: datetime) -> RemoteState:
    """What the account holds after the executor ran `actions` successfully."""
    configs = {config.name: config for config in remote.endpoint_configs}
    models = set(remote.models)
    for action in (action for action in actions if action.mutates):
        target = action.target
        match action.kind, action.verb:
            case "model", "create":
                models.add(action.name)
            case "model", "delete":
                models.remove(action.name)
            case "endpoint-config", "create":
                configs[action.name] = RemoteConfig(action.name, target.model_name, now)
            case "endpoint-config", "delete":
                del configs[action.name]
            case "endpoint", "create" | "update":
                remote = replace(
                    remote, endpoint=RemoteEndpoint(target.name, target.config_name, "InService")
                )
            case "endpoint", "delete":
                remote = replace(remote, endpoint=None)
            case "bucket", "create" | "update":
                remote = replace(remote, bucket=target, bucket_is_ours=True)
            case "role", "create" | "update":
                remote = replace(remote, role=target)
            case "artifact", "create":
                remote = replace(remote, artifact_exists=True)
            case "alarm", "create" | "update":
                others = tuple(alarm for alarm in remote.alarms if alarm.name != action.name)
                remote = replace(remote, alarms=(*others, target))
            case "autoscaling", "create" | "update":
                remote = replace(remote, autoscaling=target)
            case "autoscaling", "delete":
                remote = replace(remote, autoscaling=None)
            case "monitoring-schedule", "create" | "update":
                remote = replace(remote, schedule=target)
            case "monitoring-schedule", "delete":
                remote = replace(remote, schedule=None)
            case _:
                raise AssertionError(f"the in-memory account cannot {action.verb} a {action.kind}")
    return replace(remote, models=frozenset(models), endpoint_configs=tuple(configs.values()))


def hours(count: int) -> timedelta:
    return timedelta(hours=count)
