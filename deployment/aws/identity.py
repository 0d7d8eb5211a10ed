"""IAM and STS: who we are, and the roles the engine owns (SageMaker execution, the API's Lambda)."""

from __future__ import annotations

import json
from urllib.parse import unquote

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found, tag_list
from deployment.policies import LAMBDA, SAGEMAKER, canonical, trust_policy
from deployment.roles import Role

POLICY_NAME = "execution"
DESCRIPTIONS = {
    SAGEMAKER: "SageMaker execution role of a pose-estimation deployment",
    LAMBDA: "Role of the Lambda behind a pose-estimation deployment's HTTP API",
}


class Identity:
    def __init__(self, iam, sts) -> None:
        self.iam = iam
        self.sts = sts

    def account_id(self) -> str:
        return self.sts.get_caller_identity()["Account"]

    def read_role(self, name: str, service: str = SAGEMAKER) -> Role | None:
        try:
            arn = self.iam.get_role(RoleName=name)["Role"]["Arn"]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        try:
            document = self.iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            document = {}
        if isinstance(document, str):  # the raw API returns it URL-encoded
            document = json.loads(unquote(document))
        return Role(name, arn, canonical(document), service)

    def create_role(self, role: Role, tags: tuple[tuple[str, str], ...]) -> None:
        self.iam.create_role(
            RoleName=role.name,
            AssumeRolePolicyDocument=json.dumps(trust_policy(role.service)),
            Description=DESCRIPTIONS[role.service],
            Tags=tag_list(tags),
        )
        self.put_policy(role)

    def put_policy(self, role: Role) -> None:
        self.iam.put_role_policy(RoleName=role.name, PolicyName=POLICY_NAME, PolicyDocument=role.policy)

    def delete_role(self, name: str) -> None:
        for policy in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
            self.iam.delete_role_policy(RoleName=name, PolicyName=policy)
        self.iam.delete_role(RoleName=name)
