"""IAM and STS: who we are, and the roles the engine owns (SageMaker execution, the API's Lambda)."""

from __future__ import annotations

import json
from urllib.parse import unquote

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found, tag_list
from deployment.errors import DeploymentError
from deployment.policies import LAMBDA, SAGEMAKER, canonical, trust_policy
from deployment.resources.role import Role

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
            found = self.iam.get_role(RoleName=name)["Role"]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        boundary = found.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn", "")
        try:
            document = self.iam.get_role_policy(RoleName=name, PolicyName=POLICY_NAME)["PolicyDocument"]
        except ClientError as error:
            if not is_not_found(error):
                raise
            document = {}
        if isinstance(document, str):  # the raw API returns it URL-encoded
            document = json.loads(unquote(document))
        return Role(name, found["Arn"], canonical(document), service, boundary)

    def create_role(self, role: Role, tags: tuple[tuple[str, str], ...]) -> None:
        request = {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(trust_policy(role.service)),
            "Description": DESCRIPTIONS[role.service],
            "Tags": tag_list(tags),
        }
        if role.boundary:
            request["PermissionsBoundary"] = role.boundary
        try:
            self.iam.create_role(**request)
        except ClientError as error:
            if role.boundary and is_not_found(error):
                raise _missing_boundary(role) from error
            raise
        self.put_policy(role)

    def put_policy(self, role: Role) -> None:
        """The inline policy, under the boundary: set first, as a role made before boundaries
        existed may not be given a policy (the deploy role may only edit bounded roles)."""
        if role.boundary:
            self.iam.put_role_permissions_boundary(RoleName=role.name, PermissionsBoundary=role.boundary)
        self.iam.put_role_policy(RoleName=role.name, PolicyName=POLICY_NAME, PolicyDocument=role.policy)

    def delete_role(self, name: str) -> None:
        for policy in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
            self.iam.delete_role_policy(RoleName=name, PolicyName=policy)
        self.iam.delete_role(RoleName=name)


def _missing_boundary(role: Role) -> DeploymentError:
    return DeploymentError(
        "the permissions boundary every engine-made role carries does not exist yet",
        where=role.boundary,
        hint="an administrator creates it once: python -m deployment iam-policy --boundary > boundary.json && "
        f"aws iam create-policy --policy-name {role.boundary.rsplit('/', 1)[-1]} "
        "--policy-document file://boundary.json",
    )
