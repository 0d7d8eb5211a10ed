"""IAM roles the engine creates: the SageMaker execution role and the API's Lambda role."""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.policies import SAGEMAKER
from deployment.resources.base import Action, Kind, Resource, Run, TagService


def boundary_arn(project: str, account_id: str) -> str:
    """The permissions boundary every role the engine makes carries; created once at setup
    (`python -m deployment iam-policy --boundary`), never by the deploy role."""
    return f"arn:aws:iam::{account_id}:policy/{project}-role-boundary"


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    policy: str  # canonical JSON of the inline policy
    # Who assumes it (its trust policy); fixed per role name, so not compared.
    service: str = field(default=SAGEMAKER, compare=False)
    # The managed policy capping what the role may ever do; compared, so a role made before
    # boundaries existed is updated to carry one.
    boundary: str = ""


class RoleResource(Resource):
    kind = Kind.ROLE
    tag_service = TagService.IAM

    def create(self, run: Run, action: Action) -> None:
        run.aws.identity.create_role(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.identity.put_policy(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.identity.delete_role(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return name  # IAM tags a role by its name


RESOURCES = (RoleResource(),)
