"""The permissions boundary every role the engine makes must carry: the most such a role may do,
whatever inline policy a run gives it. An administrator creates it once (`iam-policy --boundary`);
the deploy role may create roles only under it and cannot change it (deploy_policy.py).
"""

from __future__ import annotations

from deployment.deploy_policy import Project
from deployment.naming import role_arn
from deployment.policies import SAGEMAKER, allow, ecr_repository_arns, pass_role


def boundary_policy(project: Project) -> dict:
    """The most any engine-made role may do, whatever inline policy a run gives it: what the
    endpoint, the monitoring jobs and the API's Lambda need, for this project's resources."""
    p, account = project.name, project.account_id
    buckets = [f"{p}-*", *project.buckets]
    return {
        "Version": "2012-10-17",
        "Statement": [
            # DeleteObject: the upload folder's function moves a rejected upload aside.
            allow(
                "Objects",
                ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"],
                [f"arn:aws:s3:::{name}/*" for name in buckets],
            ),
            allow(
                "Buckets",
                ["s3:ListBucket", "s3:GetBucketLocation"],
                [f"arn:aws:s3:::{name}" for name in buckets],
            ),
            allow("EcrLogin", ["ecr:GetAuthorizationToken"], ["*"]),
            allow(
                "PullImages",
                ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                ecr_repository_arns("*", account),
            ),
            allow(
                "Logs",
                [
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                ],
                [
                    f"arn:aws:logs:*:{account}:log-group:/aws/sagemaker/*",
                    f"arn:aws:logs:*:{account}:log-group:/aws/lambda/{p}-*",
                ],
            ),
            allow(
                "MetricsAndAlarms",
                ["cloudwatch:PutMetricData", "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"],
                ["*"],
            ),
            allow(
                "InvokeEndpoints",
                ["sagemaker:InvokeEndpoint"],
                [f"arn:aws:sagemaker:*:{account}:endpoint/{p}-*"],
            ),
            *registry_function_statements(project),
            {
                **allow(
                    "KeysThroughS3",
                    ["kms:Decrypt", "kms:GenerateDataKey"],
                    [f"arn:aws:kms:*:{account}:key/*"],
                ),
                "Condition": {"StringLike": {"kms:ViaService": "s3.*.amazonaws.com"}},
            },
        ],
    }


def registry_function_statements(project: Project) -> list[dict]:
    """What the registry's event functions do (resources/approval.py, model_upload.py): read and
    register versions of the project's group; make a model and config and update an endpoint;
    pass a stage's execution role to SageMaker. Each function's own policy names its stage."""
    p, account = project.name, project.account_id
    sagemaker = f"arn:aws:sagemaker:*:{account}"
    execution_roles = [role_arn(account, f"{p}-*-sagemaker-execution")]
    if project.execution_role_arn:
        execution_roles.append(project.execution_role_arn)
    return [
        allow(
            "RegistryEvents",
            [
                "sagemaker:CreateModelPackage",
                "sagemaker:DescribeModelPackage",
                "sagemaker:CreateModel",
                "sagemaker:DescribeModel",
                "sagemaker:CreateEndpointConfig",
                "sagemaker:DescribeEndpointConfig",
                "sagemaker:DescribeEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:AddTags",
            ],
            [
                f"{sagemaker}:model-package/{p}/*",
                f"{sagemaker}:model-package-group/{p}",
                f"{sagemaker}:model/{p}-*",
                f"{sagemaker}:endpoint-config/{p}-*",
                f"{sagemaker}:endpoint/{p}-*",
            ],
        ),
        allow("ListVersions", ["sagemaker:ListModelPackages"], ["*"]),
        pass_role("PassExecutionRoles", execution_roles, SAGEMAKER),
    ]
