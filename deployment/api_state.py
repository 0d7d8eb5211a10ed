"""Desired state of the public side: the HTTP API and its Lambda (the web page: web_state.py).

Each resource is a frozen dataclass of its kind's module in deployment/resources/; what only this
run can learn (the new API's id in the invoke permission, the page's origin in CORS) is a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass

from deployment.config import Config
from deployment.lambda_package import HANDLER, code_sha256, handler_zip
from deployment.multi_model import MODELS_VARIABLE, models_value
from deployment.naming import Names
from deployment.policies import LAMBDA, canonical, function_policy
from deployment.resources.distribution import WEB_ORIGIN
from deployment.resources.function import Function
from deployment.resources.http_api import API_ID, Cors, HttpApi, Integration, Route, Stage
from deployment.resources.lambda_permission import Permission
from deployment.resources.log_group import LogGroup
from deployment.resources.placeholders import Template
from deployment.resources.role import Role, boundary_arn

RUNTIME = "python3.12"
FUNCTION_TIMEOUT_SECONDS = 29  # an HTTP API gives its integration 30 s
FUNCTION_MEMORY_MB = 256


@dataclass(frozen=True)
class ApiState:
    names: Names  # the permission's source ARN needs the API's id, known once it exists
    log_group: LogGroup
    role: Role
    function: Function
    api: HttpApi
    integration: Integration
    route: Route
    stage: Stage
    permission: Permission


def api_state(config: Config, names: Names) -> ApiState | None:
    if not config.api.enabled:
        return None
    policy = function_policy(
        names.endpoint_arn(),
        f"arn:aws:logs:{names.region}:{names.account_id}:log-group:{names.function_log_group}",
    )
    role = Role(
        names.function_role,
        names.role_arn(names.function_role),
        canonical(policy),
        service=LAMBDA,
        boundary=boundary_arn(config.project.name, names.account_id),
    )
    zip_file = handler_zip()
    function = Function(
        name=names.function,
        role_arn=role.arn,
        runtime=RUNTIME,
        handler=HANDLER,
        timeout_seconds=FUNCTION_TIMEOUT_SECONDS,
        memory_mb=FUNCTION_MEMORY_MB,
        environment=_environment(config, names),
        code_sha256=code_sha256(zip_file),
        zip_file=zip_file,
    )
    return ApiState(
        names=names,
        log_group=LogGroup(names.function_log_group, config.api.log_retention_days),
        role=role,
        function=function,
        api=HttpApi(names.http_api, _cors(config)),
        integration=Integration(names.function_arn),
        route=Route(),
        stage=Stage(float(config.api.throttle_rate_limit), config.api.throttle_burst_limit),
        permission=Permission(names.function, Template.of(names.api_source_arn("{api_id}"), api_id=API_ID)),
    )


def _environment(config: Config, names: Names) -> tuple[tuple[str, str], ...]:
    """The endpoint to call and, on a multi-model stage, the models it serves (the default first),
    so `?model=` is checked before the endpoint is called."""
    variables = {"ENDPOINT_NAME": names.endpoint}
    if config.served_models:
        variables[MODELS_VARIABLE] = models_value(config.served_models)
    return tuple(sorted(variables.items()))


def _cors(config: Config) -> Cors | None:
    """The page's own origin (once known), and any configured ones; never "*"."""
    origins = tuple(sorted(set(config.api.extra_allowed_origins)))
    if not (origins or config.webapp.enabled):
        return None  # no browser origin may call it
    # The page's HTTPS origin: its CloudFront domain is known once the distribution exists.
    return Cors((*origins, WEB_ORIGIN) if config.webapp.enabled else origins)
