"""The model artifact for config.model: fetched, verified and packaged by the inference catalog."""

from __future__ import annotations

from pathlib import Path

from deployment.config import Model
from deployment.errors import ConfigError, DeploymentError
from deployment.multi_model import PackagedModel
from inference import catalog
from inference.artifact import package
from inference.catalog import ModelFile, ModelSpec, UrlSource
from inference.errors import ModelError
from inference.fetch import fetch
from inference.manifest import Family, sha256_of


def model_spec(model: Model) -> ModelSpec:
    if model.url:
        name = Path(model.url.split("?")[0]).stem or "model"
        family = Family(model.family)
        return ModelSpec(
            name=name,
            family=family,
            version=model.sha256[:12],
            files=(ModelFile(family.main_role, f"{name}.tflite", model.sha256),),
            source=UrlSource(urls=(model.url,)),
        )
    try:
        return catalog.resolve(model.path or model.name, model.family)
    except ModelError as error:
        raise ConfigError(str(error), where="model") from error


def build_artifact(model: Model, output_dir: Path) -> tuple[Path, str]:
    """`model.tar.gz` for the configured model and its sha256 (the S3 key is derived from it)."""
    spec = model_spec(model)
    try:
        model_dir = fetch(spec)
    except ModelError as error:
        raise DeploymentError(str(error), where="model") from error
    path = package(model_dir, output_dir / f"{spec.name}-{spec.version}.tar.gz")
    return path, sha256_of(path)


def build_artifacts(names: tuple[str, ...], output_dir: Path) -> tuple[PackagedModel, ...]:
    """Each catalog model of a multi-model endpoint packaged on its own, as `build_artifact` does one."""
    packaged = []
    for name in names:
        path, sha256 = build_artifact(Model(name=name), output_dir)
        packaged.append(PackagedModel(name, str(path), sha256))
    return tuple(packaged)
