"""`config.yml` as a strict, typed schema: every mistake is caught before any AWS call.

Unknown keys, wrong types and impossible combinations fail with the key path and what is
allowed, e.g. `endpoint.serverless: data capture is not supported on serverless endpoints`.
Strict types: `true` is not 1 and "2" is not 2; numbers are finite and bounded.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, Literal, get_args

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
from deployment.config_yaml import apply_override, key_path, read_document
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
        self._multi_model()
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
            for key in ("max_memory_percent", "max_cpu_percent_per_core"):
                if getattr(self.monitoring, key) is not None:
                    raise ValueError(
                        f"monitoring.{key}: serverless endpoints report no instance CPU or memory; remove it"
                    )
        if self.monitoring.enabled and not (self.data_capture.enabled and self.data_capture.capture_output):
            raise ValueError(
                "monitoring.enabled: the monitor reads captured responses; enable data_capture output"
            )
        if self.model.max_people is not None and "POSE_MAX_PEOPLE" in self.endpoint.environment:
            raise ValueError(
                "endpoint.environment: POSE_MAX_PEOPLE is also set by model.max_people; keep one of the two"
            )
        # The API always has an endpoint to call (every deployment has one); the page needs the API.
        if self.webapp.enabled and not self.api.enabled:
            raise ValueError(
                "webapp.enabled: the web page calls the API; set api.enabled: true or webapp.enabled: false"
            )
        self._default_bucket_fits("s3", "", self.s3.bucket)
        if self.webapp.enabled:
            self._default_bucket_fits("webapp", "-web", self.webapp.bucket)
        self._in_the_region()
        self._upload_prefix_apart()
        return self

    def _upload_prefix_apart(self) -> None:
        """S3 refuses two notifications on overlapping prefixes, and an upload must not be a capture."""
        upload = self.registry.upload_prefix
        if upload is None:
            return
        others = {"s3.model_prefix": self.s3.model_prefix, "s3.capture_prefix": self.s3.capture_prefix}
        others |= {"s3.reports_prefix": self.s3.reports_prefix, "the drop folder's inbox": "inbox"}
        others |= {"the drop folder's outbox": "outbox", "the drop folder's failed": "failed"}
        for key, prefix in others.items():
            for ours in (upload, f"{upload}-rejected"):  # the folder, and where bad uploads go
                if f"{ours}/".startswith(f"{prefix}/") or f"{prefix}/".startswith(f"{ours}/"):
                    raise ValueError(
                        f"registry.upload_prefix: {ours!r} overlaps {key} ({prefix!r}); choose a folder of its own"
                    )

    def _multi_model(self) -> None:
        models = self.endpoint.models
        if not models:
            return
        if self.model.path or self.model.url:
            raise ValueError(
                "endpoint.models: a model of your own (model.path or model.url) cannot be combined with "
                "endpoint.models in this version; list catalog models only, or remove endpoint.models"
            )
        if self.model.name not in models:
            raise ValueError(
                f"model.name: {self.model.name} is the default model, so it must be one of endpoint.models "
                f"({', '.join(models)}); add it there, or set model.name to one of them"
            )
        if self.endpoint.serverless:
            raise ValueError(
                "endpoint.serverless: SageMaker serverless endpoints cannot host several models "
                "(multi-model endpoints run on instances); remove serverless or endpoint.models"
            )
        if self.batch.drop_folder.enabled:
            raise ValueError(
                "batch.drop_folder.enabled: the drop folder calls the endpoint without naming a model, "
                "which a multi-model endpoint requires; disable it or remove endpoint.models"
            )

    @property
    def served_models(self) -> tuple[str, ...]:
        """The models a multi-model endpoint serves, the default (model.name) first; () for one model."""
        models = self.endpoint.models
        return (self.model.name, *(name for name in models if name != self.model.name)) if models else ()

    def _default_bucket_fits(self, section: str, suffix: str, bucket: str | None) -> None:
        if bucket:
            return
        default = f"{self.prefix}-<account id>-{self.project.region}{suffix}"
        length = len(default) - len("<account id>") + 12
        if length > 63:
            raise ValueError(
                f"{section}.bucket: the default name {default} has {length} characters, over S3's 63; "
                f"shorten project.name or project.stage, or set {section}.bucket"
            )
        if problem := checks.bucket_problem(default.replace("<account id>", "0" * 12)):
            raise ValueError(
                f"{section}.bucket: the default name {default} is not a bucket name S3 accepts ({problem}); "
                f"change project.name, or set {section}.bucket"
            )

    def _in_the_region(self) -> None:
        """A role must be in the region's partition (aws, aws-cn, ...), a KMS key also in the region itself."""
        region = self.project.region
        partition = checks.sagemaker_regions()[region]
        role, key = self.iam.execution_role_arn, self.data_capture.kms_key_id
        topic = self.alerts.topic_arn
        if topic and checks.arn_location(topic) != (partition, region):
            raise ValueError(
                f"alerts.topic_arn: the topic is in {checks.arn_region(topic)} ({checks.arn_partition(topic)}); "
                f"CloudWatch alarms notify topics of their own region, project.region {region} ({partition})"
            )
        if role and checks.arn_partition(role) != partition:
            raise ValueError(
                f"iam.execution_role_arn: the role is in the {checks.arn_partition(role)} partition, "
                f"but project.region {region} is in {partition}"
            )
        if key and key.startswith("arn:") and checks.arn_location(key) != (partition, region):
            raise ValueError(
                f"data_capture.kms_key_id: the key is in {checks.arn_region(key)} "
                f"({checks.arn_partition(key)}), but S3 and SageMaker use KMS keys of their own region, "
                f"project.region {region} ({partition})"
            )

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
        raise ConfigError(_describe(error), where=source) from error


# A config with hundreds of mistakes (say, a list of 500 bad origins) still gets a readable line.
MOST_PROBLEMS_SHOWN = 5


def _describe(error: ValidationError) -> str:
    lines = []
    problems = error.errors(include_url=False, include_input=False)
    for problem in problems[:MOST_PROBLEMS_SHOWN]:
        location = key_path(problem["loc"])
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = f"unknown key; allowed here: {', '.join(_allowed_keys(problem['loc'][:-1]))}"
        lines.append(f"{location}: {message}" if location else message)
    if len(problems) > MOST_PROBLEMS_SHOWN:
        lines.append(f"and {len(problems) - MOST_PROBLEMS_SHOWN} more")
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
