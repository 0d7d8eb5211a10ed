"""Rules across config.yml's sections: each value is fine alone, the combination is impossible.

Apart from `deployment.config`'s per-section schema so it reads as one list, checked in order by
`check_combinations` from the `Config` model's only validator; each raises ValueError whose text
starts with the key path to change, since a whole-model error carries no location of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deployment import config_checks as checks
from inference.settings import MAX_PEOPLE_ENV

if TYPE_CHECKING:
    from deployment.config import Config


def check_combinations(config: Config) -> None:
    """Every cross-section rule, in the order its error is reported (the first broken one wins)."""
    multi_model(config)
    serverless(config)
    if config.monitoring.enabled and not (config.data_capture.enabled and config.data_capture.capture_output):
        raise ValueError(
            "monitoring.enabled: the monitor reads captured responses; enable data_capture output"
        )
    if config.model.max_people is not None and MAX_PEOPLE_ENV in config.endpoint.environment:
        raise ValueError(
            f"endpoint.environment: {MAX_PEOPLE_ENV} is also set by model.max_people; keep one of the two"
        )
    # The API always has an endpoint to call (every deployment has one); the page needs the API.
    if config.webapp.enabled and not config.api.enabled:
        raise ValueError(
            "webapp.enabled: the web page calls the API; set api.enabled: true or webapp.enabled: false"
        )
    default_bucket_fits(config, "s3", "", config.s3.bucket)
    if config.webapp.enabled:
        default_bucket_fits(config, "webapp", "-web", config.webapp.bucket)
    in_the_region(config)
    upload_prefix_apart(config)


def multi_model(config: Config) -> None:
    """endpoint.models: catalog models only, the default among them, on instances, named per request."""
    models = config.endpoint.models
    if not models:
        return
    if config.model.path or config.model.url:
        raise ValueError(
            "endpoint.models: a model of your own (model.path or model.url) cannot be combined with "
            "endpoint.models in this version; list catalog models only, or remove endpoint.models"
        )
    if config.model.name not in models:
        raise ValueError(
            f"model.name: {config.model.name} is the default model, so it must be one of endpoint.models "
            f"({', '.join(models)}); add it there, or set model.name to one of them"
        )
    if config.endpoint.serverless:
        raise ValueError(
            "endpoint.serverless: SageMaker serverless endpoints cannot host several models "
            "(multi-model endpoints run on instances); remove serverless or endpoint.models"
        )
    if config.batch.drop_folder.enabled:
        raise ValueError(
            "batch.drop_folder.enabled: the drop folder calls the endpoint without naming a model, "
            "which a multi-model endpoint requires; disable it or remove endpoint.models"
        )


def serverless(config: Config) -> None:
    """A serverless endpoint has no data capture, no autoscaling and no instance metrics."""
    if not config.endpoint.serverless:
        return
    if config.data_capture.enabled:
        raise ValueError(
            "endpoint.serverless: SageMaker does not support data capture on serverless endpoints; "
            "set data_capture.enabled: false (and monitoring.enabled: false) or remove serverless"
        )
    if config.monitoring.enabled:
        raise ValueError("endpoint.serverless: monitoring needs data capture; set monitoring.enabled: false")
    if config.autoscaling.enabled:
        raise ValueError("endpoint.serverless: serverless endpoints scale themselves; disable autoscaling")
    instance_metrics = {
        "max_memory_percent": config.monitoring.max_memory_percent,
        "max_cpu_percent_per_core": config.monitoring.max_cpu_percent_per_core,
    }
    for key, threshold in instance_metrics.items():
        if threshold is not None:
            raise ValueError(
                f"monitoring.{key}: serverless endpoints report no instance CPU or memory; remove it"
            )


def default_bucket_fits(config: Config, section: str, suffix: str, bucket: str | None) -> None:
    """A bucket left to its default name needs that name, with any 12-digit account id, to be valid."""
    if bucket:
        return
    default = f"{config.prefix}-<account id>-{config.project.region}{suffix}"
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


def in_the_region(config: Config) -> None:
    """A role must be in the region's partition (aws, aws-cn, ...), a KMS key also in the region itself."""
    region = config.project.region
    partition = checks.sagemaker_regions()[region]
    role, key = config.iam.execution_role_arn, config.data_capture.kms_key_id
    topic = config.alerts.topic_arn
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


def upload_prefix_apart(config: Config) -> None:
    """S3 refuses two notifications on overlapping prefixes, and an upload must not be a capture."""
    upload = config.registry.upload_prefix
    if upload is None:
        return
    others = {"s3.model_prefix": config.s3.model_prefix, "s3.capture_prefix": config.s3.capture_prefix}
    others |= {"s3.reports_prefix": config.s3.reports_prefix, "the drop folder's inbox": "inbox"}
    others |= {"the drop folder's outbox": "outbox", "the drop folder's failed": "failed"}
    for key, prefix in others.items():
        for ours in (upload, f"{upload}-rejected"):  # the folder, and where bad uploads go
            if f"{ours}/".startswith(f"{prefix}/") or f"{prefix}/".startswith(f"{ours}/"):
                raise ValueError(
                    f"registry.upload_prefix: {ours!r} overlaps {key} ({prefix!r}); choose a folder of its own"
                )
