"""SageMaker requests as the API reference spells them, by hand rather than by the code under test.

https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateMonitoringSchedule.html
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.unit.deployment.builders import MONITORING_IMAGE

BUCKET = "pose-dev-123456789012-us-east-1"
ROLE_ARN = "arn:aws:iam::123456789012:role/pose-dev-sagemaker-execution"
ENDPOINT_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/pose-dev"
SCHEDULE_ARN = "arn:aws:sagemaker:us-east-1:123456789012:monitoring-schedule/pose-dev-monitor"
CONFIG_ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config"
TAGS = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
# The CreateMonitoringSchedule request, written out by hand rather than by the code under test.
JOB_DEFINITION = {
    "MonitoringInputs": [
        {
            "EndpointInput": {
                "EndpointName": "pose-dev",
                "LocalPath": "/opt/ml/processing/input/endpoint",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
            }
        }
    ],
    "MonitoringOutputConfig": {
        "MonitoringOutputs": [
            {
                "S3Output": {
                    "S3Uri": f"s3://{BUCKET}/pose-dev/monitoring-reports",
                    "LocalPath": "/opt/ml/processing/resultdata",
                    "S3UploadMode": "EndOfJob",
                }
            }
        ]
    },
    "MonitoringResources": {
        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 20}
    },
    "MonitoringAppSpecification": {"ImageUri": MONITORING_IMAGE},
    "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    "Environment": {"THRESHOLD": "1.0"},
    "RoleArn": ROLE_ARN,
}


def describe_schedule_response(
    config: dict, name: str = "pose-dev-monitor", status: str = "Scheduled"
) -> dict:
    return {
        "MonitoringScheduleArn": SCHEDULE_ARN,
        "MonitoringScheduleName": name,
        "MonitoringScheduleStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
        "MonitoringScheduleConfig": config,
        "EndpointName": "pose-dev",
    }
