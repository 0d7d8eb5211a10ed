"""The API's part of a plan: the Lambda and the HTTP API (the web page: web_plan.py). Pure.

A new API gets its integration, route, stage and invoke permission in the same run, because they
all need the id API Gateway assigns it: they hold placeholders the executor fills in. An existing
API's parts are compared one by one.
"""

from __future__ import annotations

from dataclasses import replace

from deployment.api_state import ApiState
from deployment.remote import RemoteApi
from deployment.resources.base import Action, Kind, Verb, compare
from deployment.resources.function import function_actions
from deployment.resources.http_api import INTEGRATION_ID, NEW_API, NewApi, route_action


def function_role(desired: ApiState | None, remote: RemoteApi) -> list[Action]:
    """Early in the plan, so IAM has propagated the role by the time Lambda must assume it."""
    return [compare(Kind.ROLE, desired.role.name, desired.role, remote.role)] if desired else []


def api_actions(desired: ApiState | None, remote: RemoteApi) -> list[Action]:
    if desired is None:
        return [replace(action, reason="api.enabled is false") for action in destroy_api(remote)]
    actions = [
        compare(Kind.LOG_GROUP, desired.log_group.name, desired.log_group, remote.log_group),
        *function_actions(desired.function, remote.function),
    ]
    actions += _duplicates(remote, "a second API of this deployment")
    if remote.api is None:
        # The function's invoke permission still names the old API (deleted by hand): it follows.
        verb = Verb.UPDATE if remote.permission else Verb.CREATE
        permission = Action(
            verb,
            Kind.LAMBDA_PERMISSION,
            _permission_name(desired),
            "for the API created above",
            desired.permission,
        )
        new = NewApi(desired.api, desired.integration, desired.route, desired.stage)
        return [*actions, Action(Verb.CREATE, Kind.HTTP_API, desired.api.name, NEW_API, new), permission]
    api_id = remote.api.api_id
    found_integration = remote.integration.integration_id if remote.integration else ""
    integration = replace(desired.integration, api_id=api_id, integration_id=found_integration)
    # A route whose integration is created in this run targets it by the id that records.
    route = replace(desired.route, api_id=api_id, integration_id=found_integration or INTEGRATION_ID)
    permission = replace(desired.permission, source_arn=desired.names.api_source_arn(api_id))
    return [
        *actions,
        compare(Kind.HTTP_API, desired.api.name, replace(desired.api, api_id=api_id), remote.api),
        compare(Kind.API_INTEGRATION, f"{desired.api.name} integration", integration, remote.integration),
        route_action(route, remote.route, f"{desired.api.name} route {desired.route.route_key}"),
        compare(
            Kind.API_STAGE,
            f"{desired.api.name} stage {desired.stage.name}",
            replace(desired.stage, api_id=api_id),
            remote.stage,
        ),
        compare(Kind.LAMBDA_PERMISSION, _permission_name(desired), permission, remote.permission),
    ]


def destroy_api(remote: RemoteApi) -> list[Action]:
    """The API first (its integration, route and stage go with it), then what it calls."""
    actions = []
    if remote.api:
        actions.append(Action(Verb.DELETE, Kind.HTTP_API, remote.api.name, target=remote.api))
    actions += _duplicates(remote, "")
    if remote.function:
        actions.append(Action(Verb.DELETE, Kind.FUNCTION, remote.function.name, target=remote.function))
    if remote.log_group:
        actions.append(Action(Verb.DELETE, Kind.LOG_GROUP, remote.log_group.name, target=remote.log_group))
    if remote.role:
        actions.append(Action(Verb.DELETE, Kind.ROLE, remote.role.name, target=remote.role))
    return actions


def _duplicates(remote: RemoteApi, reason: str) -> list[Action]:
    # Named by id: the one kept has the same name.
    return [
        Action(Verb.DELETE, Kind.HTTP_API, f"{api.name} {api.api_id}", reason, api)
        for api in remote.duplicates
    ]


def _permission_name(desired: ApiState) -> str:
    return f"{desired.function.name} {desired.permission.statement_id}"
