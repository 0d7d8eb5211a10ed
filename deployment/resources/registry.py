"""The SageMaker Model Registry: one Model Package Group per project, and a version per model a
stage runs (its inference image digest and content-addressed artifact).

Both outlive the stages that register into them: the group is the project's history and a version
is the record of what ran, so neither is ever deleted (`destroy` leaves them). A version is made
after the endpoint is in service on its model (`PendingManualApproval`), and an identical model
(same image digest, same artifact, same environment) is recorded once: its identity is a hash kept
in the version's metadata. A version also records the git commit and pull request, and a measured
model's accuracy (deployment/metrics.py): as ModelMetrics, a statistics document in S3 next to the
artifact, and its headline numbers in the metadata, which `python -m deployment models` lists.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from deployment.naming import content_hash
from deployment.resources.base import Action, Kind, Phase, Run, Standalone

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

PENDING = "PendingManualApproval"
APPROVED = "Approved"  # what production ran and passed (deployment/promotion.py)
IDENTITY = "pose:model"  # the metadata key holding a version's identity hash
STAGE = "pose:stage"  # ...the stage that registered it
COMMIT = "commit"  # ...the git commit deployed ("unknown" when not given)
PULL_REQUEST = "pull_request"  # ...its pull request's number (absent when none: values cannot be empty)
TORSO_PCK = "torso_pck"  # ...PCK@0.2 by torso size, when the model was measured
BBOX_PCK = "bbox_pck"  # ...and by bbox diagonal
METRICS_CONTENT_TYPE = "application/json"  # ModelMetrics' statistics document
CONTENT_TYPES = ("image/jpeg", "image/png", "application/json", "application/x-image")


@dataclass(frozen=True)
class ModelGroup:
    name: str  # the project's name
    description: str


@dataclass(frozen=True)
class ModelVersion:
    group: str
    identity: str  # content_hash of what makes the model itself: image digest, artifact content, environment
    image_uri: str = field(compare=False)
    model_data_url: str = field(compare=False)
    environment: tuple[tuple[str, str], ...] = field(compare=False)
    instance_type: str | None = field(compare=False)
    metadata: tuple[tuple[str, str], ...] = field(default=(), compare=False)  # model, commit, stage...
    # Read back:
    arn: str = field(default="", compare=False)
    version: int = field(default=0, compare=False)
    status: str = field(default="", compare=False)
    created: str = field(default="", compare=False)
    # ModelMetrics.ModelQuality.Statistics: the statistics document's S3 URI and sha256 ("" without).
    # Not identity: a model measured again is the same model.
    metrics_uri: str = field(default="", compare=False)
    metrics_sha256: str = field(default="", compare=False)
    note: str = field(default="", compare=False)  # what the plan says of it (its metrics, or why none)

    @property
    def name(self) -> str:
        return self.identity

    @property
    def pull_request(self) -> str:
        return dict(self.metadata).get(PULL_REQUEST, "")


def with_notes(actions: list[Action]) -> list[Action]:
    """The plan's registrations, each saying what metrics the version gets, or why it gets none."""
    return [
        (
            replace(action, reason=action.target.note)
            if action.kind == Kind.MODEL_VERSION
            and isinstance(action.target, ModelVersion)
            and action.mutates
            else action
        )
        for action in actions
    ]


def identity_of(image_uri: str, artifact_sha256: str, environment: tuple[tuple[str, str], ...]) -> str:
    """The same for every stage that runs the same model (its artifact's copies differ only in place)."""
    return content_hash({"image": image_uri, "artifact": artifact_sha256, "environment": environment}, 16)


def artifact_key_part(model_data_url: str) -> str:
    """The content-addressed folder of an artifact's S3 key (`.../{sha256[:16]}/model.tar.gz`)."""
    parts = model_data_url.rstrip("/").split("/")
    return parts[-2] if len(parts) >= 2 else model_data_url


class ModelGroupResource(Standalone):
    kind = Kind.MODEL_GROUP
    phase = Phase.AFTER_ENDPOINT

    def desired(self, config: Config, names: Names) -> tuple[ModelGroup, ...]:
        name = config.project.name
        return (
            ModelGroup(name, f"Pose-estimation models of project {name}, one version per model a stage ran"),
        )

    def read(self, aws: Aws, lookup: Lookup) -> tuple[ModelGroup, ...]:
        found = aws.sagemaker.read_model_group(lookup.names.prefix.split("-", 1)[0])
        return (found,) if found else ()

    def create(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.create_model_group(action.target)

    def update(self, run: Run, action: Action) -> None:
        run.report(f"  {action.name}: a model group's description is kept as it was made")

    def removable(self, resource: ModelGroup) -> bool:
        return False  # the project's history, shared by every stage


class ModelVersionResource(Standalone):
    kind = Kind.MODEL_VERSION
    phase = Phase.AFTER_ENDPOINT  # recorded once the endpoint is in service on it

    def desired(self, config: Config, names: Names) -> tuple[ModelVersion, ...]:
        return ()  # made by state.py from the model it deploys (see `version_of`)

    def read(self, aws: Aws, lookup: Lookup) -> tuple[ModelVersion, ...]:
        return aws.sagemaker.model_versions(lookup.names.prefix.split("-", 1)[0])

    def create(self, run: Run, action: Action) -> None:
        created = run.aws.sagemaker.create_model_version(action.target)
        note = f"; {action.target.note}" if action.target.note else ""
        run.report(f"  registered {created} ({PENDING}){note}")

    def removable(self, resource: ModelVersion) -> bool:
        return False  # the record of what ran


RESOURCES = (ModelGroupResource(), ModelVersionResource())
