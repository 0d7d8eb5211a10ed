"""The least-privilege IAM policy of the GitHub Actions deploy role, and its OIDC trust policy.

Every statement is scoped to resources named `{project}-*` (or the two ECR repositories) in this
account and region, except the few actions AWS does not scope by resource (ECR login, Auto Scaling,
listing). `python -m deployment iam-policy` prints it for the one-time setup.
"""

from __future__ import annotations

ECR_REPOSITORIES = ("pose-inference", "pose-monitoring")
GITHUB_OIDC = "token.actions.githubusercontent.com"


def deploy_policy(project: str, account_id: str, region: str) -> dict:
    def arn(service: str, resource: str, region_part: str = region) -> str:
        return f"arn:aws:{service}:{region_part}:{account_id}:{resource}"

    sagemaker_kinds = ("model", "endpoint-config", "endpoint", "monitoring-schedule", "processing-job")
    return {
        "Version": "2012-10-17",
        "Statement": [
            _allow("Identity", ["sts:GetCallerIdentity"], ["*"]),
            _allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            _allow(
                "EcrRepositories",
                [
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
                ],
                [arn("ecr", f"repository/{name}") for name in ECR_REPOSITORIES],
            ),
            _allow(
                "Buckets",
                [
                    "s3:*Bucket*",
                    "s3:ListBucketVersions",
                    "s3:*Object",
                    "s3:*ObjectVersion",
                    "s3:*LifecycleConfiguration",
                ],
                [f"arn:aws:s3:::{project}-*", f"arn:aws:s3:::{project}-*/*"],
            ),
            _allow(
                "SageMaker",
                ["sagemaker:*"],
                [arn("sagemaker", f"{kind}/{project}-*") for kind in sagemaker_kinds],
            ),
            _allow(
                "SageMakerLists",
                ["sagemaker:List*", "sagemaker:DescribeProcessingJob"],
                ["*"],
            ),
            _allow(
                "Roles",
                [
                    "iam:CreateRole",
                    "iam:DeleteRole",
                    "iam:GetRole",
                    "iam:TagRole",
                    "iam:PutRolePolicy",
                    "iam:GetRolePolicy",
                    "iam:DeleteRolePolicy",
                    "iam:ListRolePolicies",
                    "iam:ListAttachedRolePolicies",
                ],
                [f"arn:aws:iam::{account_id}:role/{project}-*"],
            ),
            {
                "Sid": "PassRolesToSageMakerAndLambda",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": f"arn:aws:iam::{account_id}:role/{project}-*",
                "Condition": {
                    "StringEquals": {
                        "iam:PassedToService": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]
                    }
                },
            },
            _allow(
                "RollbackAlarms",
                ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource"],
                [arn("cloudwatch", f"alarm:{project}-*")],
            ),
            _allow("DescribeAlarms", ["cloudwatch:DescribeAlarms"], ["*"]),
            _allow(
                "Autoscaling",
                [
                    "application-autoscaling:RegisterScalableTarget",
                    "application-autoscaling:DeregisterScalableTarget",
                    "application-autoscaling:DescribeScalableTargets",
                    "application-autoscaling:PutScalingPolicy",
                    "application-autoscaling:DescribeScalingPolicies",
                    "application-autoscaling:TagResource",
                ],
                ["*"],
            ),
            {
                "Sid": "AutoscalingServiceRole",
                "Effect": "Allow",
                "Action": "iam:CreateServiceLinkedRole",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"iam:AWSServiceName": "sagemaker.application-autoscaling.amazonaws.com"}
                },
            },
            _allow("ApiProxyFunction", ["lambda:*"], [arn("lambda", f"function:{project}-*")]),
            _allow(
                "ApiProxyLogs",
                [
                    "logs:CreateLogGroup",
                    "logs:PutRetentionPolicy",
                    "logs:DeleteLogGroup",
                    "logs:TagResource",
                    "logs:TagLogGroup",
                    "logs:ListTagsForResource",
                ],
                [arn("logs", f"log-group:/aws/lambda/{project}-*")],
            ),
            _allow("DescribeLogGroups", ["logs:DescribeLogGroups"], ["*"]),
            _allow(
                "HttpApi",
                [
                    "apigateway:GET",
                    "apigateway:POST",
                    "apigateway:PATCH",
                    "apigateway:PUT",
                    "apigateway:DELETE",
                ],
                [
                    f"arn:aws:apigateway:{region}::/apis",
                    f"arn:aws:apigateway:{region}::/apis/*",
                    f"arn:aws:apigateway:{region}::/tags/*",
                ],
            ),
        ],
    }


def trust_policy(account_id: str, repository: str) -> dict:
    """Only pull-request and workflow_dispatch runs of `owner/name` may assume the deploy role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": f"arn:aws:iam::{account_id}:oidc-provider/{GITHUB_OIDC}"},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {f"{GITHUB_OIDC}:aud": "sts.amazonaws.com"},
                    "StringLike": {
                        f"{GITHUB_OIDC}:sub": [f"repo:{repository}:pull_request", f"repo:{repository}:ref:*"]
                    },
                },
            }
        ],
    }


def _allow(sid: str, actions: list[str], resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
