"""A multi-model endpoint (config.yml's `endpoint.models`): what differs from a single-model one.

SageMaker loads a multi-model endpoint's models from one S3 prefix (the Model's `ModelDataUrl`, in
`Mode: MultiModel`), each `{name}.tar.gz` there, and a request names its model (`TargetModel`).
The prefix is named by a hash of the set (each name with its artifact's sha256): a changed set is a
new prefix, so a new Model and a blue/green update, like a changed artifact on a single-model one.
https://docs.aws.amazon.com/sagemaker/latest/dg/create-multi-model-endpoint.html
"""

from __future__ import annotations

from dataclasses import dataclass

from deployment.naming import content_hash
from deployment.resources.artifact import Artifact

MULTI_MODEL = "MultiModel"  # CreateModel's PrimaryContainer.Mode
# The models served, the default first, comma-separated: for the container and the API's Lambda.
MODELS_VARIABLE = "POSE_MODELS"
# What the container starts in multi-model mode by (inference/__main__.py). SageMaker is said to set it
# on a multi-model endpoint; set here too, so the container never depends on that.
MULTI_MODEL_VARIABLE = "SAGEMAKER_MULTI_MODEL"
ARTIFACT_SUFFIX = ".tar.gz"
# Model Monitor's own analyses do not cover multi-model endpoints; ours reads the captures itself.
# https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor.html
MONITOR_NOTE = (
    "on a multi-model endpoint: AWS's Model Monitor docs say it does not support monitoring multi-model "
    "endpoints; this schedule runs the project's own image over the captures, unconfirmed on a real account"
)


@dataclass(frozen=True)
class PackagedModel:
    """One catalog model packaged for a multi-model endpoint (the same layout as a single artifact)."""

    name: str
    path: str
    sha256: str


def target_model(name: str) -> str:
    """What InvokeEndpoint's TargetModel names: the artifact's key relative to the Model's prefix."""
    return f"{name}{ARTIFACT_SUFFIX}"


def models_value(names: tuple[str, ...]) -> str:
    return ",".join(names)


def container_environment(environment: tuple[tuple[str, str], ...], served: tuple[str, ...]) -> tuple:
    """A single model's environment for the container, plus multi-model mode and the models served."""
    variables = {**dict(environment), MULTI_MODEL_VARIABLE: "true", MODELS_VARIABLE: models_value(served)}
    return tuple(sorted(variables.items()))


def served_by(
    environment: tuple[tuple[str, str], ...],
) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """A multi-model Model's environment read back: (each model's own environment, the models it
    serves, the default first); the inverse of `container_environment`."""
    variables = dict(environment)
    served = tuple(name for name in variables.pop(MODELS_VARIABLE, "").split(",") if name)
    variables.pop(MULTI_MODEL_VARIABLE, None)
    return tuple(sorted(variables.items())), served


def model_set_prefix(model_prefix: str, packaged: tuple[PackagedModel, ...]) -> str:
    """`{model_prefix}/multi/{hash of the set}/`: the trailing '/' is how SageMaker reads a prefix."""
    members = sorted((model.name, model.sha256) for model in packaged)
    return f"{model_prefix}/multi/{content_hash(members, 16)}/"


def model_artifacts(bucket: str, prefix: str, packaged: tuple[PackagedModel, ...]) -> tuple[Artifact, ...]:
    return tuple(
        Artifact(bucket, f"{prefix}{target_model(model.name)}", model.sha256, model.path)
        for model in packaged
    )


def runs(running: tuple[str, str], image_uri: str, artifact_uri: str) -> bool:
    """Whether a Model's (image, ModelDataUrl) runs this artifact: it is the artifact itself, or the
    prefix of a multi-model endpoint holding it."""
    image, data_url = running
    if image != image_uri:
        return False
    inside = data_url.endswith("/") and artifact_uri.startswith(data_url)
    return data_url == artifact_uri or (inside and "/" not in artifact_uri[len(data_url) :])
