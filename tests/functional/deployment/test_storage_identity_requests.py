"""S3, IAM, CloudWatch and Application Auto Scaling requests, exact to the parameter."""

from __future__ import annotations

import json
from dataclasses import replace
from urllib.parse import quote

import pytest
from botocore.stub import ANY

from deployment.aws.alarms import Alarms
from deployment.aws.identity import Identity
from deployment.aws.scaling import Scaling
from deployment.aws.storage import Storage
from deployment.errors import DeploymentError
from deployment.policies import SAGEMAKER_TRUST
from tests.unit.deployment.builders import desired

TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
BOUNDARY = "arn:aws:iam::123456789012:policy/pose-role-boundary"
TAG_LIST = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]


def test_the_artifact_is_uploaded_with_its_checksum(stubbed, tmp_path):
    client, stubber = stubbed("s3")
    artifact = desired().artifact
    path = tmp_path / "model.tar.gz"
    path.write_bytes(b"not really a tarball")
    artifact = type(artifact)(artifact.bucket, artifact.key, artifact.sha256, str(path))
    stubber.add_response(
        "put_object",
        {},
        {
            "Bucket": artifact.bucket,
            "Key": artifact.key,
            "Body": ANY,
            "ChecksumAlgorithm": "SHA256",
            "Metadata": {"sha256": artifact.sha256},
        },
    )

    Storage(client, "us-east-1").upload_artifact(artifact)

    stubber.assert_no_pending_responses()


def test_deleting_a_folder_removes_every_version_below_it_page_by_page(stubbed):
    client, stubber = stubbed("s3")
    version = {"Key": "pose-dev/models/a/model.tar.gz", "VersionId": "v1"}
    marker = {"Key": "pose-dev/data-capture/x.jsonl", "VersionId": "v2"}
    stubber.add_response(
        "list_object_versions",
        {"Versions": [version], "IsTruncated": True, "NextKeyMarker": "k", "NextVersionIdMarker": "v"},
        {"Bucket": "team-bucket", "Prefix": "pose-dev/"},
    )
    stubber.add_response(
        "delete_objects", {}, {"Bucket": "team-bucket", "Delete": {"Objects": [version], "Quiet": True}}
    )
    stubber.add_response(
        "list_object_versions",
        {"DeleteMarkers": [marker], "IsTruncated": False},
        {"Bucket": "team-bucket", "Prefix": "pose-dev/", "KeyMarker": "k", "VersionIdMarker": "v"},
    )
    stubber.add_response(
        "delete_objects", {}, {"Bucket": "team-bucket", "Delete": {"Objects": [marker], "Quiet": True}}
    )

    Storage(client, "us-east-1").delete_folder("team-bucket", "pose-dev/")

    stubber.assert_no_pending_responses()


def test_the_execution_role_trusts_sagemaker_and_carries_the_least_privilege_policy(stubbed):
    iam, stubber = stubbed("iam")
    role = desired().role
    stubber.add_response(
        "create_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": role.name,
                "RoleId": "AROAEXAMPLEEXAMPLE01",
                "Arn": role.arn,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {
            "RoleName": role.name,
            "AssumeRolePolicyDocument": json.dumps(SAGEMAKER_TRUST),
            "Description": "SageMaker execution role of a pose-estimation deployment",
            "Tags": TAG_LIST,
            "PermissionsBoundary": BOUNDARY,
        },
    )
    expect_bounded_policy(stubber, role)

    Identity(iam, None).create_role(role, TAGS)

    stubber.assert_no_pending_responses()
    statements = {s["Sid"]: s for s in json.loads(role.policy)["Statement"]}
    assert statements["Objects"]["Resource"] == "arn:aws:s3:::pose-dev-123456789012-us-east-1/pose-dev/*"
    assert statements["ListDeploymentFolder"]["Condition"] == {
        "StringLike": {"s3:prefix": ["pose-dev", "pose-dev/*"]}
    }
    assert statements["PullImages"]["Resource"] == [
        "arn:aws:ecr:us-east-1:123456789012:repository/pose-inference",
        "arn:aws:ecr:us-east-1:123456789012:repository/pose-monitoring",
    ]
    assert "CaptureKey" not in statements
    assert "cloudwatch:DescribeAlarms" in statements["MetricsAndRollbackAlarms"]["Action"]


def expect_bounded_policy(stubber, role) -> None:
    """The boundary is put before the policy: a role made before boundaries may not be edited without."""
    stubber.add_response(
        "put_role_permissions_boundary", {}, {"RoleName": role.name, "PermissionsBoundary": BOUNDARY}
    )
    stubber.add_response(
        "put_role_policy",
        {},
        {"RoleName": role.name, "PolicyName": "execution", "PolicyDocument": role.policy},
    )


def test_with_a_capture_key_the_execution_role_may_use_it_only_through_s3(stubbed):
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    role = desired({"data_capture": {"kms_key_id": key}}).role
    statements = {s["Sid"]: s for s in json.loads(role.policy)["Statement"]}
    assert statements["CaptureKey"] == {
        "Sid": "CaptureKey",
        "Effect": "Allow",
        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
        "Resource": key,
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }


def test_a_missing_boundary_is_an_error_naming_the_setup_command(stubbed):
    iam, stubber = stubbed("iam")
    role = desired().role
    stubber.add_client_error(
        "create_role", "NoSuchEntity", f"Scope ARN: {BOUNDARY} does not exist or is not attachable."
    )

    with pytest.raises(DeploymentError) as raised:
        Identity(iam, None).create_role(role, TAGS)

    assert raised.value.where == BOUNDARY
    assert "iam-policy --boundary" in raised.value.hint
    assert "aws iam create-policy --policy-name pose-role-boundary" in raised.value.hint


def test_a_role_made_before_boundaries_reads_back_as_changed(stubbed):
    iam, stubber = stubbed("iam")
    role = desired().role
    stubber.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": role.name,
                "RoleId": "AROAEXAMPLEEXAMPLE01",
                "Arn": role.arn,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {"RoleName": role.name},
    )
    stubber.add_response(
        "get_role_policy",
        {"RoleName": role.name, "PolicyName": "execution", "PolicyDocument": quote(role.policy)},
        {"RoleName": role.name, "PolicyName": "execution"},
    )

    assert Identity(iam, None).read_role(role.name) == replace(role, boundary="")


def test_a_role_policy_read_back_url_encoded_compares_equal(stubbed):
    iam, stubber = stubbed("iam")
    role = desired().role
    stubber.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/",
                "RoleName": role.name,
                "RoleId": "AROAEXAMPLEEXAMPLE01",
                "Arn": role.arn,
                "CreateDate": "2026-01-01T00:00:00Z",
                "PermissionsBoundary": {
                    "PermissionsBoundaryType": "Policy",
                    "PermissionsBoundaryArn": BOUNDARY,
                },
            }
        },
        {"RoleName": role.name},
    )
    pretty = json.dumps(json.loads(role.policy), indent=4)
    stubber.add_response(
        "get_role_policy",
        {"RoleName": role.name, "PolicyName": "execution", "PolicyDocument": quote(pretty)},
        {"RoleName": role.name, "PolicyName": "execution"},
    )

    assert Identity(iam, None).read_role(role.name) == role


def test_deleting_a_role_removes_its_inline_policies_first(stubbed):
    iam, stubber = stubbed("iam")
    stubber.add_response("list_role_policies", {"PolicyNames": ["execution"]}, {"RoleName": "r"})
    stubber.add_response("delete_role_policy", {}, {"RoleName": "r", "PolicyName": "execution"})
    stubber.add_response("delete_role", {}, {"RoleName": "r"})

    Identity(iam, None).delete_role("r")

    stubber.assert_no_pending_responses()


def test_rollback_alarms_watch_the_endpoints_variant(stubbed):
    cloudwatch, stubber = stubbed("cloudwatch")
    latency = desired({"update": {"rollback_on_latency_ms": 800}}).alarms[1]
    stubber.add_response(
        "put_metric_alarm",
        {},
        {
            "AlarmName": "pose-dev-model-latency",
            "AlarmDescription": "Rolls back updates of endpoint pose-dev",
            "Namespace": "AWS/SageMaker",
            "MetricName": "ModelLatency",
            "Dimensions": [
                {"Name": "EndpointName", "Value": "pose-dev"},
                {"Name": "VariantName", "Value": "AllTraffic"},
            ],
            "Statistic": "Average",
            "Period": 60,
            "EvaluationPeriods": 1,
            "Threshold": 800_000,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "Tags": TAG_LIST,
        },
    )

    Alarms(cloudwatch).put(latency, TAGS)

    stubber.assert_no_pending_responses()


def test_autoscaling_registers_the_variant_and_tracks_invocations_per_instance(stubbed):
    client, stubber = stubbed("application-autoscaling")
    scaling = desired({"autoscaling": {"enabled": True, "min_instances": 2, "max_instances": 6}}).autoscaling
    target = {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/pose-dev/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
    }
    tagged = {**target, "MinCapacity": 2, "MaxCapacity": 6, "Tags": dict(TAGS)}
    stubber.add_response("register_scalable_target", {}, tagged)
    stubber.add_response(
        "put_scaling_policy",
        {"PolicyARN": "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:x", "Alarms": []},
        {
            **target,
            "PolicyName": "invocations-per-instance",
            "PolicyType": "TargetTrackingScaling",
            "TargetTrackingScalingPolicyConfiguration": {
                "TargetValue": 100.0,
                "PredefinedMetricSpecification": {
                    "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
                },
                "ScaleInCooldown": 300,
                "ScaleOutCooldown": 60,
            },
        },
    )
    stubber.add_response("deregister_scalable_target", {}, target)

    Scaling(client).put(scaling, TAGS)  # tagged: the deploy role changes only targets with its tag
    Scaling(client).delete(scaling)

    stubber.assert_no_pending_responses()
