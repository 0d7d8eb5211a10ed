"""Real desired states from real config documents, and an in-memory AWS that applies a plan.

`applied()` is a deliberately small model of what the executor does to the account, so the
planner can be run again on its own result (a second deploy) without boto3.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from deployment.api_state import ApiState
from deployment.config import parse_config
from deployment.policies import LAMBDA
from deployment.remote import RemoteApi, RemoteState
from deployment.resources import REGISTRY as HANDLERS
from deployment.resources import (
    access_control,
    distribution,
    function,
    http_api,
    lambda_permission,
    log_group,
    web_bucket,
    web_files,
)
from deployment.resources.base import Action, Standalone
from deployment.resources.endpoint import RemoteEndpoint
from deployment.resources.endpoint_config import RemoteConfig
from deployment.resources.http_api import NewApi
from deployment.resources.placeholders import resolve
from deployment.resources.tags import ResourceTags, TagChange
from deployment.state import DesiredState, Inputs, desired_state
from tests.unit.deployment.web_builders import CREATED, applied_web, deployed_web, resolved

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
INFERENCE_IMAGE = f"{REGISTRY}/pose@sha256:" + "a" * 64
MONITORING_IMAGE = f"{REGISTRY}/pose-monitor@sha256:" + "b" * 64
ARTIFACT_SHA = "c" * 64
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
API_ID = "a1b2c3d4e5"
API_URL = f"https://{API_ID}.execute-api.us-east-1.amazonaws.com/predict"
INTEGRATION_ID = "int0001"


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
        artifacts_found=frozenset(artifact.s3_uri for artifact in state.artifacts),
        models=frozenset({state.model.name}),
        endpoint_configs=(
            RemoteConfig(state.endpoint_config.name, state.endpoint_config.model_name, created),
        ),
        found=state.standalone,
        endpoint=RemoteEndpoint(state.endpoint.name, state.endpoint_config.name, status),
        autoscaling=state.autoscaling,
        schedule=state.schedule,
        api=deployed_api(state.api),
        web=deployed_web(state.web, API_URL if state.api else None, state.tags),
    )


def api_source_arn(api_id: str) -> str:
    return f"arn:aws:execute-api:us-east-1:{ACCOUNT}:{api_id}/*/POST/predict"


def deployed_api(api: ApiState | None, api_id: str = API_ID) -> RemoteApi:
    """The API stack as a successful deploy leaves it, read back (ids assigned, no zip)."""
    if api is None:
        return RemoteApi()
    return replace(
        created_api(api, api_id),
        log_group=api.log_group,
        role=api.role,
        function=replace(api.function, zip_file=b""),
        permission=replace(api.permission, source_arn=api.names.api_source_arn(api_id)),
    )


def created_api(new: ApiState | NewApi, api_id: str = API_ID) -> RemoteApi:
    """The API and its parts as API Gateway holds them once created (ids assigned, CORS sorted)."""
    return RemoteApi(
        api=replace(
            new.api,
            cors=resolved(new.api.cors),
            api_id=api_id,
            endpoint=f"https://{api_id}.execute-api.us-east-1.amazonaws.com",
        ),
        integration=replace(new.integration, api_id=api_id, integration_id=INTEGRATION_ID),
        route=replace(new.route, api_id=api_id, integration_id=INTEGRATION_ID, route_id="route01"),
        stage=replace(new.stage, api_id=api_id),
    )


# The public side's kinds: those of the API's and the page's resource modules.
PUBLIC_MODULES = (
    log_group,
    function,
    http_api,
    lambda_permission,
    web_bucket,
    access_control,
    distribution,
    web_files,
)
PUBLIC = {handler.kind for module in PUBLIC_MODULES for handler in module.RESOURCES}


def applied(remote: RemoteState, actions: list[Action], now: datetime) -> RemoteState:
    """What the account holds after the executor ran `actions` successfully."""
    configs = {config.name: config for config in remote.endpoint_configs}
    models = set(remote.models)
    created = {**CREATED, "api.id": API_ID, "api.url": API_URL, "api.integration_id": INTEGRATION_ID}
    for action in (action for action in actions if action.mutates):
        # Placeholders filled in as the executor does, with the ids this account assigns.
        action = replace(action, target=resolve(action.target, created, action.name))
        target = action.target
        handler = HANDLERS[action.kind]
        if isinstance(handler, Standalone):  # kept by name, whatever the kind
            kept = tuple(r for r in remote.found.get(action.kind, ()) if handler.name_of(r) != action.name)
            added = (target,) if action.verb != "delete" else ()
            remote = replace(remote, found={**remote.found, action.kind: (*kept, *added)})
            continue
        if action.kind in PUBLIC or getattr(target, "service", None) == LAMBDA:
            web = applied_web(remote.web, action, remote.api.predict_url)
            remote = replace(remote, api=_applied_api(remote.api, action), web=web)
            continue
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
            case "bucket", "create":
                remote = replace(remote, bucket=target, bucket_is_ours=True)
            case "bucket-access-block" | "bucket-policy" | "bucket-encryption", "update":
                setting = action.kind.removeprefix("bucket-").replace("-", "_")
                remote = replace(remote, bucket=replace(remote.bucket, **{setting: getattr(target, setting)}))
            case "bucket-lifecycle", "update":
                remote = replace(remote, bucket=replace(remote.bucket, expiry_rules=target.rules))
            case "tags", "update":
                remote = replace(remote, tags=tuple(_retagged(found, target) for found in remote.tags))
            case "role", "create" | "update":
                remote = replace(remote, role=target)
            case "artifact", "create":
                remote = replace(remote, artifacts_found=remote.artifacts_found | {target.s3_uri})
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


def _retagged(found: ResourceTags, change: TagChange) -> ResourceTags:
    return (
        replace(found, tags=change.after) if (found.kind, found.name) == (change.kind, change.name) else found
    )


def _applied_api(api: RemoteApi, action: Action) -> RemoteApi:
    target = action.target
    match action.kind, action.verb:
        case "role", "create" | "update":
            return replace(api, role=target)
        case "log-group", "create" | "update":
            return replace(api, log_group=target)
        case "function", "create":
            return replace(api, function=replace(target, zip_file=b""), permission=None)
        case "function" | "function-code", "update":
            return replace(api, function=replace(target, zip_file=b""))
        case "http-api", "create":
            return replace(
                created_api(target),
                log_group=api.log_group,
                role=api.role,
                function=api.function,
                permission=api.permission,
            )
        case "http-api", "update":
            return replace(api, api=replace(target, cors=resolved(target.cors)))
        case "api-stage" | "lambda-permission", "update" | "create":
            field = {"api-stage": "stage", "lambda-permission": "permission"}[action.kind]
            return replace(api, **{field: target})
    if action.kind.startswith(("http-api", "function", "log-group", "role")) and action.verb == "delete":
        raise AssertionError("the in-memory account deletes the API stack only through plan_destroy")
    return api


def steps(actions: list[Action]) -> list[tuple[str, str, str]]:
    return [(action.verb, action.kind, action.name) for action in actions]


def changes(actions: list[Action]) -> list[tuple[str, str, str]]:
    return steps([action for action in actions if action.mutates])


def hours(count: int) -> timedelta:
    return timedelta(hours=count)
