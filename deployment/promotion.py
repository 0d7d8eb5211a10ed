"""Promotion and rollback: a registry version is `Approved` once a stage ran it and kept it.

`deploy --approve` (the production workflow) approves the versions of the model it has just put in
service. A rolled-back or failed update raises before that, so its version keeps its status.
`rollback` moves a stage back to the approved version before the one it runs: that version's image
digest, artifact and environment, with the stage's own endpoint settings, blue/green like any
update. Nothing is rebuilt: the artifact must still be in the stage's bucket (content-addressed, and
a deploy never deletes one), and the model and endpoint config kept for rollback are used again.
A multi-model stage goes back to the newest earlier set it ran whose every model is approved, found
from the endpoint configs kept for rollback (deployment/model_sets.py says why not the registry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from deployment.deployer import Plan
from deployment.errors import DeploymentError, error_code
from deployment.model_sets import ModelSet, stage_sets
from deployment.multi_model import PackagedModel
from deployment.planner import plan
from deployment.remote import read_remote_state
from deployment.resources.base import Action, Kind, Verb
from deployment.resources.model import Model
from deployment.resources.registry import APPROVED, ModelVersion, artifact_key_part
from deployment.state import DesiredState, Inputs, desired_state

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

MODELS = "python -m deployment models lists the versions and their status"
# What a rollback changes: the model and endpoint config it needs (made again if cleaned up), the
# endpoint's blue/green update, and autoscaling paused around it. Nothing else of the stage.
ROLLBACK_KINDS = frozenset({Kind.MODEL, Kind.ENDPOINT_CONFIG, Kind.ENDPOINT, Kind.AUTOSCALING})


@dataclass(frozen=True)
class Rollback:
    prefix: str  # the stage's `{name}-{stage}`
    running: str  # what the endpoint runs now: a version (`describe`), or a set of them
    target: str  # what it runs once rolled back
    versions: tuple[int, ...]  # the target's registry versions
    plan: Plan
    passed_over: tuple[str, ...] = ()  # the earlier sets not approved, each with why

    def headline(self) -> str:
        return f"rollback {self.prefix}: {self.running} -> {self.target}"

    def done(self) -> str:
        return f"rolled back {self.prefix}: its endpoint runs {self.target}"


def describe(version: ModelVersion | None) -> str:
    """`version 3 (blazepose-heavy, commit 0123456789ab, Approved)`, the way `models` shows one."""
    if version is None:
        return "a model the registry does not hold"
    metadata = dict(version.metadata)
    commit = metadata.get("commit", "?")[:12]
    return f"version {version.version} ({metadata.get('model', '?')}, commit {commit}, {version.status})"


def approve(aws: Aws, deployed: ModelVersion, stage: str, report: Callable[[str], None]) -> ModelVersion:
    """Mark the registry version of a model just put in service `Approved` (found by identity: the
    deploy registered it, or an earlier stage did)."""
    found = [v for v in aws.sagemaker.model_versions(deployed.group) if v.identity == deployed.identity]
    if not found:
        raise DeploymentError(
            "the model just deployed is no version of the registry, so there is nothing to approve",
            where=f"model registry {deployed.group}",
            hint=MODELS,
        )
    version = found[-1]
    if version.status == APPROVED:
        report(f"  {describe(version)}: already approved")
        return version
    try:
        aws.sagemaker.set_approval(version.arn, APPROVED, f"in service on stage {stage}")
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        raise DeploymentError(
            f"version {version.version} could not be approved ({error_code(error)}: {message})",
            where=f"model registry {deployed.group}",
            hint=f"it may have been deleted meanwhile; {MODELS}",
        ) from error
    approved = replace(version, status=APPROVED)
    report(f"  approved {describe(approved)}")
    return approved


def runs(version: ModelVersion, model: Model) -> bool:
    """Whether `model` is this version: same image digest, artifact content (its key's
    content-addressed folder, wherever the copy is) and environment."""
    return (
        version.image_uri == model.image_uri
        and artifact_key_part(version.model_data_url) == artifact_key_part(model.model_data_url)
        and version.environment == model.environment
    )


def previous_approved(
    group: str, versions: tuple[ModelVersion, ...], model: Model | None
) -> tuple[ModelVersion | None, ModelVersion]:
    """(the version the endpoint runs, the newest approved version older than it, not the same
    model); DeploymentError when there is none."""
    running = next((v for v in reversed(versions) if model is not None and runs(v, model)), None)
    candidates = [
        version
        for version in versions
        if version.status == APPROVED
        and (running is None or version.version < running.version)
        and not (model is not None and runs(version, model))
    ]
    if not candidates:
        raise DeploymentError(
            f"there is no approved version{f' before {describe(running)}' if running else ''} to roll back to",
            where=f"model registry {group}",
            hint=MODELS,
        )
    return running, candidates[-1]


def plan_rollback(config: Config, aws: Aws, names: Names, lookup: Callable[..., Lookup]) -> Rollback:
    """The actions that put the stage's endpoint on the previous approved version."""
    if config.endpoint.models:
        return plan_set_rollback(config, aws, names, lookup)
    model_name = aws.sagemaker.deployed_model(names.endpoint)
    if model_name is None:
        raise DeploymentError("no endpoint is deployed: nothing to roll back", where=names.endpoint)
    running_model = aws.sagemaker.describe_model(model_name)
    running, target = previous_approved(
        config.project.name, aws.sagemaker.model_versions(config.project.name), running_model
    )
    # The artifact's key is content-addressed by its sha256's first 16 digits: its folder.
    inputs = Inputs(target.image_uri, "", "", artifact_key_part(target.model_data_url))
    desired = desired_state(_running(config, target), inputs, names.account_id)
    if not aws.storage.artifact_exists(desired.artifact):
        raise DeploymentError(
            f"the artifact of version {target.version} is not in this stage's bucket "
            f"({desired.artifact.s3_uri}), and a rollback never rebuilds it",
            where=names.endpoint,
            hint="deploy that model again with `deploy --model-artifact` and its image",
        )
    planned = rollback_plan(aws, desired, lookup)
    return Rollback(names.prefix, describe(running), describe(target), (target.version,), planned)


def rollback_plan(aws: Aws, desired: DesiredState, lookup: Callable[..., Lookup]) -> Plan:
    """Of the plan to `desired`, what a rollback changes (the rest of the stage stays as it is)."""
    remote = read_remote_state(aws, lookup(desired.names))
    return Plan(desired, [action for action in plan(desired, remote) if _rolls_back(action)])


def _rolls_back(action: Action) -> bool:
    if action.kind in (Kind.MODEL, Kind.ENDPOINT_CONFIG):
        return action.verb in (Verb.CREATE, Verb.UNCHANGED)  # old ones stay until the next deploy
    return action.kind in ROLLBACK_KINDS


def _running(config: Config, version: ModelVersion) -> Config:
    """config.yml with the version's environment in place of the one it gives the model (which
    includes `model.max_people`), so the model is the version's exactly."""
    endpoint = config.endpoint.model_copy(update={"environment": dict(version.environment)})
    model = config.model.model_copy(update={"max_people": None})
    return config.model_copy(update={"endpoint": endpoint, "model": model})


def plan_set_rollback(config: Config, aws: Aws, names: Names, lookup: Callable[..., Lookup]) -> Rollback:
    """The actions that put a multi-model stage's endpoint on the newest earlier set it ran whose
    every model is approved; the sets passed over say why."""
    endpoint = aws.sagemaker.describe_endpoint(names.endpoint)
    if endpoint is None:
        raise DeploymentError("no endpoint is deployed: nothing to roll back", where=names.endpoint)
    sets = stage_sets(aws, names, config.project.name, endpoint.config_name)
    passed_over = []
    for earlier in sets.earlier:
        if earlier.missing:
            raise DeploymentError(
                f"the set of {earlier.config_name} needs {', '.join(earlier.missing)}, which is no longer "
                "in this stage's bucket, and a rollback never rebuilds or uploads",
                where=names.endpoint,
                hint="deploy that set again with `deploy` and its image",
            )
        if earlier.approved:
            desired = desired_state(_running_set(config, earlier), _set_inputs(earlier), names.account_id)
            _check_artifacts(aws, desired, names.endpoint)
            planned = rollback_plan(aws, desired, lookup)
            running = sets.running.describe() if sets.running else "a model that is not a set of this stage"
            versions = tuple(member.version.version for member in earlier.members if member.version)
            return Rollback(names.prefix, running, earlier.describe(), versions, planned, tuple(passed_over))
        passed_over.append(
            f"passed over the set of {earlier.config_name}: not approved: {earlier.unapproved()}"
        )
    raise DeploymentError(
        (
            f"none of the {len(sets.earlier)} earlier sets kept for rollback has every model approved, "
            f"so there is no set to roll back to ({'; '.join(passed_over)})"
            if sets.earlier
            else "there is no earlier set to roll back to: no endpoint config kept for rollback holds another"
        ),
        where=names.endpoint,
        hint=f"update.keep_previous sets how many earlier sets are kept; {MODELS}",
    )


def _running_set(config: Config, earlier: ModelSet) -> Config:
    """config.yml serving the earlier set: its models (the default first) and their environment."""
    served = tuple(member.name for member in earlier.members)
    update = {"environment": dict(earlier.environment), "models": served}
    endpoint = config.endpoint.model_copy(update=update)
    model = config.model.model_copy(update={"name": served[0], "max_people": None})
    return config.model_copy(update={"endpoint": endpoint, "model": model})


def _set_inputs(earlier: ModelSet) -> Inputs:
    """The set as a deploy packaged it: each artifact by its sha256 (nothing local: nothing uploads)."""
    models = tuple(PackagedModel(member.name, "", member.sha256 or "") for member in earlier.members)
    return Inputs(earlier.model.image_uri, "", "", models[0].sha256, models=models)


def _check_artifacts(aws: Aws, desired: DesiredState, endpoint: str) -> None:
    """The set's prefix as config.yml names it must hold every model (s3.model_prefix may have moved)."""
    missing = [artifact.s3_uri for artifact in desired.artifacts if not aws.storage.artifact_exists(artifact)]
    if missing:
        raise DeploymentError(
            f"{', '.join(missing)} is not in this stage's bucket, and a rollback never rebuilds or uploads",
            where=endpoint,
            hint="deploy that set again with `deploy` and its image",
        )
