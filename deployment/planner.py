"""Compare desired with remote state and list the actions that make AWS match: pure, no boto3.

`plan` and `deploy` share everything up to the executor, so what `plan` prints is exactly
what `deploy` does. The actions are ordered: dependencies first, clean-up last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deployment.actions import Action, compare, exists
from deployment.api_plan import RemoteApi, api_actions, destroy_api, function_role
from deployment.bucket_plan import bucket_actions, destroy_bucket
from deployment.errors import DeploymentError
from deployment.naming import MONITORED_BY_TAG, Names
from deployment.state import Alarm, Autoscaling, Bucket, DesiredState, Role, Schedule
from deployment.tags import ResourceTags, plan_tags
from deployment.web_plan import RemoteWeb, destroy_web, web_plan, with_page_origin

# Endpoint states in which SageMaker refuses changes until the current operation ends.
BUSY_STATES = frozenset(
    {"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting", "UpdateRollbackFailed"}
)


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


@dataclass(frozen=True)
class RemoteConfig:
    name: str
    model_name: str
    created: datetime


@dataclass(frozen=True)
class RemoteState:
    """What exists in the account for this deployment, read back into the desired-state types."""

    bucket: Bucket | None = None
    bucket_is_ours: bool = False  # tagged by this deployment, or named by it (so destroy may delete it)
    bucket_shared: bool = False  # holds other stages' folders or rules (read by destroy only)
    role: Role | None = None
    artifact_exists: bool = False
    models: frozenset[str] = frozenset()
    endpoint_configs: tuple[RemoteConfig, ...] = ()
    alarms: tuple[Alarm, ...] = ()
    endpoint: RemoteEndpoint | None = None
    autoscaling: Autoscaling | None = None
    schedule: Schedule | None = None
    # A `monitor --now` schedule left behind by a run that crashed (read by destroy only).
    one_off_schedule: str | None = None
    api: RemoteApi = field(default_factory=RemoteApi)
    web: RemoteWeb = field(default_factory=RemoteWeb)
    # The tags on each resource of this deployment found above (the web page's are in `web`).
    tags: tuple[ResourceTags, ...] = ()


def plan(desired: DesiredState, remote: RemoteState) -> list[Action]:
    endpoint_actions = _endpoint(desired, remote)
    updating = any(action.kind == "endpoint" and action.mutates for action in endpoint_actions)
    # The API's CORS allows the page's CloudFront origin; the page carries the API's URL. Each is
    # known once the other exists, so the distribution comes first and the page after the API.
    public = api_actions(with_page_origin(desired.api, remote.web), remote.api)
    new_api = any(action.kind == "http-api" and action.verb == "create" for action in public)
    web = web_plan(desired.web, remote.web, desired.tags, None if new_api else remote.api.predict_url)
    actions = [
        *bucket_actions(desired.bucket, remote.bucket, remote.bucket_is_ours),
        *([compare("role", desired.role.name, desired.role, remote.role)] if desired.role else []),
        *function_role(desired.api, remote.api),
        exists("artifact", desired.artifact.s3_uri, desired.artifact, remote.artifact_exists),
        exists("model", desired.model.name, desired.model, desired.model.name in remote.models),
        exists(
            "endpoint-config",
            desired.endpoint_config.name,
            desired.endpoint_config,
            any(config.name == desired.endpoint_config.name for config in remote.endpoint_configs),
        ),
        *_alarms(desired.alarms, remote.alarms),
        *_autoscaling_before_update(remote, updating),
        *endpoint_actions,
        *_autoscaling(desired, remote, updating),
        *_schedule(desired, remote),
        *web.edge,
        *public,
        *web.content,
        *_clean_up(desired, remote),
        *_abandoned_role(desired, remote),
        *web.finish,
    ]
    monitored = {("endpoint", desired.endpoint.name): ((MONITORED_BY_TAG, desired.endpoint.monitored_by),)}
    extra = monitored if desired.endpoint.monitored_by else {}
    return [*actions, *plan_tags(remote.tags, desired.tags, extra, actions)]


def plan_destroy(names: Names, remote: RemoteState) -> list[Action]:
    """Everything this deployment created, in an order AWS accepts: what calls a thing goes first
    (the page's distribution and bucket, then the API, its Lambda, the schedule, the endpoint...)."""
    actions = [*destroy_web(remote.web), *destroy_api(remote.api)]
    if remote.one_off_schedule:
        actions.append(
            Action("delete", "monitoring-schedule", remote.one_off_schedule, "left by monitor --now")
        )
    if remote.schedule:
        actions.append(Action("delete", "monitoring-schedule", remote.schedule.name, target=remote.schedule))
    if remote.autoscaling:
        actions.append(
            Action("delete", "autoscaling", remote.autoscaling.resource_id, target=remote.autoscaling)
        )
    if remote.endpoint:
        actions.append(Action("delete", "endpoint", remote.endpoint.name, target=remote.endpoint))
    actions += [Action("delete", "endpoint-config", config.name) for config in remote.endpoint_configs]
    actions += [Action("delete", "model", name) for name in sorted(remote.models)]
    actions += [Action("delete", "alarm", alarm.name) for alarm in remote.alarms]
    if remote.role:
        actions.append(Action("delete", "role", remote.role.name, target=remote.role))
    return actions + destroy_bucket(names.prefix, remote.bucket, remote.bucket_is_ours, remote.bucket_shared)


def _alarms(desired: tuple[Alarm, ...], remote: tuple[Alarm, ...]) -> list[Action]:
    existing = {alarm.name: alarm for alarm in remote}
    return [compare("alarm", alarm.name, alarm, existing.get(alarm.name)) for alarm in desired]


def _endpoint(desired: DesiredState, remote: RemoteState) -> list[Action]:
    wanted, current = desired.endpoint, remote.endpoint
    if current is None:
        return [Action("create", "endpoint", wanted.name, target=wanted)]
    if current.status in BUSY_STATES:
        raise DeploymentError(
            f"the endpoint is {current.status}; SageMaker accepts no change until that ends",
            where=wanted.name,
            hint="wait for it (python -m deployment status) and deploy again",
        )
    if current.status == "Failed":
        reason = f"it is Failed ({current.failure_reason or 'no reason given'}); recreate it"
        return [
            Action("delete", "endpoint", wanted.name, reason, current),
            Action("create", "endpoint", wanted.name, target=wanted),
        ]
    if current.config_name != wanted.config_name:
        reason = f"{current.config_name} -> {wanted.config_name} ({wanted.deployment.strategy})"
        return [Action("update", "endpoint", wanted.name, reason, wanted)]
    return [Action("unchanged", "endpoint", wanted.name)]


def _autoscaling_before_update(remote: RemoteState, updating: bool) -> list[Action]:
    # SageMaker refuses to update an endpoint whose variant is a registered scalable target.
    if updating and remote.autoscaling:
        reason = "deregistered during the endpoint update, registered again after"
        return [Action("delete", "autoscaling", remote.autoscaling.resource_id, reason, remote.autoscaling)]
    return []


def _autoscaling(desired: DesiredState, remote: RemoteState, updating: bool) -> list[Action]:
    wanted, current = desired.autoscaling, remote.autoscaling
    if updating and current:
        current = None  # deregistered above
    if wanted is None:
        if current is None:
            return []
        return [Action("delete", "autoscaling", current.resource_id, "autoscaling.enabled is false", current)]
    return [compare("autoscaling", wanted.resource_id, wanted, current)]


def _schedule(desired: DesiredState, remote: RemoteState) -> list[Action]:
    if desired.schedule is None:
        if remote.schedule is None:
            return []
        reason = "monitoring.enabled is false"
        return [Action("delete", "monitoring-schedule", remote.schedule.name, reason, remote.schedule)]
    return [compare("monitoring-schedule", desired.schedule.name, desired.schedule, remote.schedule)]


def _abandoned_role(desired: DesiredState, remote: RemoteState) -> list[Action]:
    """The engine's execution role, once config.iam names an existing role instead (last: kept
    rollback configs' models may still name it until they are cleaned up)."""
    if desired.role is None and remote.role is not None:
        return [
            Action(
                "delete", "role", remote.role.name, "iam.execution_role_arn names another role", remote.role
            )
        ]
    return []


def _clean_up(desired: DesiredState, remote: RemoteState) -> list[Action]:
    """Old endpoint configs beyond the newest `keep_previous`, and models no kept config uses.

    The config the endpoint is leaving counts as a previous one (it is kept, never deleted while in
    use), so the plan right after a deploy has nothing left to clean up.
    """
    in_use = remote.endpoint.config_name if remote.endpoint else None
    previous = sorted(
        (config for config in remote.endpoint_configs if config.name != desired.endpoint_config.name),
        key=lambda config: config.created,
        reverse=True,
    )
    dropped = [config for config in previous[desired.keep_previous :] if config.name != in_use]
    models_in_use = {desired.model.name} | {c.model_name for c in remote.endpoint_configs if c not in dropped}
    reason = f"older than the {desired.keep_previous} kept for rollback"
    actions = [Action("delete", "endpoint-config", config.name, reason) for config in dropped]
    actions += [
        Action("delete", "model", name, "no kept endpoint config uses it")
        for name in sorted(remote.models - models_in_use)
    ]
    return actions
