"""The API's part of a plan: the Lambda and the HTTP API (the web page: web_plan.py). Pure, like planner.py.

A new API gets its integration, route, stage and invoke permission in the same action, because
they all need the id API Gateway assigns it. An existing API's parts are compared one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deployment.actions import Action, compare, differences
from deployment.api_state import (
    ApiState,
    Function,
    HttpApi,
    Integration,
    LogGroup,
    Permission,
    Route,
    Stage,
)
from deployment.roles import Role

NEW_API = "with its integration, route POST /predict and $default stage"


@dataclass(frozen=True)
class RemoteApi:
    """The API stack as found in the account; each part None when absent."""

    log_group: LogGroup | None = None
    role: Role | None = None
    function: Function | None = None
    permission: Permission | None = None
    api: HttpApi | None = None
    integration: Integration | None = None
    route: Route | None = None
    stage: Stage | None = None
    # More APIs of this deployment by the same name (a crashed or hand-made copy): removed.
    duplicates: tuple[HttpApi, ...] = ()

    @property
    def predict_url(self) -> str | None:
        return self.api.predict_url if self.api else None


def function_role(desired: ApiState | None, remote: RemoteApi) -> list[Action]:
    """Early in the plan, so IAM has propagated the role by the time Lambda must assume it."""
    return [compare("role", desired.role.name, desired.role, remote.role)] if desired else []


def api_actions(desired: ApiState | None, remote: RemoteApi) -> list[Action]:
    if desired is None:
        return [replace(action, reason="api.enabled is false") for action in destroy_api(remote)]
    actions = [
        compare("log-group", desired.log_group.name, desired.log_group, remote.log_group),
        *_function(desired.function, remote.function),
    ]
    actions += _duplicates(remote, "a second API of this deployment")
    if remote.api is None:
        # The function's invoke permission still names the old API (deleted by hand): it follows.
        verb = "update" if remote.permission else "create"
        permission = Action(
            verb,
            "lambda-permission",
            _permission_name(desired),
            "for the API created above",
            desired.permission,
        )
        return [*actions, Action("create", "http-api", desired.api.name, NEW_API, desired), permission]
    api_id = remote.api.api_id
    integration_id = remote.integration.integration_id if remote.integration else ""
    integration = replace(desired.integration, api_id=api_id, integration_id=integration_id)
    permission = replace(desired.permission, source_arn=desired.names.api_source_arn(api_id))
    return [
        *actions,
        compare("http-api", desired.api.name, replace(desired.api, api_id=api_id), remote.api),
        compare("api-integration", f"{desired.api.name} integration", integration, remote.integration),
        _route(replace(desired.route, api_id=api_id, integration_id=integration_id), remote.route, desired),
        compare(
            "api-stage",
            f"{desired.api.name} stage {desired.stage.name}",
            replace(desired.stage, api_id=api_id),
            remote.stage,
        ),
        compare("lambda-permission", _permission_name(desired), permission, remote.permission),
    ]


def destroy_api(remote: RemoteApi) -> list[Action]:
    """The API first (its integration, route and stage go with it), then what it calls."""
    actions = []
    if remote.api:
        actions.append(Action("delete", "http-api", remote.api.name, target=remote.api))
    actions += _duplicates(remote, "")
    if remote.function:
        actions.append(Action("delete", "function", remote.function.name, target=remote.function))
    if remote.log_group:
        actions.append(Action("delete", "log-group", remote.log_group.name, target=remote.log_group))
    if remote.role:
        actions.append(Action("delete", "role", remote.role.name, target=remote.role))
    return actions


def _duplicates(remote: RemoteApi, reason: str) -> list[Action]:
    # Named by id: the one kept has the same name.
    return [
        Action("delete", "http-api", f"{api.name} {api.api_id}", reason, api) for api in remote.duplicates
    ]


def _permission_name(desired: ApiState) -> str:
    return f"{desired.function.name} {desired.permission.statement_id}"


def _function(desired: Function, remote: Function | None) -> list[Action]:
    """New code and new settings are separate Lambda calls: an unchanged part is not sent."""
    if remote is None:
        return [Action("create", "function", desired.name, target=desired)]
    actions = []
    if remote.code_sha256 != desired.code_sha256:
        reason = f"CodeSha256 {remote.code_sha256} -> {desired.code_sha256}"
        actions.append(Action("update", "function-code", desired.name, reason, desired))
    settings = replace(remote, code_sha256=desired.code_sha256)
    if settings != desired:
        actions.append(Action("update", "function", desired.name, differences(desired, settings), desired))
    return actions or [Action("unchanged", "function", desired.name)]


def _route(desired: Route, remote: Route | None, api: ApiState) -> Action:
    name = f"{api.api.name} route {desired.route_key}"
    if remote is not None and remote.integration_id != desired.integration_id:
        # "" when the integration is created in this run: its id is read back then.
        wanted = replace(desired, route_id=remote.route_id)
        return Action("update", "api-route", name, "it targets another integration", wanted)
    return compare("api-route", name, desired, remote)
