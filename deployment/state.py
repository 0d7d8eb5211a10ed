"""Desired state: what config.yml, the image digests and the model artifact ask AWS to hold.

Each resource is a frozen dataclass of its kind's module (deployment/resources/). The AWS layer
reads the live resource back into the same dataclass, so "does this need an update?" is plain
equality in the planner.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from deployment.api_state import ApiState, api_state
from deployment.config import Config
from deployment.errors import DeploymentError
from deployment.metrics import Quality, with_quality
from deployment.multi_model import (
    MONITOR_NOTE,
    PackagedModel,
    container_environment,
    model_artifacts,
    model_set_prefix,
)
from deployment.naming import Names, artifact_key, deployment_tags
from deployment.policies import canonical, execution_policy
from deployment.resources import REGISTRY
from deployment.resources.alarm import Alarm
from deployment.resources.alert import vcpus
from deployment.resources.artifact import Artifact
from deployment.resources.autoscaling import Autoscaling
from deployment.resources.base import Kind, Standalone
from deployment.resources.bucket import Bucket, capture_bucket
from deployment.resources.endpoint import Deployment, Endpoint
from deployment.resources.endpoint_config import Capture, EndpointConfig
from deployment.resources.model import Model
from deployment.resources.monitoring_schedule import Schedule
from deployment.resources.registry import COMMIT, PULL_REQUEST, STAGE, ModelVersion, identity_of
from deployment.resources.role import Role, boundary_arn
from deployment.web_state import WebState, web_state
from inference.settings import MAX_PEOPLE_ENV
from monitoring.contract import ResourceLimits, resource_environment, threshold_environment


@dataclass(frozen=True)
class Inputs:
    """What the build produced: images pinned by digest and the packaged model."""

    inference_image: str
    monitoring_image: str
    artifact_path: str
    artifact_sha256: str
    commit: str = ""  # the git commit deployed (GITHUB_SHA in CI), recorded in the model registry
    # A multi-model endpoint's models (config.served_models' order), each packaged; () for one model.
    models: tuple[PackagedModel, ...] = ()
    pull_request: str = ""  # its number, recorded in the model registry too ("" when none)
    # Each deployed model's measured accuracy, in the order of `models` (one for one model); () unknown.
    qualities: tuple[Quality, ...] = ()


@dataclass(frozen=True)
class DesiredState:
    names: Names
    tags: tuple[tuple[str, str], ...]
    bucket: Bucket
    role: Role | None  # None when config.iam names an existing role
    role_arn: str
    artifacts: tuple[Artifact, ...]  # one, or each model of a multi-model endpoint
    statistics: tuple[Artifact, ...]  # the model-quality statistics the registry versions name
    model: Model
    endpoint_config: EndpointConfig
    # The resources of each standalone kind (resources/base.py), e.g. the rollback alarms.
    standalone: dict[Kind, tuple]
    endpoint: Endpoint
    autoscaling: Autoscaling | None
    schedule: Schedule | None
    keep_previous: int
    api: ApiState | None = None  # None when api.enabled is false
    web: WebState | None = None  # None when webapp.enabled is false

    @property
    def alarms(self) -> tuple[Alarm, ...]:
        return self.standalone[Kind.ALARM]

    @property
    def artifact(self) -> Artifact:
        """The artifact of a single-model endpoint (of a multi-model one: the default model's)."""
        return self.artifacts[0]


def desired_state(config: Config, inputs: Inputs, account_id: str) -> DesiredState:
    names = Names(config.prefix, account_id, config.project.region)
    bucket_name = names.bucket(config.s3.bucket)
    root = names.prefix
    role = _role(config, names, bucket_name, root)
    role_arn = config.iam.execution_role_arn or role.arn
    artifacts = _artifacts(config, bucket_name, f"{root}/{config.s3.model_prefix}", inputs)
    model = _model(config, names, inputs, artifacts, role_arn)
    endpoint_config = _endpoint_config(
        config, names, model, f"s3://{bucket_name}/{root}/{config.s3.capture_prefix}"
    )
    standalone = {
        kind: handler.desired(config, names)
        for kind, handler in REGISTRY.items()
        if isinstance(handler, Standalone)
    }
    # The registry's version is of the model deployed here, which config alone does not know.
    versions = _model_versions(config, names, model, artifacts, inputs)
    qualities = inputs.qualities or (None,) * len(versions)
    measured = [with_quality(*each) for each in zip(versions, qualities, artifacts, strict=True)]
    standalone[Kind.MODEL_VERSION] = tuple(version for version, _ in measured)
    alarms = standalone[Kind.ALARM]
    return DesiredState(
        names=names,
        tags=deployment_tags(config.project.tags, names.prefix),
        bucket=capture_bucket(
            bucket_name,
            root,
            f"{root}/{config.s3.capture_prefix}/",
            config.data_capture.retention_days,
            config.data_capture.kms_key_id,
        ),
        role=role,
        role_arn=role_arn,
        artifacts=artifacts,
        statistics=tuple(statistics for _, statistics in measured if statistics),
        model=model,
        endpoint_config=endpoint_config,
        standalone=standalone,
        endpoint=Endpoint(
            names.endpoint,
            endpoint_config.name,
            _deployment(config, alarms),
            names.monitoring_schedule if config.monitoring.enabled else None,
        ),
        autoscaling=_autoscaling(config, names),
        schedule=_schedule(
            config, names, inputs, role_arn, f"s3://{bucket_name}/{root}/{config.s3.reports_prefix}"
        ),
        keep_previous=config.update.keep_previous,
        api=api_state(config, names),
        web=web_state(config, names),
    )


def _role(config: Config, names: Names, bucket: str, root: str) -> Role | None:
    if config.iam.execution_role_arn:
        return None
    name = names.execution_role
    key = config.data_capture.kms_key_id
    policy = canonical(execution_policy(bucket, root, names.region, names.account_id, key))
    boundary = boundary_arn(config.project.name, names.account_id)
    return Role(name, names.role_arn(name), policy, boundary=boundary)


def _artifacts(config: Config, bucket: str, model_prefix: str, inputs: Inputs) -> tuple[Artifact, ...]:
    """The one model.tar.gz, content-addressed; or each model's `{name}.tar.gz` under one prefix."""
    if config.endpoint.models:
        if tuple(model.name for model in inputs.models) != config.served_models:
            raise DeploymentError(
                f"a multi-model stage runs {', '.join(config.served_models)}, packaged together; "
                f"this run has {', '.join(m.name for m in inputs.models) or 'none of them'}",
                where="endpoint.models",
                hint="deploy the set again (python -m deployment deploy)",
            )
        return model_artifacts(bucket, model_set_prefix(model_prefix, inputs.models), inputs.models)
    key = artifact_key(model_prefix, inputs.artifact_sha256)
    return (Artifact(bucket, key, inputs.artifact_sha256, inputs.artifact_path),)


def _model(
    config: Config, names: Names, inputs: Inputs, artifacts: tuple[Artifact, ...], role_arn: str
) -> Model:
    environment = _environment(config)
    data_url = artifacts[0].s3_uri
    definition: tuple = (inputs.inference_image, data_url, role_arn, environment)
    if config.endpoint.models:
        # The container is told which models it serves, the default first (model.name).
        environment = container_environment(environment, config.served_models)
        data_url = artifacts[0].s3_uri.rsplit("/", 1)[0] + "/"
        definition = (inputs.inference_image, data_url, role_arn, environment, "MultiModel")
    name = names.model(definition)
    return Model(name, inputs.inference_image, data_url, role_arn, environment, bool(config.endpoint.models))


def _environment(config: Config) -> tuple[tuple[str, str], ...]:
    """The container's environment for serving one model: config.yml's, and max_people."""
    variables = dict(config.endpoint.environment)
    if config.model.max_people is not None:
        variables[MAX_PEOPLE_ENV] = str(config.model.max_people)
    return tuple(sorted(variables.items()))


def _model_versions(
    config: Config, names: Names, model: Model, artifacts: tuple[Artifact, ...], inputs: Inputs
) -> tuple[ModelVersion, ...]:
    """A registry version per model deployed: on a multi-model endpoint, one per model of the set,
    each as a single-model endpoint would run it (a model package has no multi-model mode), so a
    model is recorded once whichever kind of stage ran it first."""
    if not config.endpoint.models:
        return (_model_version(config, names, model, (_model_label(config), artifacts[0]), inputs),)
    single = replace(model, environment=_environment(config), multi_model=False)
    return tuple(
        _model_version(
            config,
            names,
            replace(single, model_data_url=artifact.s3_uri),
            (packaged.name, artifact),
            inputs,
        )
        for packaged, artifact in zip(inputs.models, artifacts, strict=True)
    )


def _model_version(
    config: Config, names: Names, model: Model, labelled: tuple[str, Artifact], inputs: Inputs
) -> ModelVersion:
    label, artifact = labelled
    metadata = {"model": label, STAGE: names.prefix, COMMIT: inputs.commit or "unknown"}
    if inputs.pull_request:
        metadata[PULL_REQUEST] = inputs.pull_request
    return ModelVersion(
        config.project.name,
        identity_of(model.image_uri, artifact.sha256, model.environment),
        model.image_uri,
        model.model_data_url,
        model.environment,
        None if config.endpoint.serverless else config.endpoint.instance_type,
        tuple(sorted(metadata.items())),
    )


def _model_label(config: Config) -> str:
    source = config.model.path or config.model.url
    return source.rsplit("/", 1)[-1] if source else config.model.name


def _endpoint_config(config: Config, names: Names, model: Model, capture_uri: str) -> EndpointConfig:
    capture_settings = config.data_capture
    capture = None
    if capture_settings.enabled:
        capture = Capture(
            capture_uri,
            capture_settings.sampling_percent,
            capture_settings.capture_input,
            capture_settings.capture_output,
            capture_settings.kms_key_id,
        )
    serverless = config.endpoint.serverless
    fields = {
        "model_name": model.name,
        "variant_name": config.endpoint.variant_name,
        "instance_type": None if serverless else config.endpoint.instance_type,
        "instance_count": None if serverless else config.endpoint.instance_count,
        "serverless_memory_mb": serverless.memory_mb if serverless else None,
        "serverless_max_concurrency": serverless.max_concurrency if serverless else None,
        "capture": capture,
    }
    return EndpointConfig(name=names.endpoint_config(fields), **fields)


def _deployment(config: Config, alarms: tuple[Alarm, ...]) -> Deployment:
    update = config.update
    return Deployment(
        update.strategy,
        update.step_percent,
        update.wait_seconds,
        update.termination_wait_seconds,
        update.max_execution_timeout_seconds,
        tuple(alarm.name for alarm in alarms),
    )


def _autoscaling(config: Config, names: Names) -> Autoscaling | None:
    scaling = config.autoscaling
    if not scaling.enabled:
        return None
    return Autoscaling(
        names.endpoint,
        config.endpoint.variant_name,
        scaling.min_instances,
        scaling.max_instances,
        scaling.target_invocations_per_instance,
    )


def _schedule(
    config: Config, names: Names, inputs: Inputs, role_arn: str, output_uri: str
) -> Schedule | None:
    monitoring = config.monitoring
    if not monitoring.enabled:
        return None
    environment = threshold_environment(monitoring.threshold_seconds, monitoring.p99_threshold_seconds)
    limits = ResourceLimits(
        monitoring.max_memory_percent, monitoring.max_cpu_percent_per_core, monitoring.max_error_percent
    )
    endpoint = config.endpoint
    cores = None if endpoint.serverless else vcpus(endpoint.instance_type)  # serverless: no instance metrics
    environment |= resource_environment(limits, endpoint.variant_name, cores)
    return Schedule(
        name=names.monitoring_schedule,
        endpoint_name=names.endpoint,
        image_uri=inputs.monitoring_image,
        role_arn=role_arn,
        expression=monitoring.schedule,
        environment=tuple(sorted(environment.items())),
        instance_type=monitoring.instance_type,
        volume_size_gb=monitoring.volume_size_gb,
        max_runtime_seconds=monitoring.max_runtime_seconds,
        output_s3_uri=output_uri,
        note=MONITOR_NOTE if config.endpoint.models else "",
    )
