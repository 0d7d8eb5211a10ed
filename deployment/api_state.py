"""Desired state of the public side: the HTTP API and its Lambda, and the web page's S3 website.

Like state.py, each resource is a frozen dataclass that the AWS layer reads back into the same
type; fields AWS assigns (ids) or that only the upload needs (bytes, paths) are not compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deployment import website
from deployment.config import Config
from deployment.config import Model as ModelSettings
from deployment.lambda_package import HANDLER, code_sha256, handler_zip
from deployment.naming import Names
from deployment.policies import LAMBDA, canonical, function_policy, public_read_policy
from deployment.roles import Role, boundary_arn
from webapp.render import content_type

RUNTIME = "python3.12"
FUNCTION_TIMEOUT_SECONDS = 29  # an HTTP API gives its integration 30 s
FUNCTION_MEMORY_MB = 256
INTEGRATION_TIMEOUT_MS = 29000
ROUTE_KEY = "POST /predict"
STAGE = "$default"
PERMISSION_STATEMENT = "invoke-from-http-api"
CORS_MAX_AGE_SECONDS = 3600  # browsers cache the preflight answer this long (Chrome caps it at 2 h)
# Block public ACLs (objects stay owner-only), allow the public-read bucket policy below.
WEBSITE_ACCESS_BLOCK = (True, True, False, False)


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


@dataclass(frozen=True)
class WebBucket:
    name: str
    index_document: str
    policy: str  # canonical JSON
    access_block: tuple[
        bool, bool, bool, bool
    ]  # BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy, Restrict...


@dataclass(frozen=True)
class WebFile:
    """An asset uploaded as it is; its SHA-256 is kept in the object's metadata."""

    bucket: str
    key: str
    content_type: str
    cache_control: str
    sha256: str
    path: str = field(default="", compare=False)


@dataclass(frozen=True)
class WebPage:
    """index.html, rendered at upload time; its metadata records what it was rendered from."""

    bucket: str
    key: str
    content_type: str
    cache_control: str
    source_sha256: str
    api_url: str | None  # None: the API is created in the same run, so its URL is read back then
    model_name: str = field(default="", compare=False)


@dataclass(frozen=True)
class WebState:
    bucket: WebBucket
    files: tuple[WebFile, ...]
    page: WebPage


def api_state(config: Config, names: Names) -> ApiState | None:
    if not config.api.enabled:
        return None
    policy = function_policy(
        names.endpoint_arn(),
        f"arn:aws:logs:{names.region}:{names.account_id}:log-group:{names.function_log_group}",
    )
    role = Role(
        names.function_role,
        f"arn:aws:iam::{names.account_id}:role/{names.function_role}",
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
        api=HttpApi(names.http_api, _cors(config, names)),
        integration=Integration(names.function_arn),
        route=Route(),
        stage=Stage(float(config.api.throttle_rate_limit), config.api.throttle_burst_limit),
        permission=Permission(names.function, source_arn=""),
    )


def _cors(config: Config, names: Names) -> Cors | None:
    """The page's own origin, and any configured ones; never "*"."""
    origins = set(config.api.extra_allowed_origins)
    if config.webapp.enabled:
        origins.add(website.origin_of(website.website_url(web_bucket_name(config, names), names.region)))
    return Cors(tuple(sorted(origins))) if origins else None


def web_state(config: Config, names: Names) -> WebState | None:
    if not config.webapp.enabled:
        return None
    bucket = web_bucket_name(config, names)
    files = tuple(
        WebFile(
            bucket,
            key,
            content_type(path),
            website.ASSET_CACHE_CONTROL,
            website.file_sha256(path),
            str(path),
        )
        for key, path in website.static_files()
    )
    model_name = page_model_name(config.model)
    page = WebPage(
        bucket,
        website.INDEX,
        content_type(Path(website.INDEX)),
        website.PAGE_CACHE_CONTROL,
        website.page_source_sha256(model_name),
        api_url=None,
        model_name=model_name,
    )
    policy = canonical(public_read_policy(bucket))
    return WebState(WebBucket(bucket, website.INDEX, policy, WEBSITE_ACCESS_BLOCK), files, page)


def web_bucket_name(config: Config, names: Names) -> str:
    return config.webapp.bucket or names.default_web_bucket()


def page_model_name(model: ModelSettings) -> str:
    """The name the page shows: the catalog name, or the file's name for a model of your own."""
    source = model.path or (model.url or "").split("?")[0]
    return Path(source).stem if source else model.name
