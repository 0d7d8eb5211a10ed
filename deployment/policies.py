"""IAM policy documents, built from names so each grants exactly what one deployment needs."""

from __future__ import annotations

import json

SAGEMAKER = "sagemaker.amazonaws.com"
LAMBDA = "lambda.amazonaws.com"


def trust_policy(service: str) -> dict:
    """Who may assume a role: one AWS service."""
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


SAGEMAKER_TRUST = trust_policy(SAGEMAKER)
# The two repositories CI pushes the images to; the only ones an engine-made role may pull from.
ECR_REPOSITORIES = ("pose-inference", "pose-monitoring")


def ecr_repository_arns(region: str, account_id: str) -> list[str]:
    return [f"arn:aws:ecr:{region}:{account_id}:repository/{name}" for name in ECR_REPOSITORIES]


def kms_key_scope(key: str, region: str, account_id: str) -> tuple[str, dict]:
    """A config's KMS key as (Resource, Condition): IAM matches keys by key ARN only, so an alias
    becomes "any key in the account that carries this alias"."""
    alias = key.split(":", 5)[-1] if key.startswith("arn:") else key
    if alias.startswith("alias/"):
        where = key.split(":")[3:5] if key.startswith("arn:") else [region, account_id]
        resource = f"arn:aws:kms:{where[0]}:{where[1]}:key/*"
        return resource, {"ForAnyValue:StringEquals": {"kms:ResourceAliases": alias}}
    if key.startswith("arn:"):
        return key, {}
    return f"arn:aws:kms:{region}:{account_id}:key/{key}", {}


def kms_statement(sid: str, key: str, region: str, account_id: str) -> dict:
    """Use of the capture key, only through S3 (SageMaker writes captures with S3 SSE-KMS)."""
    resource, condition = kms_key_scope(key, region, account_id)
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": resource,
        "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}, **condition},
    }


def execution_policy(
    bucket: str, root_prefix: str, region: str, account_id: str, kms_key_id: str | None = None
) -> dict:
    """What the endpoint and the monitoring jobs do: read the model, write capture and reports
    (all under this deployment's folder), pull our two images, log, publish metrics, read the
    rollback alarms, and read the endpoint's metrics for the monitoring report (GetMetricData
    has no resource-level permissions: Resource "*")."""
    folder = f"arn:aws:s3:::{bucket}/{root_prefix}"
    statements = [
        {
            "Sid": "Objects",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject"],
            "Resource": f"{folder}/*",
        },
        {
            "Sid": "ListDeploymentFolder",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
            "Condition": {"StringLike": {"s3:prefix": [root_prefix, f"{root_prefix}/*"]}},
        },
        {
            "Sid": "BucketLocation",
            "Effect": "Allow",
            "Action": "s3:GetBucketLocation",
            "Resource": f"arn:aws:s3:::{bucket}",
        },
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {
            "Sid": "PullImages",
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": ecr_repository_arns(region, account_id),
        },
        {
            "Sid": "Logs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            "Resource": f"arn:aws:logs:{region}:{account_id}:log-group:/aws/sagemaker/*",
        },
        {
            "Sid": "MetricsAndRollbackAlarms",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData", "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"],
            "Resource": "*",
        },
    ]
    if kms_key_id:
        statements.append(kms_statement("CaptureKey", kms_key_id, region, account_id))
    return {"Version": "2012-10-17", "Statement": statements}


def function_policy(endpoint_arn: str, log_group_arn: str) -> dict:
    """The API's Lambda: invoke this one endpoint, and write to its own (engine-created) log group."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "InvokeTheEndpoint",
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": endpoint_arn,
            },
            {
                "Sid": "WriteItsOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
        ],
    }


def deny_insecure_transport(bucket: str) -> dict:
    """The bucket statement refusing every request not made over TLS."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def canonical(document: dict | str) -> str:
    """One spelling per policy, whatever order or encoding AWS hands it back in."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def allow(sid: str, actions: list[str], resources: list[str]) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def pass_role(sid: str, roles: list[str], service: str) -> dict:
    return {
        **allow(sid, ["iam:PassRole"], roles),
        "Condition": {"StringEquals": {"iam:PassedToService": service}},
    }
