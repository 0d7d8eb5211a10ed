"""The IAM roles the engine creates: the SageMaker execution role and the API's Lambda role."""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.policies import SAGEMAKER


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
