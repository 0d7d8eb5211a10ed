"""`config.yml` as a strict, typed schema: every mistake is caught before any AWS call.

Unknown keys, wrong types and impossible combinations fail with the key path and what is
allowed, e.g. `endpoint.serverless: data capture is not supported on serverless endpoints`.
Strict types: `true` is not 1 and "2" is not 2; numbers are finite and bounded.
Here: one model per section with its own rules; rules across sections live in `config_rules`,
turning pydantic's errors into that one line in `config_errors`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from deployment import config_checks as checks
from deployment import config_rules
from deployment.config_errors import describe
from deployment.config_yaml import apply_override, read_document
from deployment.errors import ConfigError
from deployment.naming import ENGINE_TAGS
from inference.catalog import CATALOG
from inference.manifest import Family

# No project's "{name}-" begins another's, and a stage's only '-' comes before a final number
# (dev, prod, pr-42): so no stage's "{name}-{stage}-{kind}" names begin another stage's, which the
# deploy role's per-stage session policy relies on (deploy_policy.check_isolation).
PROJECT_PATTERN = r"^[a-z0-9]+$"
STAGE_PATTERN = r"^[a-z0-9]+(-[0-9]+)?$"
HOURLY = "cron(0 * ? * * *)"
DAILY_PATTERN = re.compile(r"cron\(0 ([0-9]|1[0-9]|2[0-3]|\*/([1-9]|1[0-9]|2[0-4])|\*) \? \* \* \*\)")
# SageMaker ends a real-time invocation after 60 s, so no inference time or model latency exceeds it.
INVOCATION_TIMEOUT_SECONDS = 60
# The most requests a minute the API lets through at its highest throttle (10,000/s): a rollback or
# scaling threshold above it could never be reached through the API.
MOST_REQUESTS_PER_MINUTE = 10_000 * 60
# SageMaker's default quota of instances per endpoint is far lower; 100 bounds typos like 1000.
MOST_INSTANCES = 100


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


def _whole_number(value: object) -> object:
    # Even strict pydantic lets `true` and 30.0 match Literal[1, ..., 30]: YAML `true` is not a day count.
    if type(value) is not int:
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def optional(check: Callable[[str], str]) -> AfterValidator:
    """`check` for a value that may also be null."""
    return AfterValidator(lambda value: None if value is None else check(value))


def one_of(*values: int) -> object:
    """A strict choice among whole numbers."""
    return Annotated[Literal[values], BeforeValidator(_whole_number)]


class Project(Strict):
    name: Annotated[str, Field(pattern=PROJECT_PATTERN, max_length=20)] = "pose"
    # A deployment stage: "dev", "prod", or "pr-42" for a pull request's own environment.
    stage: Annotated[str, Field(pattern=STAGE_PATTERN, max_length=16)] = "dev"
    # A region where SageMaker is available, per the pinned botocore's endpoint data.
    region: Annotated[str, AfterValidator(checks.region)] = "us-east-1"
    tags: Annotated[dict[str, str], AfterValidator(partial(checks.tags, engine_tags=ENGINE_TAGS))] = {}


def catalog_model(name: str, alternative: str = "") -> str:
    if name not in CATALOG:
        raise ValueError(
            f"{checks.shown(name)} is not a catalog model; use one of {', '.join(CATALOG)}{alternative}"
        )
    return name


def _model_list(value: object) -> object:
    """YAML's list (or null: none) as the tuple the schema holds; anything else is refused plainly."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise PydanticCustomError(
            "list_type", "should be a list of catalog model names, e.g. [blazepose-heavy, blazepose-lite]"
        )
    return tuple(value)


CatalogName = Annotated[str, AfterValidator(catalog_model)]
# A multi-model endpoint of this project serves 2 to 10 catalog models (more would mostly be unloaded).
MOST_MODELS = 10


class Model(Strict):
    """A catalog model by name, or any .tflite by path/URL with its family (and sha256 for a URL)."""

    name: str = "blazepose-heavy"
    path: Annotated[str | None, optional(checks.model_path)] = None
    url: Annotated[str | None, optional(checks.model_url)] = None
    sha256: Annotated[str | None, Field(pattern=r"^[0-9a-f]{64}$")] = None
    # Lax: config.yml spells a family as its string; strict mode would take only a Family.
    family: Annotated[Family | None, Field(strict=False)] = None
    # The most people an answer lists (null: the server's default, 5); a request may ask for fewer
    # or more (X-Amzn-SageMaker-Custom-Attributes: max_people=N).
    max_people: Annotated[int | None, Field(ge=1, le=20)] = None

    @field_validator("name")
    @classmethod
    def _in_the_catalog(cls, name: str) -> str:
        return catalog_model(name, " (or give your own .tflite by path or url, with family)")

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
    memory_mb: one_of(1024, 2048, 3072, 4096, 5120, 6144) = 2048
    max_concurrency: Annotated[int, Field(ge=1, le=200)] = 5


class Endpoint(Strict):
    # A real-time hosting instance type, from botocore's list (deployment/instance_types.py).
    instance_type: Annotated[str, AfterValidator(checks.hosting_instance_type)] = "ml.m5.large"
    instance_count: Annotated[int, Field(ge=1, le=MOST_INSTANCES)] = 1
    variant_name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")] = "AllTraffic"
    serverless: Serverless | None = None
    # Extra environment for the inference container (e.g. SAGEMAKER_MODEL_SERVER_WORKERS).
    environment: Annotated[dict[str, str], AfterValidator(checks.environment)] = {}
    # Several catalog models on one multi-model endpoint, chosen per request; model.name is the default.
    models: Annotated[tuple[CatalogName, ...], BeforeValidator(_model_list)] = ()

    @field_validator("models")
    @classmethod
    def _two_to_ten_once_each(cls, models: tuple[str, ...]) -> tuple[str, ...]:
        if len(models) == 1:
            raise ValueError(
                "one model is a single-model endpoint: list 2 to 10 catalog models, "
                "or remove endpoint.models and set model.name"
            )
        if len(models) > MOST_MODELS:
            raise ValueError(f"{len(models)} models; list at most {MOST_MODELS}")
        for position, name in enumerate(models):
            if name in models[:position]:
                raise ValueError(
                    f"{name} is listed twice (items {models.index(name)} and {position}); keep one"
                )
        return models

    @field_validator("instance_type")
    @classmethod
    def _guardrails_available(cls, instance_type: str) -> str:
        # Every update is a blue/green deployment with auto-rollback:
        # https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html
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
    rollback_on_5xx: Annotated[int, Field(ge=1, le=MOST_REQUESTS_PER_MINUTE)] = 1
    rollback_on_latency_ms: Annotated[int, Field(ge=1, le=INVOCATION_TIMEOUT_SECONDS * 1000)] = 2000
    # Endpoint configs (and their models) kept after a successful update, for manual rollback.
    keep_previous: Annotated[int, Field(ge=0, le=10)] = 2


class Autoscaling(Strict):
    enabled: bool = False
    min_instances: Annotated[int, Field(ge=1, le=MOST_INSTANCES)] = 1
    max_instances: Annotated[int, Field(ge=1, le=MOST_INSTANCES)] = 2
    # SageMakerVariantInvocationsPerInstance: invocations per instance per minute.
    target_invocations_per_instance: Annotated[int, Field(ge=1, le=MOST_REQUESTS_PER_MINUTE)] = 100

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
    # A KMS key id, key ARN, alias (alias/...) or alias ARN; null: S3's default encryption.
    kms_key_id: Annotated[str | None, optional(checks.kms_key)] = None
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
    threshold_seconds: Annotated[float, Field(gt=0, le=INVOCATION_TIMEOUT_SECONDS)] = 1.0
    p99_threshold_seconds: Annotated[float | None, Field(gt=0, le=INVOCATION_TIMEOUT_SECONDS)] = None
    # A processing instance type, from botocore's list (deployment/instance_types.py).
    instance_type: Annotated[str, AfterValidator(checks.processing_instance_type)] = "ml.m5.large"
    max_runtime_seconds: Annotated[int, Field(ge=60, le=86400)] = 1800
    volume_size_gb: Annotated[int, Field(ge=1, le=16384)] = 20
    # The endpoint's resources over a monitoring window (CloudWatch), each an alert when passed:
    # memory in use, CPU per core (SageMaker sums CPUUtilization over cores), 5XX answers per request.
    max_memory_percent: Annotated[float | None, Field(gt=0, le=100)] = None
    max_cpu_percent_per_core: Annotated[float | None, Field(gt=0, le=100)] = None
    max_error_percent: Annotated[float | None, Field(gt=0, le=100)] = None

    @field_validator("schedule")
    @classmethod
    def _at_most_hourly(cls, schedule: str) -> str:
        # "*/1" is hourly spelled differently: one spelling, so the hourly runtime limit applies to it.
        if schedule in {"hourly", "cron(0 */1 ? * * *)"}:
            return HOURLY
        if schedule == "daily":
            return "cron(0 0 ? * * *)"
        if not DAILY_PATTERN.fullmatch(schedule):
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


BucketName = Annotated[str, AfterValidator(checks.bucket_name)]
S3Prefix = Annotated[str, AfterValidator(checks.s3_prefix)]


class S3(Strict):
    # Default: "{project}-{stage}-{account id}-{region}", unique per account and region.
    bucket: BucketName | None = None
    # A trailing slash would make SageMaker write "prefix//endpoint", which breaks monitoring input.
    model_prefix: S3Prefix = "models"
    capture_prefix: S3Prefix = "data-capture"
    reports_prefix: S3Prefix = "monitoring-reports"


class Iam(Strict):
    # An existing SageMaker execution role; empty means the engine creates a least-privilege one.
    execution_role_arn: Annotated[str | None, optional(checks.role_arn)] = None


class Api(Strict):
    """The public HTTP API (API Gateway + a Lambda) in front of the endpoint: browsers cannot sign requests."""

    enabled: bool = True
    # Requests per second across the API, and how many may arrive at once above that rate.
    throttle_rate_limit: Annotated[float, Field(gt=0, le=10000)] = 10
    throttle_burst_limit: Annotated[int, Field(ge=1, le=5000)] = 20
    # CORS: the web page's own origin is always allowed; these are added (e.g. http://localhost:8080).
    extra_allowed_origins: list[Annotated[str, AfterValidator(checks.origin)]] = []
    # The Lambda's CloudWatch log group keeps this many days (a value CloudWatch Logs accepts).
    log_retention_days: one_of(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731) = 30


class Webapp(Strict):
    """The static web page with the API's URL in it: a private S3 bucket, served over HTTPS by CloudFront."""

    enabled: bool = True
    # Default: "{project}-{stage}-{account id}-{region}-web"; the engine creates and owns it (a name of
    # your own must be new, or an empty bucket without tags in this account).
    bucket: BucketName | None = None
    # CloudFront's edge locations: North America and Europe (the cheapest), plus Asia..., or all.
    price_class: Literal["PriceClass_100", "PriceClass_200", "PriceClass_All"] = "PriceClass_100"


class DropFolder(Strict):
    """Photos put under `{stage}/inbox/` in the stage's bucket become results under `{stage}/outbox/`."""

    enabled: bool = False


class Batch(Strict):
    drop_folder: DropFolder = DropFolder()


class Registry(Strict):
    """The model registry's events (issue 19 section 3): both off unless set."""

    # The stage whose endpoint moves to each version approved in the registry (an EventBridge rule
    # and a Lambda, made when that stage deploys); None: approving a version deploys nothing.
    deploy_on_approval: Annotated[str | None, Field(pattern=STAGE_PATTERN, max_length=16)] = None
    # A folder under the stage's own in its bucket: a .tflite or model.tar.gz put there is checked,
    # packaged and registered PendingManualApproval (never deployed); None: no such folder.
    upload_prefix: Annotated[str | None, optional(checks.s3_prefix)] = None


class Alerts(Strict):
    """Who hears about trouble: the engine makes an encrypted SNS topic for the stage's alarms."""

    # Each gets an email subscription to the topic, which its owner must confirm (deploy says so).
    emails: Annotated[list[Annotated[str, AfterValidator(checks.email)]], Field(max_length=20)] = []
    # An existing SNS topic (e.g. one wired to chat or paging) the alarms also notify.
    topic_arn: Annotated[str | None, optional(checks.sns_topic_arn)] = None

    @field_validator("emails")
    @classmethod
    def _once_each(cls, emails: list[str]) -> list[str]:
        seen: set[str] = set()
        for email in emails:
            if email.lower() in seen:
                raise ValueError(f"{email} is listed twice")
            seen.add(email.lower())
        return emails


class Local(Strict):
    """The offline stack of `make demo`."""

    host: Annotated[str, AfterValidator(checks.local_host)] = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    # At most a week: the local stack is a demo, and the interval becomes a thread's wait timeout.
    monitor_interval_seconds: Annotated[int, Field(ge=5, le=7 * 24 * 3600)] = 3600


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
    alerts: Alerts = Alerts()
    batch: Batch = Batch()
    registry: Registry = Registry()
    local: Local = Local()

    @model_validator(mode="after")
    def _combinations(self) -> Config:
        """Rules across sections (deployment/config_rules.py), after each section is valid alone."""
        config_rules.check_combinations(self)
        return self

    @property
    def served_models(self) -> tuple[str, ...]:
        """The models a multi-model endpoint serves, the default (model.name) first; () for one model."""
        models = self.endpoint.models
        return (self.model.name, *(name for name in models if name != self.model.name)) if models else ()

    @property
    def prefix(self) -> str:
        return f"{self.project.name}-{self.project.stage}"


def load_config(path: Path, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """Read, apply `--set key.path=value` overrides, and validate."""
    document = read_document(Path(path))
    for override in overrides:
        apply_override(document, override)
    return parse_config(document, source=str(path))


def parse_config(document: dict, source: str = "config") -> Config:
    try:
        return Config.model_validate(document)
    except ValidationError as error:
        raise ConfigError(describe(error, Config), where=source) from error
