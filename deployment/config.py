"""`config.yml` as a strict, typed schema: every mistake is caught before any AWS call.

Unknown keys, wrong types and impossible combinations fail with the key path and what is
allowed, e.g. `endpoint.serverless: data capture is not supported on serverless endpoints`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from deployment.errors import ConfigError

NAME_PATTERN = r"^[a-z0-9](-?[a-z0-9])*$"
HOURLY = "cron(0 * ? * * *)"
DAILY_PATTERN = re.compile(r"^cron\(0 (\d|1\d|2[0-3]|\*/([1-9]|1\d|2[0-4])|\*) \? \* \* \*\)$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Project(Strict):
    name: Annotated[str, Field(pattern=NAME_PATTERN, max_length=20)] = "pose"
    # A deployment stage: "dev", "prod", or "pr-42" for a pull request's own environment.
    stage: Annotated[str, Field(pattern=NAME_PATTERN, max_length=16)] = "dev"
    region: Annotated[str, Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")] = "us-east-1"
    tags: dict[str, str] = {}


class Model(Strict):
    """A catalog model by name, or any .tflite by path/URL with its family (and sha256 for a URL)."""

    name: str = "blazepose-full"
    path: str | None = None
    url: str | None = None
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None
    family: Literal["movenet", "blazepose"] | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Model:
        if self.path and self.url:
            raise ValueError("give either path or url, not both")
        if (self.path or self.url) and not self.family:
            raise ValueError("a model given by path or url needs family: movenet or blazepose")
        if self.url and not self.sha256:
            raise ValueError("a model given by url needs its sha256, so the download can be verified")
        return self


class Serverless(Strict):
    memory_mb: Literal[1024, 2048, 3072, 4096, 5120, 6144] = 2048
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5


class Endpoint(Strict):
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=100)] = 1
    variant_name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")] = "AllTraffic"
    serverless: Serverless | None = None
    # Extra environment for the inference container (e.g. SAGEMAKER_MODEL_SERVER_WORKERS).
    environment: dict[str, str] = {}

    @field_validator("instance_type")
    @classmethod
    def _guardrails_available(cls, instance_type: str) -> str:
        # Every update is a blue/green deployment with auto-rollback (CONTRACTS.md section 5).
        if instance_type.startswith("ml.inf1."):
            raise ValueError(
                f"{instance_type}: SageMaker deployment guardrails (blue/green updates with "
                "auto-rollback) are not available on Inf1 instances; use another family, e.g. ml.m5 or ml.c6i"
            )
        return instance_type


class Update(Strict):
    """How an existing endpoint moves to a new config: SageMaker blue/green with auto-rollback."""

    strategy: Literal["all_at_once", "canary", "linear"] = "all_at_once"
    # Percent of capacity shifted first (canary) or at each step (linear).
    step_percent: Annotated[int, Field(ge=1, le=99)] = 25
    wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    termination_wait_seconds: Annotated[int, Field(ge=0, le=3600)] = 300
    max_execution_timeout_seconds: Annotated[int, Field(ge=600, le=28800)] = 3600
    # Alarms that roll the update back: 5XX errors per minute, and average model latency.
    rollback_on_5xx: Annotated[int, Field(ge=1)] = 1
    rollback_on_latency_ms: Annotated[int, Field(ge=1)] = 2000
    # Endpoint configs (and their models) kept after a successful update, for manual rollback.
    keep_previous: Annotated[int, Field(ge=0, le=10)] = 2


class Autoscaling(Strict):
    enabled: bool = False
    min_instances: Annotated[int, Field(ge=1)] = 1
    max_instances: Annotated[int, Field(ge=1)] = 2
    target_invocations_per_instance: Annotated[int, Field(ge=1)] = 100

    @model_validator(mode="after")
    def _bounds(self) -> Autoscaling:
        if self.max_instances < self.min_instances:
            raise ValueError(
                f"max_instances ({self.max_instances}) is below min_instances ({self.min_instances})"
            )
        return self


class DataCapture(Strict):
    enabled: bool = True
    sampling_percent: Annotated[int, Field(ge=0, le=100)] = 100
    capture_input: bool = True
    capture_output: bool = True
    kms_key_id: str | None = None
    # Captured photos of people are personal data: an S3 lifecycle rule deletes them after this.
    retention_days: Annotated[int, Field(ge=1, le=3650)] = 30

    @model_validator(mode="after")
    def _captures_something(self) -> DataCapture:
        if self.enabled and not (self.capture_input or self.capture_output):
            raise ValueError("enabled capture must capture the input, the output, or both")
        return self


class Monitoring(Strict):
    enabled: bool = True
    # SageMaker runs monitoring schedules at most hourly.
    schedule: str = HOURLY
    threshold_seconds: Annotated[float, Field(gt=0)] = 1.0
    p99_threshold_seconds: Annotated[float | None, Field(gt=0)] = None
    instance_type: Annotated[str, Field(pattern=r"^ml\.[a-z0-9]+\.[a-z0-9]+$")] = "ml.m5.large"
    max_runtime_seconds: Annotated[int, Field(ge=60, le=86400)] = 1800
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20

    @field_validator("schedule")
    @classmethod
    def _at_most_hourly(cls, schedule: str) -> str:
        # "*/1" is hourly spelled differently: one spelling, so the hourly runtime limit applies to it.
        if schedule in {"hourly", "cron(0 */1 ? * * *)"}:
            return HOURLY
        if schedule == "daily":
            return "cron(0 0 ? * * *)"
        if not DAILY_PATTERN.match(schedule):
            raise ValueError(
                f"{schedule!r} is not an hourly-or-rarer schedule; use 'hourly', 'daily', "
                f"{HOURLY!r} or cron(0 H ? * * *) with H an hour, */N or *"
            )
        return schedule

    @model_validator(mode="after")
    def _fits_the_schedule(self) -> Monitoring:
        if self.schedule == HOURLY and self.max_runtime_seconds > 3600:
            raise ValueError(
                f"max_runtime_seconds is {self.max_runtime_seconds}; an hourly schedule allows 3600"
            )
        return self


class S3(Strict):
    # Default: "{project}-{stage}-{account id}-{region}", unique per account and region.
    bucket: Annotated[str | None, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = None
    model_prefix: str = "models"
    capture_prefix: str = "data-capture"
    reports_prefix: str = "monitoring-reports"

    @field_validator("model_prefix", "capture_prefix", "reports_prefix")
    @classmethod
    def _clean_prefix(cls, prefix: str) -> str:
        # A trailing slash would make SageMaker write "prefix//endpoint", which breaks monitoring input.
        if not prefix or prefix.startswith("/") or prefix.endswith("/") or "//" in prefix:
            raise ValueError(f"{prefix!r} must be non-empty, with no leading, trailing or double '/'")
        return prefix


class Iam(Strict):
    # An existing SageMaker execution role; empty means the engine creates a least-privilege one.
    execution_role_arn: Annotated[str | None, Field(pattern=r"^arn:aws[a-z-]*:iam::\d{12}:role/.+$")] = None


ORIGIN_PATTERN = re.compile(r"^https?://[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:\d{1,5})?$")


class Api(Strict):
    """The public HTTP API (API Gateway + a Lambda) in front of the endpoint: browsers cannot sign requests."""

    enabled: bool = True
    # Requests per second across the API, and how many may arrive at once above that rate.
    throttle_rate_limit: Annotated[float, Field(gt=0, le=10000)] = 10
    throttle_burst_limit: Annotated[int, Field(ge=1, le=5000)] = 20
    # CORS: the web page's own origin is always allowed; these are added (e.g. http://localhost:8080).
    extra_allowed_origins: list[str] = []
    # The Lambda's CloudWatch log group keeps this many days (a value CloudWatch Logs accepts).
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 30

    @field_validator("extra_allowed_origins")
    @classmethod
    def _origins(cls, origins: list[str]) -> list[str]:
        for origin in origins:
            if not ORIGIN_PATTERN.match(origin):
                raise ValueError(
                    f"{origin!r} is not an origin; write scheme and host with an optional port, "
                    "e.g. https://example.com or http://localhost:8080 (no path, no trailing '/', no '*')"
                )
        return origins


class Webapp(Strict):
    """The static web page, published to an S3 website bucket with the API's URL in it."""

    enabled: bool = True
    # Default: "{project}-{stage}-{account id}-{region}-web"; the engine creates and owns it.
    bucket: Annotated[str | None, Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")] = None


class Local(Strict):
    """The offline stack of `make demo`."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    monitor_interval_seconds: Annotated[int, Field(ge=5)] = 3600


class Config(Strict):
    project: Project = Project()
    model: Model = Model()
    endpoint: Endpoint = Endpoint()
    update: Update = Update()
    autoscaling: Autoscaling = Autoscaling()
    data_capture: DataCapture = DataCapture()
    monitoring: Monitoring = Monitoring()
    s3: S3 = S3()
    iam: Iam = Iam()
    api: Api = Api()
    webapp: Webapp = Webapp()
    local: Local = Local()

    @model_validator(mode="after")
    def _combinations(self) -> Config:
        if self.endpoint.serverless:
            if self.data_capture.enabled:
                raise ValueError(
                    "endpoint.serverless: SageMaker does not support data capture on serverless endpoints; "
                    "set data_capture.enabled: false (and monitoring.enabled: false) or remove serverless"
                )
            if self.monitoring.enabled:
                raise ValueError(
                    "endpoint.serverless: monitoring needs data capture; set monitoring.enabled: false"
                )
            if self.autoscaling.enabled:
                raise ValueError(
                    "endpoint.serverless: serverless endpoints scale themselves; disable autoscaling"
                )
        if self.monitoring.enabled and not (self.data_capture.enabled and self.data_capture.capture_output):
            raise ValueError(
                "monitoring.enabled: the monitor reads captured responses; enable data_capture output"
            )
        # The API always has an endpoint to call (every deployment has one); the page needs the API.
        if self.webapp.enabled and not self.api.enabled:
            raise ValueError(
                "webapp.enabled: the web page calls the API; set api.enabled: true or webapp.enabled: false"
            )
        self._default_bucket_fits("s3", "", self.s3.bucket)
        if self.webapp.enabled:
            self._default_bucket_fits("webapp", "-web", self.webapp.bucket)
        return self

    def _default_bucket_fits(self, section: str, suffix: str, bucket: str | None) -> None:
        default = f"{self.prefix}-<account id>-{self.project.region}{suffix}"
        length = len(default) - len("<account id>") + 12
        if not bucket and length > 63:
            raise ValueError(
                f"{section}.bucket: the default name {default} has {length} characters, over S3's 63; "
                f"shorten project.name or project.stage, or set {section}.bucket"
            )

    @property
    def prefix(self) -> str:
        return f"{self.project.name}-{self.project.stage}"


def load_config(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, apply `--set key.path=value` overrides, and validate."""
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as error:
        raise ConfigError(f"cannot read the config file ({error.strerror})", where=str(path)) from error
    except yaml.YAMLError as error:
        # PyYAML's message spans lines (with a caret diagram); the CLI promises one line.
        raise ConfigError(f"not valid YAML: {' '.join(str(error).split())}", where=str(path)) from error
    if not isinstance(document, dict):
        raise ConfigError("the top level must be a mapping of sections", where=str(path))
    for override in overrides:
        apply_override(document, override)
    return parse_config(document, source=str(path))


def parse_config(document: dict, source: str = "config") -> Config:
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        raise ConfigError(_describe(error), where=source) from error


def apply_override(document: dict, override: str) -> None:
    """`monitoring.threshold_seconds=0.5`: the value is parsed as YAML (numbers, booleans, null)."""
    key_path, separator, raw_value = override.partition("=")
    keys = key_path.strip().split(".")
    if not separator or not all(keys):
        raise ConfigError(f"--set {override!r} must look like section.key=value", where="--set")
    node = document
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{'.'.join(keys)}: {key} is not a section", where="--set")
        node = child
    try:
        node[keys[-1]] = yaml.safe_load(raw_value) if raw_value.strip() else ""
    except yaml.YAMLError as error:
        raise ConfigError(f"{key_path}: the value {raw_value!r} is not valid YAML", where="--set") from error


def _describe(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        location = ".".join(str(part) for part in problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = f"unknown key; allowed here: {', '.join(_allowed_keys(problem['loc'][:-1]))}"
        lines.append(f"{location}: {message}" if location else message)
    return "; ".join(lines)


def _allowed_keys(section_path: tuple) -> list[str]:
    """The keys of the section at `section_path` (e.g. ("endpoint", "serverless")), in schema order."""
    section: type[BaseModel] | None = Config
    for key in section_path:
        field = section.model_fields.get(str(key)) if section else None
        section = _section_type(field.annotation) if field else None
    return list(section.model_fields) if section else []


def _section_type(annotation: object) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):  # `Serverless | None` -> Serverless
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None
