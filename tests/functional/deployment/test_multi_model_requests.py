"""A multi-model stage's SageMaker and S3 requests, spelled out in full (botocore Stubber)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.stub import ANY

from deployment.aws.sagemaker import SageMaker
from deployment.aws.storage import Storage
from deployment.resources.base import Kind
from tests.functional.deployment.contract import BUCKET, ROLE_ARN, TAGS
from tests.unit.deployment.builders import INFERENCE_IMAGE
from tests.unit.deployment.test_multi_model_plan import multi

MODELS = "blazepose-heavy,blazepose-lite,movenet-lightning"


@pytest.fixture
def sagemaker(stubbed):
    client, stubber = stubbed("sagemaker")
    yield SageMaker(client), stubber
    stubber.assert_no_pending_responses()


def state():
    return multi(project={"tags": {"owner": "ml-team"}})


def test_create_model_is_multi_model_over_the_prefix_and_names_the_models_default_first(sagemaker):
    api, stubber = sagemaker
    target = state()
    prefix = f"s3://{BUCKET}/pose-dev/models/multi/"
    assert target.model.model_data_url.startswith(prefix) and target.model.model_data_url.endswith("/")
    stubber.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/x"},
        {
            "ModelName": target.model.name,
            "PrimaryContainer": {
                "Image": INFERENCE_IMAGE,
                "ModelDataUrl": target.model.model_data_url,
                "Environment": {"POSE_MODELS": MODELS, "SAGEMAKER_MULTI_MODEL": "true"},
                "Mode": "MultiModel",
            },
            "ExecutionRoleArn": ROLE_ARN,
            "Tags": TAGS,
        },
    )

    api.create_model(target.model, target.tags)


def test_each_model_is_uploaded_as_its_own_artifact_under_the_prefix(stubbed, tmp_path):
    client, stubber = stubbed("s3")
    artifact = state().artifacts[1]
    local = tmp_path / "blazepose-lite.tar.gz"
    local.write_bytes(b"the packaged model")
    key = artifact.key
    assert key.startswith("pose-dev/models/multi/") and key.endswith("/blazepose-lite.tar.gz")
    stubber.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": key,
            "Body": ANY,
            "ChecksumAlgorithm": "SHA256",
            "Metadata": {"sha256": artifact.sha256},
        },
    )

    Storage(client, "us-east-1").upload_artifact(replace(artifact, local_path=str(local)))
    stubber.assert_no_pending_responses()


def test_the_registry_gets_each_model_as_a_single_model_package(sagemaker):
    api, stubber = sagemaker
    lite = state().standalone[Kind.MODEL_VERSION][1]
    stubber.add_response(
        "create_model_package",
        {"ModelPackageArn": "arn:aws:sagemaker:us-east-1:123456789012:model-package/pose/2"},
        {
            "ModelPackageGroupName": "pose",
            "ModelPackageDescription": "blazepose-lite as stage pose-dev ran it",
            "InferenceSpecification": {
                "Containers": [
                    {"Image": INFERENCE_IMAGE, "ModelDataUrl": lite.model_data_url, "Environment": {}}
                ],
                "SupportedContentTypes": [
                    "image/jpeg",
                    "image/png",
                    "application/json",
                    "application/x-image",
                ],
                "SupportedResponseMIMETypes": ["application/json"],
                "SupportedRealtimeInferenceInstanceTypes": ["ml.m5.large"],
            },
            "ModelApprovalStatus": "PendingManualApproval",
            "CustomerMetadataProperties": {
                "model": "blazepose-lite",
                "pose:stage": "pose-dev",
                "commit": "abc123",
                "pose:model": lite.identity,
            },
        },
    )

    assert api.create_model_version(lite).endswith("model-package/pose/2")
    assert lite.model_data_url.endswith("/blazepose-lite.tar.gz")
