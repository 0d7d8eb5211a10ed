"""The IAM roles the engine creates: the SageMaker execution role and the API's Lambda role."""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.policies import SAGEMAKER


@dataclass(frozen=True)
class Role:
    name: str
    arn: str
    policy: str  # canonical JSON of the inline policy
    # Who assumes it (its trust policy); fixed per role name, so not compared.
    service: str = field(default=SAGEMAKER, compare=False)
