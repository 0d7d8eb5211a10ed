"""Desired state of the public side: the HTTP API and its Lambda (the web page: web_state.py).

Like state.py, each resource is a frozen dataclass that the AWS layer reads back into the same
type; fields AWS assigns (ids) or that only the upload needs (bytes, paths) are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.config import Config
from deployment.lambda_package import HANDLER, code_sha256, handler_zip
from deployment.naming import Names
from deployment.policies import LAMBDA, canonical, function_policy
from deployment.roles import Role, boundary_arn

RUNTIME = "python3.12"
FUNCTION_TIMEOUT_SECONDS = 29  # an HTTP API gives its integration 30 s
FUNCTION_MEMORY_MB = 256
INTEGRATION_TIMEOUT_MS = 29000
ROUTE_KEY = "POST /predict"
STAGE = "$default"
PERMISSION_STATEMENT = "invoke-from-http-api"
CORS_MAX_AGE_SECONDS = 3600  # browsers cache the preflight answer this long (Chrome caps it at 2 h)


@dataclass(frozen=True)
class LogGroup:
    name: str
    retention_days: int


@dataclass(frozen=True)
class Function:
    name: str
    role_arn: str
    runtime: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    code_sha256: str  # base64 SHA-256 of the zip, as Lambda reports it
    zip_file: bytes = field(default=b"", compare=False, repr=False)


@dataclass(frozen=True)
class Cors:
    allow_origins: tuple[str, ...]
    allow_methods: tuple[str, ...] = ("OPTIONS", "POST")
    allow_headers: tuple[str, ...] = ("content-type",)
    max_age_seconds: int = CORS_MAX_AGE_SECONDS
    # The web page's HTTPS origin is still to be added: its CloudFront domain is known once the
    # distribution exists (web_plan.with_page_origin), or once the executor has created it.
    page_origin_pending: bool = False


@dataclass(frozen=True)
class HttpApi:
    name: str
    cors: Cors | None  # None: no browser origin may call it
    api_id: str = field(default="", compare=False)  # assigned by API Gateway
    endpoint: str = field(default="", compare=False)  # https://{api id}.execute-api.{region}.amazonaws.com

    @property
    def predict_url(self) -> str:
        return f"{self.endpoint}/predict"


@dataclass(frozen=True)
class Integration:
    function_arn: str
    payload_format_version: str = "2.0"
    timeout_ms: int = INTEGRATION_TIMEOUT_MS
    api_id: str = field(default="", compare=False)
    integration_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Route:
    route_key: str = ROUTE_KEY
    integration_id: str = field(default="", compare=False)  # "": the integration for our function
    api_id: str = field(default="", compare=False)
    route_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Stage:
    throttle_rate_limit: float
    throttle_burst_limit: int
    name: str = STAGE
    auto_deploy: bool = True
    api_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Permission:
    """API Gateway may invoke the function, from this API's `POST /predict` only."""

    function_name: str
    source_arn: str  # needs the API's id; "" until it exists
    statement_id: str = PERMISSION_STATEMENT


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
        environment=(("ENDPOINT_NAME", names.endpoint),),
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
        permission=Permission(names.function, source_arn=""),
    )


def _cors(config: Config) -> Cors | None:
    """The page's own origin (once known), and any configured ones; never "*"."""
    origins = tuple(sorted(set(config.api.extra_allowed_origins)))
    if not (origins or config.webapp.enabled):
        return None  # no browser origin may call it
    return Cors(origins, page_origin_pending=config.webapp.enabled)
