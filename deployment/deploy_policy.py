"""The GitHub Actions deploy role: its permissions policy and its OIDC trust policy (the
permissions boundary every role it creates must carry is boundary_policy.py's).

The role's policy bounds what any run may do to the project (`{project}-*` resources, the two ECR
repositories, tag-conditioned HTTP APIs and scalable targets); `session_policy.py` narrows each
run to one stage. Role creation is safe because `iam:CreateRole`, `iam:PutRolePolicy` and
`iam:PutRolePermissionsBoundary` are allowed only with `iam:PermissionsBoundary` equal to the
boundary printed by `--boundary`, which an administrator creates once and the role cannot edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from deployment.config import Config
from deployment.errors import ConfigError
from deployment.naming import PROJECT_TAG, role_arn
from deployment.policies import LAMBDA, SAGEMAKER, allow, ecr_repository_arns, kms_statement, pass_role
from deployment.resources import REGISTRY
from deployment.resources.base import TagService
from deployment.resources.role import boundary_arn

GITHUB_OIDC = "token.actions.githubusercontent.com"
# The GitHub Environments the workflows' credentialed jobs run in; the trust policy admits exactly
# these: `pull-request` for pull-request stages and the shared stage, `production` for any other.
ENVIRONMENTS = ("pull-request", "production")
# Names that end where they should: no project's `{project}-` begins another's, and no
# stage's `{project}-{stage}-{kind}` is another stage's name (kinds start with a letter; the
# only hyphen in a stage comes before a number, as in pr-42).
PROJECT_GRAMMAR = re.compile(r"[a-z0-9]{1,20}")
STAGE_GRAMMAR = re.compile(r"[a-z0-9]+(-[0-9]+)?")
AUTOSCALING = {
    "application-autoscaling:service-namespace": "sagemaker",
    "application-autoscaling:scalable-dimension": "sagemaker:variant:DesiredInstanceCount",
}
# SageMaker's ARN resource types are its kinds' names: every SageMaker-tagged kind of the registry.
SAGEMAKER_KINDS = tuple(
    str(k) for k, handler in REGISTRY.items() if handler.tag_service == TagService.SAGEMAKER
)
# Action families where the resource patterns below keep each to the project's own resources.
SAGEMAKER_ACTIONS = [
    "sagemaker:*Model",  # Create, Describe, Delete
    "sagemaker:*EndpointConfig",  # Create, Describe, Delete
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:DescribeEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:*MonitoringSchedule",  # Create, Update, Describe, Delete
    "sagemaker:*ModelPackage*",  # the project's registry: its group `{project}`, versions `{project}/N`
    "sagemaker:*TransformJob",  # `batch`: its jobs are named `{stage}-model-batch-...`
    "sagemaker:*Tags",  # Add, Delete, List
]
INVOKERS = ["apigateway.amazonaws.com", "s3.amazonaws.com", "events.amazonaws.com"]
LAMBDA_ACTIONS = [
    "lambda:CreateFunction",
    "lambda:GetFunction",
    "lambda:GetFunctionConfiguration",
    "lambda:UpdateFunctionCode",
    "lambda:UpdateFunctionConfiguration",
    "lambda:DeleteFunction",
    "lambda:RemovePermission",
    "lambda:GetPolicy",
    "lambda:*Tag*",  # Tag, Untag, List
]
# The registry's approval rule (registry.deploy_on_approval): Put, Describe, Delete; its targets; tags.
EVENTS_ACTIONS = ["events:*Rule", "events:*Targets*", "events:*Tag*"]


@dataclass(frozen=True)
class Project:
    """What the role-level documents depend on: the project, and the few settings naming
    resources outside `{project}-*` (a shared bucket, an existing execution role, a KMS key)."""

    name: str
    account_id: str
    region: str
    buckets: tuple[str, ...] = ()
    execution_role_arn: str | None = None
    kms_key_id: str | None = None

    @classmethod
    def of(cls, config: Config, account_id: str) -> Project:
        check_isolation(config.project.name)
        named = (config.s3.bucket, config.webapp.bucket)
        return cls(
            config.project.name,
            account_id,
            config.project.region,
            tuple(sorted({bucket for bucket in named if bucket})),
            config.iam.execution_role_arn,
            config.data_capture.kms_key_id,
        )


def check_isolation(project: str, stage: str | None = None) -> None:
    """Refuse names whose resource patterns could reach another project's or stage's."""
    if not PROJECT_GRAMMAR.fullmatch(project):
        raise ConfigError(
            f"{project!r}: the deploy role's policies need a project name of lowercase letters and "
            "digits (no '-'), so that no project's resources start with another's",
            where="project.name",
        )
    if stage is not None and not STAGE_GRAMMAR.fullmatch(stage):
        raise ConfigError(
            f"{stage!r}: a session policy needs a stage of letters and digits, with at most one '-' "
            "before a final number (dev, prod, pr-42), so that no stage's names start with another's",
            where="project.stage",
        )


def deploy_policy(project: Project) -> dict:
    """The deploy role's permissions: every stage of one project, nothing else in the account."""
    p, account, region = project.name, project.account_id, project.region

    def arn(service: str, resource: str) -> str:
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    buckets = [f"{p}-*", *project.buckets]
    statements = [
        allow("Identity", ["sts:GetCallerIdentity"], ["*"]),
        allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
        allow("EcrRepositories", ECR_PUSH_ACTIONS, ecr_repository_arns(region, account)),
        allow(
            "Buckets",
            [
                "s3:*Bucket*",
                "s3:ListBucketVersions",
                "s3:*Object",
                "s3:*ObjectVersion",
                "s3:*LifecycleConfiguration",
                "s3:*EncryptionConfiguration",
            ],
            [f"arn:aws:s3:::{name}{suffix}" for name in buckets for suffix in ("", "/*")],
        ),
        allow(
            "SageMaker",
            SAGEMAKER_ACTIONS,
            [
                *(arn("sagemaker", f"{kind}/{p}-*") for kind in SAGEMAKER_KINDS),
                arn("sagemaker", f"model-package-group/{p}"),
                arn("sagemaker", f"model-package/{p}/*"),
            ],
        ),
        allow(
            "SageMakerReads",
            ["sagemaker:List*"],  # models, configs, monitoring runs, model packages, endpoints
            ["*"],
        ),
        # Monitoring runs are processing jobs that SageMaker names itself.
        allow("MonitoringRuns", ["sagemaker:DescribeProcessingJob"], [arn("sagemaker", "processing-job/*")]),
        *_role_statements(project),
        allow(
            "Alarms",  # rollback alarms and alerts
            [
                "cloudwatch:PutMetricAlarm",
                "cloudwatch:DeleteAlarms",
                "cloudwatch:TagResource",
                "cloudwatch:UntagResource",
                "cloudwatch:ListTagsForResource",
            ],
            [arn("cloudwatch", f"alarm:{p}-*")],
        ),
        allow("DescribeAlarms", ["cloudwatch:DescribeAlarms"], ["*"]),
        allow(
            "Dashboards",
            ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
            [f"arn:aws:cloudwatch::{account}:dashboard/{p}-*"],  # dashboards are global: no region
        ),
        allow("Alerts", SNS_ACTIONS, [arn("sns", f"{p}-*")]),  # topics and their subscriptions
        *alert_key_statements(region, account, "StringLike", f"{p}-*"),
        *autoscaling_statements("StringLike", f"{p}-*"),
        allow("ApiProxyFunction", LAMBDA_ACTIONS, [arn("lambda", f"function:{p}-*")]),
        {
            **allow("ApiMayInvokeTheFunction", ["lambda:AddPermission"], [arn("lambda", f"function:{p}-*")]),
            # The API; S3 for the drop folder's and the upload folder's notifications; EventBridge
            # for the approval rule.
            "Condition": {"StringEquals": {"lambda:Principal": INVOKERS}},
        },
        allow("ApprovalRules", EVENTS_ACTIONS, [arn("events", f"rule/{p}-*")]),
        allow("ApiProxyLogs", LOG_ACTIONS, [arn("logs", f"log-group:/aws/lambda/{p}-*")]),
        allow("DescribeLogGroups", ["logs:DescribeLogGroups"], ["*"]),
        *http_api_statements(region, "StringLike", f"{p}-*"),
        *cloudfront_statements(account, "StringLike", f"{p}-*"),
    ]
    if project.kms_key_id:
        statements.append(kms_statement("CaptureKey", project.kms_key_id, region, account))
    return {"Version": "2012-10-17", "Statement": statements}


# The alerts topic and its subscriptions; the topic's KMS key (tagged) and its alias.
SNS_ACTIONS = ["sns:*Topic*", "sns:*ubscribe", "sns:*Tag*"]
KMS_KEY_ACTIONS = ["kms:*Key*", "kms:*Tag*", "kms:*Alias"]
ECR_PUSH_ACTIONS = [
    "ecr:CreateRepository",
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]
LOG_ACTIONS = [
    "logs:CreateLogGroup",
    "logs:PutRetentionPolicy",
    "logs:DeleteLogGroup",
    "logs:TagResource",
    "logs:TagLogGroup",
    "logs:UntagResource",
    "logs:ListTagsForResource",
]


def _role_statements(project: Project) -> list[dict]:
    """Roles: made and given policies only under the boundary; passed only to their own service."""
    roles = role_arn(project.account_id, f"{project.name}-*")
    boundary = {"StringEquals": {"iam:PermissionsBoundary": boundary_arn(project.name, project.account_id)}}
    sagemaker_roles = [f"{roles}-sagemaker-execution"]
    if project.execution_role_arn:
        sagemaker_roles.append(project.execution_role_arn)
    return [
        {
            **allow(
                "RolesOnlyUnderTheBoundary",
                ["iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary"],
                [roles],
            ),
            "Condition": boundary,
        },
        allow(
            "Roles",
            [
                "iam:GetRole",
                "iam:TagRole",
                "iam:UntagRole",
                "iam:ListRoleTags",
                "iam:GetRolePolicy",
                "iam:ListRolePolicies",
                "iam:DeleteRolePolicy",
                "iam:DeleteRole",
            ],
            [roles],
        ),
        pass_role("PassExecutionRoles", sagemaker_roles, SAGEMAKER),
        # The API's and the drop folder's (`-predict-...`), the registry's event functions' (`-registry-...`).
        pass_role("PassFunctionRoles", [f"{roles}-predict-*", f"{roles}-registry-*"], LAMBDA),
        {
            **allow(
                "AutoscalingServiceRole",
                ["iam:CreateServiceLinkedRole"],
                [
                    f"arn:aws:iam::{project.account_id}:role/aws-service-role/"
                    "sagemaker.application-autoscaling.amazonaws.com/*"
                ],
            ),
            "Condition": {
                "StringEquals": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
            },
        },
    ]


def autoscaling_statements(match: str, deployment: str) -> list[dict]:
    """Scalable targets carry no name AWS lets a policy match, so they are scoped by the
    deployment tag: sent on registration, required on every later change; and to SageMaker
    variants, so no other service's targets are reachable."""
    tag, value, targets = PROJECT_TAG, deployment, ["*"]
    return [
        allow(
            "AutoscalingReads",
            [
                "application-autoscaling:DescribeScalableTargets",
                "application-autoscaling:DescribeScalingPolicies",
            ],
            ["*"],
        ),
        {
            **allow(
                "RegisterTaggedTargets",
                ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:TagResource"],
                targets,
            ),
            "Condition": {
                "StringEquals": AUTOSCALING,
                match: {f"aws:RequestTag/{tag}": value},
                f"{match}IfExists": {f"aws:ResourceTag/{tag}": value},
            },
        },
        {
            **allow(
                "ChangeOwnTargets",
                [
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DeleteScalingPolicy",
                ],
                targets,
            ),
            "Condition": {"StringEquals": AUTOSCALING, match: {f"aws:ResourceTag/{tag}": value}},
        },
    ]


def http_api_statements(region: str, match: str, deployment: str) -> list[dict]:
    """HTTP API ids are random, so APIs are scoped by the deployment tag: required in the create
    request, and on the API for every later change (AWS evaluates the API's tags for its routes,
    integrations and stages too). No `/tags/*` access: a run cannot re-tag another stage's API."""
    apis = f"arn:aws:apigateway:{region}::/apis"
    tag = f"aws:{{}}Tag/{PROJECT_TAG}"
    return [
        allow("ReadApis", ["apigateway:GET"], [apis, f"{apis}/*"]),
        {
            **allow("CreateTaggedApi", ["apigateway:POST"], [apis]),
            "Condition": {match: {tag.format("Request"): deployment}},
        },
        {
            **allow(
                "ChangeOwnApi",
                ["apigateway:POST", "apigateway:PATCH", "apigateway:PUT", "apigateway:DELETE"],
                [f"{apis}/*"],
            ),
            "Condition": {match: {tag.format("Resource"): deployment}},
        },
    ]


def alert_key_statements(region: str, account: str, match: str, deployment: str) -> list[dict]:
    """KMS key ids are random, so the alerts topic's keys are scoped by the deployment tag: required
    when a key is created, and on the key for every later call; aliases (the keys' names) by name."""
    tag = f"aws:{{}}Tag/{PROJECT_TAG}"
    return [
        {
            **allow("NewKey", ["kms:CreateKey", "kms:TagResource"], ["*"]),
            "Condition": {match: {tag.format("Request"): deployment}},
        },
        {
            **allow("Keys", KMS_KEY_ACTIONS, [f"arn:aws:kms:{region}:{account}:key/*"]),
            "Condition": {match: {tag.format("Resource"): deployment}},
        },
        allow(
            "KeyAliases",
            ["kms:CreateAlias", "kms:DeleteAlias"],
            [f"arn:aws:kms:{region}:{account}:alias/{deployment}"],
        ),
    ]


def cloudfront_statements(account: str, match: str, deployment: str) -> list[dict]:
    """Distribution ids are random, so distributions are scoped by the deployment tag: required in
    the create request (CreateDistributionWithTags needs TagResource too), and on the distribution
    for every later change. Origin access controls cannot be tagged and carry random ids: any of
    them is reachable, which at worst breaks another stage's page until its next deploy."""
    distributions = f"arn:aws:cloudfront::{account}:distribution/*"
    tag = f"aws:{{}}Tag/{PROJECT_TAG}"
    return [
        allow(
            "ListCloudFront", ["cloudfront:ListDistributions", "cloudfront:ListOriginAccessControls"], ["*"]
        ),
        allow(
            "ReadDistributions",
            [
                "cloudfront:GetDistribution",
                "cloudfront:GetDistributionConfig",
                "cloudfront:GetInvalidation",
                "cloudfront:ListTagsForResource",
            ],
            [distributions],
        ),
        {
            **allow(
                "CreateTaggedDistribution",
                ["cloudfront:CreateDistribution", "cloudfront:TagResource"],
                [distributions],
            ),
            "Condition": {
                match: {tag.format("Request"): deployment},
                f"{match}IfExists": {tag.format("Resource"): deployment},
            },
        },
        {
            **allow(
                "ChangeOwnDistribution",
                [
                    "cloudfront:UpdateDistribution",
                    "cloudfront:DeleteDistribution",
                    "cloudfront:CreateInvalidation",
                    "cloudfront:UntagResource",
                ],
                [distributions],
            ),
            "Condition": {match: {tag.format("Resource"): deployment}},
        },
        allow(
            "OriginAccessControls",
            [
                "cloudfront:CreateOriginAccessControl",
                "cloudfront:GetOriginAccessControl",
                "cloudfront:UpdateOriginAccessControl",
                "cloudfront:DeleteOriginAccessControl",
            ],
            [f"arn:aws:cloudfront::{account}:origin-access-control/*"],
        ),
    ]


def trust_policy(account_id: str, repository: str, environments: tuple[str, ...] = ENVIRONMENTS) -> dict:
    """Only jobs of `owner/name` running in one of the GitHub Environments may assume the role:
    not a branch, a tag, a schedule, or a pull-request job without an environment."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{GITHUB_OIDC}:aud": "sts.amazonaws.com",
                        f"{GITHUB_OIDC}:sub": [
                            f"repo:{repository}:environment:{name}" for name in environments
                        ],
                    },
                },
            }
        ],
    }
