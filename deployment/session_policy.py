"""The STS session policy of one CI run: the deploy role's permissions, narrowed to one stage.

One deploy role serves every stage, so a run for `pr-42` must not reach `pr-4`'s or `dev`'s
resources. The workflow passes this policy to `aws-actions/configure-aws-credentials`
(`inline-session-policy`); the run then holds the intersection of the role's policy and this one.
A session policy grants nothing by itself, so it names resources, not actions: exact names where
the name carries the stage, the deployment tag where it cannot (HTTP APIs, scalable targets).
"""

from __future__ import annotations

import json

from deployment.config import Config
from deployment.deploy_policy import check_isolation
from deployment.errors import ConfigError
from deployment.naming import PROJECT_TAG, Names, role_arn
from deployment.policies import kms_key_scope
from deployment.web_state import web_bucket_name

# STS refuses a session policy whose plain text exceeds 2,048 characters.
SESSION_POLICY_LIMIT = 2048
# Actions AWS does not scope to a resource (or only to ones SageMaker names itself).
# (sts:GetCallerIdentity needs no permission at all.)
UNSCOPED = [
    "ecr:GetAuthorizationToken",
    "sagemaker:List*",  # models, configs, executions, model packages, endpoints
    "sagemaker:DescribeProcessingJob",
    "cloudwatch:DescribeAlarms",
    "logs:DescribeLogGroups",
    "application-autoscaling:Describe*",
    "apigateway:GET",
    "iam:CreateServiceLinkedRole",
    # CloudFront reads, and origin access controls (untaggable, random ids; the role's policy says).
    "cloudfront:Get*",
    "cloudfront:List*",
    "cloudfront:*OriginAccessControl",
    # The two repositories are shared by every stage; the role's policy names them.
    "ecr:*",
]
# The services whose resources carry no stage in their names, only the deployment tag (KMS keys:
# the alerts topic's).
TAGGED = ["apigateway:*", "application-autoscaling:*", "cloudfront:*", "kms:*"]


def session_policy(config: Config, account_id: str) -> dict:
    check_isolation(config.project.name, config.project.stage)
    names = Names(config.prefix, account_id, config.project.region)
    deployment = names.prefix
    request, resource = f"aws:RequestTag/{PROJECT_TAG}", f"aws:ResourceTag/{PROJECT_TAG}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": UNSCOPED, "Resource": "*"},
            {"Effect": "Allow", "Action": "*", "Resource": stage_resources(config, names)},
            # Creating an HTTP API, or registering a scalable target, with this stage's tag; and
            # tagging (a new API stage, a target) only what is untagged or already this stage's.
            {
                "Effect": "Allow",
                "Action": TAGGED,
                "Resource": "*",
                "Condition": {
                    "StringEquals": {request: deployment},
                    "StringEqualsIfExists": {resource: deployment},
                },
            },
            # Everything else on APIs and targets: only those carrying this stage's tag.
            {
                "Effect": "Allow",
                "Action": TAGGED,
                "Resource": "*",
                "Condition": {"StringEquals": {resource: deployment}},
            },
        ],
    }


def stage_resources(config: Config, names: Names) -> list[str]:
    """Every resource of this stage that has a name, spelled out: never `{prefix}-*`, which for
    stage `pr` would also match stage `pr-4`'s `pose-pr-4-...`."""
    # The role's policy pins the account and region; `*` here keeps the policy under STS's limit.
    region, account = "*", "*"

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    bucket = names.bucket(config.s3.bucket)
    # A bucket shared between stages: only this stage's folder in it.
    objects = f"{bucket}/{names.prefix}/*" if config.s3.bucket else f"{bucket}/*"
    resources = [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{objects}"]
    if config.webapp.enabled:
        web = web_bucket_name(config, names)
        resources += [f"arn:aws:s3:::{web}", f"arn:aws:s3:::{web}/*"]
    # SageMaker's resource type is left `*`: each name below is one kind's, and saves STS characters.
    resources += [
        # The project's model registry (group `{project}`, versions `{project}/N`): every stage's.
        arn("sagemaker", f"model-package*/{config.project.name}*"),
        arn("sagemaker", f"*/{names.endpoint.lower()}"),  # the endpoint; lower-case in ARNs
        arn("sagemaker", f"*/{names.prefix}-model-*"),
        arn("sagemaker", f"*/{names.prefix}-config-*"),
        role_arn(account, names.execution_role),
        arn("cloudwatch", f"alarm:{names.error_alarm}"),
        arn("cloudwatch", f"alarm:{names.latency_alarm}"),
        # What watches the endpoint, named `{schedule}...`: the hourly schedule, `monitor --now`'s
        # `{schedule}-now`, the alerts, their topic, its subscriptions and key alias, the dashboard.
        f"arn:aws:*:*:*:*{names.monitoring_schedule}*",
        # The function (`...:function:NAME`), its role (`{function}-lambda`) and its log group with its
        # streams (`...:log-group:/aws/lambda/NAME:*`), the drop folder's too (`{function}-drop-folder`);
        # the role's policy keeps each to its service.
        f"arn:aws:*:*:*:*{names.function}*",
        # The registry's event functions, their roles, logs and the approval rule: `{stage}-registry-...`.
        f"arn:aws:*:*:*:*{names.prefix}-registry*",
    ]
    if config.iam.execution_role_arn:
        resources.append(config.iam.execution_role_arn)
    if config.data_capture.kms_key_id:
        resources.append(kms_key_scope(config.data_capture.kms_key_id, region, account)[0])
    return resources


def packed(document: dict) -> str:
    """The policy as STS counts it: JSON without any whitespace; refused past STS's limit."""
    text = json.dumps(document, separators=(",", ":"))
    if len(text) > SESSION_POLICY_LIMIT:
        raise ConfigError(
            f"the session policy has {len(text)} characters, over STS's {SESSION_POLICY_LIMIT}; "
            "shorten project.name, project.stage or the bucket and role names in config.yml",
            where="iam-policy --session",
        )
    return text
