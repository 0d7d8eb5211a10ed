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
from deployment.state import Bucket
from tests.unit.deployment.builders import desired

TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
BOUNDARY = "arn:aws:iam::123456789012:policy/pose-role-boundary"
TAG_LIST = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]
BUCKET = Bucket("pose-dev-123456789012-us-east-1", None, "pose-dev/data-capture/", 30)
PRIVATE = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}


def expect_bucket_settings(stubber, bucket: Bucket, default_encryption: dict) -> None:
    stubber.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": bucket.name,
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": default_encryption}]
            },
        },
    )
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {
            "Bucket": bucket.name,
            "LifecycleConfiguration": {
                "Rules": [
                    {
                        "ID": "expire-captured-requests",
                        "Filter": {"Prefix": bucket.capture_prefix},
                        "Status": "Enabled",
                        "Expiration": {"Days": bucket.retention_days},
                    }
                ]
            },
        },
    )


def test_a_new_bucket_is_private_tagged_encrypted_and_expires_captured_requests(stubbed):
    client, stubber = stubbed("s3")
    stubber.add_response("create_bucket", {}, {"Bucket": BUCKET.name})
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": BUCKET.name, "PublicAccessBlockConfiguration": PRIVATE}
    )
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": BUCKET.name, "Tagging": {"TagSet": TAG_LIST}})
    expect_bucket_settings(stubber, BUCKET, {"SSEAlgorithm": "AES256"})

    Storage(client, "us-east-1").create_bucket(BUCKET, TAGS)

    stubber.assert_no_pending_responses()


def test_outside_us_east_1_the_bucket_names_its_region_and_can_use_kms(stubbed):
    client, stubber = stubbed("s3", "eu-west-1")
    key = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    bucket = Bucket("pose-dev-123456789012-eu-west-1", key, "pose-dev/data-capture/", 7)
    stubber.add_response(
        "create_bucket",
        {},
        {"Bucket": bucket.name, "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
    )
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": bucket.name, "PublicAccessBlockConfiguration": PRIVATE}
    )
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": bucket.name, "Tagging": {"TagSet": TAG_LIST}})
    expect_bucket_settings(stubber, bucket, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key})

    Storage(client, "eu-west-1").create_bucket(bucket, TAGS)

    stubber.assert_no_pending_responses()


def test_updating_the_settings_of_a_shared_bucket_keeps_its_other_lifecycle_rules(stubbed):
    client, stubber = stubbed("s3")
    theirs = {
        "ID": "team-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 3},
    }
    ours_before = {**theirs, "ID": "expire-captured-requests", "Filter": {"Prefix": "pose-dev/data-capture/"}}
    stubber.add_response(
        "get_bucket_lifecycle_configuration", {"Rules": [theirs, ours_before]}, {"Bucket": "team-bucket"}
    )
    bucket = Bucket("team-bucket", None, "pose-dev/data-capture/", 30)
    stubber.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": "team-bucket",
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
    )
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {
            "Bucket": "team-bucket",
            "LifecycleConfiguration": {
                "Rules": [
                    theirs,
                    {
                        "ID": "expire-captured-requests",
                        "Filter": {"Prefix": "pose-dev/data-capture/"},
                        "Status": "Enabled",
                        "Expiration": {"Days": 30},
                    },
                ]
            },
        },
    )

    Storage(client, "us-east-1").configure_bucket(bucket)

    stubber.assert_no_pending_responses()


def test_a_bucket_is_read_back_into_the_desired_shape_with_ownership(stubbed):
    client, stubber = stubbed("s3")
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET.name})
    stubber.add_response(
        "get_bucket_lifecycle_configuration",
        {
            "Rules": [
                {
                    "ID": "someone-elses",
                    "Filter": {"Prefix": "logs/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": 1},
                },
                {
                    "ID": "expire-captured-requests",
                    "Filter": {"Prefix": "pose-dev/data-capture/"},
                    "Status": "Enabled",
                    "Expiration": {"Days": 30},
                },
            ]
        },
        {"Bucket": BUCKET.name},
    )
    stubber.add_response(
        "get_bucket_encryption",
        {
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            }
        },
        {"Bucket": BUCKET.name},
    )
    stubber.add_response("get_bucket_tagging", {"TagSet": TAG_LIST}, {"Bucket": BUCKET.name})

    assert Storage(client, "us-east-1").read_bucket(BUCKET.name, "pose-dev") == (BUCKET, True)


def test_a_bucket_without_our_tag_or_rules_is_not_ours(stubbed):
    client, stubber = stubbed("s3")
    stubber.add_response("head_bucket", {}, {"Bucket": "team-bucket"})
    stubber.add_client_error(
        "get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration", http_status_code=404
    )
    stubber.add_client_error(
        "get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError", http_status_code=404
    )
    stubber.add_client_error("get_bucket_tagging", "NoSuchTagSet", http_status_code=404)

    assert Storage(client, "us-east-1").read_bucket("team-bucket", "pose-dev") == (
        Bucket("team-bucket", None, "", 0),
        False,
    )


def test_a_missing_bucket_is_none(stubbed):
    client, stubber = stubbed("s3")
    stubber.add_client_error("head_bucket", "404", "Not Found", http_status_code=404)

    assert Storage(client, "us-east-1").read_bucket(BUCKET.name, "pose-dev") == (None, False)


def test_a_bucket_name_taken_by_another_account_says_how_to_fix_it(stubbed):
    client, stubber = stubbed("s3")
    stubber.add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)

    with pytest.raises(DeploymentError) as raised:
        Storage(client, "us-east-1").read_bucket(BUCKET.name, "pose-dev")

    assert raised.value.where == f"s3://{BUCKET.name}"
    assert "set s3.bucket to a name you own" in raised.value.hint


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


def test_a_bucket_that_is_not_ours_only_gets_our_expiry_rule_never_new_encryption(stubbed):
    client, stubber = stubbed("s3")
    theirs = {
        "ID": "team-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 3},
    }
    stubber.add_response("get_bucket_lifecycle_configuration", {"Rules": [theirs]}, {"Bucket": "team-bucket"})
    ours = {
        "ID": "expire-captured-requests",
        "Filter": {"Prefix": "pose-dev/data-capture/"},
        "Status": "Enabled",
        "Expiration": {"Days": 30},
    }
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {"Bucket": "team-bucket", "LifecycleConfiguration": {"Rules": [theirs, ours]}},
    )

    Storage(client, "us-east-1").put_capture_expiry(Bucket("team-bucket", None, "pose-dev/data-capture/", 30))

    stubber.assert_no_pending_responses()  # and no PutBucketEncryption: the Stubber refuses unexpected calls
