"""IAM policy documents, built from names so each grants exactly what one deployment needs."""

from __future__ import annotations

import json

SAGEMAKER_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ],
}


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


def canonical(document: dict | str) -> str:
    """One spelling per policy, whatever order or encoding AWS hands it back in."""
    if isinstance(document, str):
        document = json.loads(document)
    return json.dumps(document, sort_keys=True, separators=(",", ":"))
