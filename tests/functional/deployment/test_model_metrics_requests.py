"""A measured model's registry version, its requests spelled out in full (botocore Stubber):
CreateModelPackage with ModelMetrics and the pull request, and the metrics read back."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from botocore.stub import ANY

from deployment.aws.sagemaker import SageMaker
from deployment.aws.storage import Storage
from deployment.config import parse_config
from deployment.metrics import quality_of
from deployment.resources.base import Kind
from deployment.state import desired_state
from tests.functional.deployment.contract import BUCKET
from tests.unit.deployment.builders import ACCOUNT, INFERENCE_IMAGE, inputs
from tests.unit.deployment.metrics_builders import measured, packaged

ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/pose/3"
CONTENT_TYPES = ["image/jpeg", "image/png", "application/json", "application/x-image"]


@pytest.fixture
def sagemaker(stubbed):
    client, stubber = stubbed("sagemaker")
    yield SageMaker(client), stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def state(tmp_path):
    quality = quality_of(packaged(tmp_path, "blazepose-heavy"), tmp_path / "out")
    config = parse_config({"project": {"tags": {"owner": "ml-team"}}})
    return desired_state(
        config, replace(inputs(), commit="abc123", pull_request="42", qualities=(quality,)), ACCOUNT
    )


def test_a_measured_model_is_registered_with_its_statistics_as_model_quality(sagemaker, state):
    api, stubber = sagemaker
    (version,) = state.standalone[Kind.MODEL_VERSION]
    (statistics,) = state.statistics
    entry = measured("blazepose-heavy")
    stubber.add_response(
        "create_model_package",
        {"ModelPackageArn": ARN},
        {
            "ModelPackageGroupName": "pose",
            "ModelPackageDescription": "blazepose-heavy as stage pose-dev ran it",
            "InferenceSpecification": {
                "Containers": [
                    {"Image": INFERENCE_IMAGE, "ModelDataUrl": state.artifact.s3_uri, "Environment": {}}
                ],
                "SupportedContentTypes": CONTENT_TYPES,
                "SupportedResponseMIMETypes": ["application/json"],
                "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
            },
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": {
                "model": "blazepose-heavy",
                "pose:stage": "pose-dev",
                "commit": "abc123",
                "pull_request": "42",
                "torso_pck": f"{entry.torso_pck:.3f}",
                "bbox_pck": f"{entry.bbox_pck:.3f}",
                "pose:model": version.identity,
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": statistics.s3_uri,
                        "ContentDigest": f"sha256:{statistics.sha256}",
                    }
                }
            },
        },
    )

    assert api.create_model_version(version) == ARN
    assert statistics.s3_uri.startswith(f"s3://{BUCKET}/pose-dev/models/")


def test_the_statistics_object_is_uploaded_content_addressed_beside_the_artifact(stubbed, state):
    client, stubber = stubbed("s3")
    (statistics,) = state.statistics
    assert statistics.key.rsplit("/", 1)[0] == state.artifact.key.rsplit("/", 1)[0]
    stubber.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": statistics.key,
            "Body": ANY,
            "ChecksumAlgorithm": "SHA256",
            "Metadata": {"sha256": statistics.sha256},
        },
    )

    Storage(client, "us-east-1").upload_artifact(statistics)
    stubber.assert_no_pending_responses()


def test_a_versions_metrics_are_read_back_from_the_registry(sagemaker, state):
    api, stubber = sagemaker
    (version,) = state.standalone[Kind.MODEL_VERSION]
    uri = state.statistics[0].s3_uri
    stubber.add_response(
        "list_model_packages",
        {
            "ModelPackageSummaryList": [
                {
                    "ModelPackageArn": ARN,
                    "ModelPackageGroupName": "pose",
                    "ModelPackageVersion": 3,
                    "CreationTime": datetime(2026, 1, 3, tzinfo=UTC),
                    "ModelPackageStatus": "Completed",
                    "ModelApprovalStatus": "PendingManualApproval",
                }
            ]
        },
        {"ModelPackageGroupName": "pose", "SortBy": "CreationTime", "SortOrder": "Ascending"},
    )
    stubber.add_response(
        "describe_model_package",
        {
            "ModelPackageName": "pose",
            "ModelPackageGroupName": "pose",
            "ModelPackageVersion": 3,
            "ModelPackageArn": ARN,
            "CreationTime": datetime(2026, 1, 3, tzinfo=UTC),
            "ModelPackageStatus": "Completed",
            "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
            "ModelApprovalStatus": "PendingManualApproval",
            "InferenceSpecification": {
                "Containers": [{"Image": INFERENCE_IMAGE, "ModelDataUrl": version.model_data_url}],
                "SupportedContentTypes": ["image/jpeg"],
                "SupportedResponseMIMETypes": ["application/json"],
            },
            "ModelMetrics": {
                "ModelQuality": {
                    "Statistics": {
                        "ContentType": "application/json",
                        "S3Uri": uri,
                        "ContentDigest": f"sha256:{version.metrics_sha256}",
                    }
                }
            },
            "CustomerMetadataProperties": {**dict(version.metadata), "pose:model": version.identity},
        },
        {"ModelPackageName": ARN},
    )

    (found,) = api.model_versions("pose")

    assert found == version  # the same model: metrics are not its identity
    assert (found.metrics_uri, found.metrics_sha256, found.pull_request) == (
        uri,
        version.metrics_sha256,
        "42",
    )
    assert dict(found.metadata)["torso_pck"] == dict(version.metadata)["torso_pck"]
