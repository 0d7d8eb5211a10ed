"""How the executor carries out the API's actions: the Lambda and the HTTP API (the page: web_steps.py).

Ids AWS assigns during a run (a new API, its URL, a new integration) are kept in `assigned`, for
the actions after it that need them; everything else comes from the action itself.
"""

from __future__ import annotations

from dataclasses import replace

from deployment.actions import Action
from deployment.api_state import ApiState, Function, Permission, Route
from deployment.errors import DeploymentError
from deployment.web_steps import WEB_KINDS, WebSteps

PUBLIC_KINDS = frozenset(
    {
        "log-group",
        "function",
        "function-code",
        "http-api",
        "api-integration",
        "api-route",
        "api-stage",
        "lambda-permission",
        *WEB_KINDS,
    }
)


class PublicSteps(WebSteps):
    """Mixed into the Executor, whose aws, tags, clock, waits and _pause these use."""

    assigned: dict[str, str]

    def apply_public(self, action: Action) -> None:
        if action.kind.startswith("web-"):
            self.apply_web(action)
        else:
            self._apply_api(action)

    def _apply_api(self, action: Action) -> None:
        """Flat tables, like the Executor's: every AWS call spelled out."""
        aws, target = self.aws, action.target
        match action.kind, action.verb:
            case "log-group", "create":
                aws.functions.create_log_group(target, self.tags)
            case "log-group", "update":
                aws.functions.set_retention(target)
            case "log-group", "delete":
                aws.functions.delete_log_group(action.name)
            case "function", "create":
                self._retry_while_role_propagates(lambda: aws.functions.create(target, self.tags))
                self.wait_for_function(target.name)
            case "function", "update":
                self._change_function(target, aws.functions.update_configuration)
            case "function-code", "update":
                self._change_function(target, aws.functions.update_code)
            case "function", "delete":
                aws.functions.delete(action.name)
            case "http-api", "create":
                self._create_api(
                    replace(target, api=replace(target.api, cors=self.with_page_origin(target.api.cors)))
                )
            case "http-api", "update":
                aws.http_api.update_cors(replace(target, cors=self.with_page_origin(target.cors)))
            case "http-api", "delete":
                aws.http_api.delete(target.api_id)
            case "api-integration", "create":
                self.assigned["integration_id"] = aws.http_api.create_integration(target)
            case "api-integration", "update":
                aws.http_api.update_integration(target)
            case "api-route", "create":
                aws.http_api.create_route(target, self._integration_id(target))
            case "api-route", "update":
                aws.http_api.update_route(target, self._integration_id(target))
            case "api-stage", "create":
                aws.http_api.create_stage(target, self.tags)
            case "api-stage", "update":
                aws.http_api.update_stage(target)
            case "lambda-permission", "create":
                aws.functions.add_permission(self._for_this_api(target))
            case "lambda-permission", "update":
                aws.functions.remove_permission(target)
                aws.functions.add_permission(self._for_this_api(target))
            case _:
                raise DeploymentError(f"no way to {action.verb} a {action.kind}", where=action.name)

    def wait_for_function(self, name: str) -> None:
        """Lambda refuses a change while the previous one is still being applied."""
        started = self.clock.now()
        while True:
            status = self.aws.functions.status(name)
            if status.settled:
                return
            elapsed = self.clock.now() - started
            if status.failed:
                raise DeploymentError(
                    f"the function is {status.state} (last update {status.last_update}): {status.reason}",
                    where=name,
                    hint=f"see /aws/lambda/{name} in CloudWatch Logs",
                )
            self.report(f"  function {name}: {status.state}, update {status.last_update} ({elapsed:.0f}s)")
            self._pause(
                elapsed,
                f"function {name}",
                self.waits.function_timeout_seconds,
                self.waits.function_poll_seconds,
            )

    def _change_function(self, function: Function, change) -> None:
        self.wait_for_function(function.name)
        change(function)
        self.wait_for_function(function.name)

    def _create_api(self, state: ApiState) -> None:
        """The API and its parts; the permission after it names the API's new id."""
        created = self.aws.http_api.create(state, self.tags)
        self.assigned["api_url"] = created.predict_url
        self.assigned["api_source_arn"] = state.names.api_source_arn(created.api_id)

    def _for_this_api(self, permission: Permission) -> Permission:
        """A permission for an API created in this run gets its source ARN now."""
        if permission.source_arn:
            return permission
        source_arn = self.assigned.get("api_source_arn")
        if not source_arn:
            raise DeploymentError("the API it is for is unknown", where=permission.function_name)
        return replace(permission, source_arn=source_arn)

    def _integration_id(self, route: Route) -> str:
        integration_id = route.integration_id or self.assigned.get("integration_id")
        if not integration_id:
            raise DeploymentError("the route has no integration to target", where=route.route_key)
        return integration_id
