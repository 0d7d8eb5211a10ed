"""The sets of models a multi-model stage ran, read back so `rollback` can return to one.

The registry cannot say what a set was: it holds one version per model, and an identical model is
registered once, by whichever stage or set ran it first, so no version records the set it ran in nor
which model was the default. The stage's own endpoint configs do: the newest `update.keep_previous`
of them are kept for rollback, each naming a Model whose ModelDataUrl is its set's prefix and whose
POSE_MODELS lists the set, the default first. Each `{name}.tar.gz` under that prefix carries the
sha256 it was uploaded with (S3 metadata); with the image and the model's own environment that is
its registry identity, hence its version and status. So the sets a rollback can go back to are the
kept configs' sets first deployed before the running one (by their Models' creation: a config a
rollback remade still serves the older set): as far back as `keep_previous` reaches.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from deployment.multi_model import ARTIFACT_SUFFIX, served_by
from deployment.resources.model import Model
from deployment.resources.registry import APPROVED, ModelVersion, identity_of

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.naming import Names


@dataclass(frozen=True)
class Member:
    """One model of a set: its artifact, the sha256 it was uploaded with, its registry version."""

    name: str
    artifact_uri: str
    sha256: str | None  # None: the artifact is gone
    version: ModelVersion | None  # None: no version records this model

    def describe(self) -> str:
        if self.version is None:
            return f"{self.name} (a model the registry does not hold)"
        commit = dict(self.version.metadata).get("commit", "?")[:12]
        return f"{self.name} version {self.version.version} (commit {commit}, {self.version.status})"


@dataclass(frozen=True)
class ModelSet:
    """What one endpoint config of the stage served: its Model, and each model with its version."""

    config_name: str
    created: datetime
    model: Model
    environment: tuple[tuple[str, str], ...]  # each model's own: the Model's, without the set's variables
    members: tuple[Member, ...]  # the default first

    @property
    def first_served(self) -> datetime:
        """When the set was first deployed: its Model's creation (content-addressed, so reused by a
        later config of the same set, or by a rollback to it), else its config's."""
        return self.model.created or self.created

    @property
    def approved(self) -> bool:
        return all(m.version is not None and m.version.status == APPROVED for m in self.members)

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(member.artifact_uri for member in self.members if member.sha256 is None)

    def unapproved(self) -> str:
        """Why a rollback passes over this set: its models not approved."""
        return ", ".join(
            m.describe() for m in self.members if m.version is None or m.version.status != APPROVED
        )

    def describe(self) -> str:
        return f"set [{', '.join(member.describe() for member in self.members)}]"

    def same_model(self, other: ModelSet) -> bool:
        ours, theirs = self.model, other.model
        return (ours.image_uri, ours.model_data_url, ours.environment) == (
            theirs.image_uri,
            theirs.model_data_url,
            theirs.environment,
        )


@dataclass(frozen=True)
class StageSets:
    running: ModelSet | None  # None: the endpoint's model is gone or is not a multi-model one
    earlier: tuple[ModelSet, ...]  # the kept configs' sets older than the running one, newest first


def stage_sets(aws: Aws, names: Names, project: str, config_name: str) -> StageSets:
    """The set on `config_name` (the endpoint's) and the earlier ones its kept configs hold."""
    newest = {version.identity: version for version in aws.sagemaker.model_versions(project)}
    configs = sorted(aws.sagemaker.endpoint_configs(names), key=lambda c: c.created, reverse=True)
    in_use = next((config for config in configs if config.name == config_name), None)
    running = None
    if in_use is not None:
        running = _read_set(aws, in_use.name, in_use.created, in_use.model_name, newest)
    earlier = []
    for config in configs:
        if config.name == config_name:
            continue
        found = _read_set(aws, config.name, config.created, config.model_name, newest)
        if found is None or (running is not None and found.same_model(running)):
            continue
        # Newer than the running set: one an update was rolled back from (never in service), or the
        # set a rollback left (its config remade if the endpoint's settings changed meanwhile).
        if running is not None and found.first_served >= running.first_served:
            continue
        earlier.append(found)
    return StageSets(running, tuple(sorted(earlier, key=lambda found: found.first_served, reverse=True)))


def _read_set(
    aws: Aws, config_name: str, created: datetime, model_name: str, versions: dict[str, ModelVersion]
) -> ModelSet | None:
    model = aws.sagemaker.describe_model(model_name)
    if model is None or not model.multi_model:
        return None  # a cleaned-up model, or a single-model one from before the stage had a set
    environment, served = served_by(model.environment)
    members = []
    for name in served:
        uri = f"{model.model_data_url}{name}{ARTIFACT_SUFFIX}"
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        sha256 = aws.storage.artifact_sha256(bucket, key)
        version = versions.get(identity_of(model.image_uri, sha256, environment)) if sha256 else None
        members.append(Member(name, uri, sha256, version))
    return ModelSet(config_name, created, model, environment, tuple(members))
