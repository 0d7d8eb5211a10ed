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


def execution_policy(bucket: str, root_prefix: str, region: str, account_id: str) -> dict:
    """What the endpoint and the monitoring jobs do: read the model, write capture and reports,
    pull images, log, publish metrics, and read the rollback alarms."""
    folder = f"arn:aws:s3:::{bucket}/{root_prefix}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Objects",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": f"{folder}/*",
            },
            {
                "Sid": "ListDeploymentFolder",
                "Effect": "Allow",
                "Action": ["s3:ListBucket", "s3:GetBucketLocation"],
                "Resource": f"arn:aws:s3:::{bucket}",
            },
            {
                "Sid": "PullImages",
                "Effect": "Allow",
                "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Resource": "*",
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
                "Action": ["cloudwatch:PutMetricData", "cloudwatch:DescribeAlarms"],
                "Resource": "*",
            },
        ],
    }


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


def public_read_policy(bucket: str) -> dict:
    """Anyone may read the web page's objects, and do nothing else with the bucket."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "PublicReadOfThePage",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def canonical(document: dict | str) -> str:
    """One spelling per policy, whatever order or encoding AWS hands it back in."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
