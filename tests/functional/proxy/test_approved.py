"""The approval Lambda with SageMaker's own event payload (the AWS docs' "Model Package State Change"
sample, for this project's group) and a Stubber'd SageMaker: each request exact."""

from __future__ import annotations

import copy

import boto3
import pytest
from botocore.stub import Stubber

from proxy.approved import EndpointBusy, Settings, _hashed, handle

ACCOUNT = "123456789012"
GROUP = "pose"
ARN = f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:model-package/{GROUP}/2"
IMAGE = f"{ACCOUNT}.dkr.ecr.us-east-2.amazonaws.com/pose-inference@sha256:" + "a" * 64
DATA = "s3://pose-prod-bucket/pose-prod/models/0123456789abcdef/model.tar.gz"
EVENT = {
    "version": "0",
    "id": "844e2571-85d4-695f-b930-0153b71dcb42",
    "detail-type": "SageMaker Model Package State Change",
    "source": "aws.sagemaker",
    "account": ACCOUNT,
    "time": "2021-02-24T17:00:14Z",
    "region": "us-east-2",
    "resources": [ARN],
    "detail": {
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 2,
        "ModelPackageArn": ARN,
        "CreationTime": "2021-02-24T17:00:14Z",
        "InferenceSpecification": {
            "Containers": [{"Image": IMAGE, "ModelDataUrl": DATA}],
            "SupportedContentTypes": ["image/jpeg"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
        "ModelPackageStatus": "Completed",
        "CertifyForMarketplace": False,
        "ModelApprovalStatus": "Approved",
        "LastModifiedTime": "2021-02-24T17:00:14Z",
    },
}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/pose-prod-sagemaker-execution"
BLUE_GREEN = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 300}
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "pose-prod-invocation-5xx"}]},
}
SETTINGS = Settings(GROUP, "pose-prod", "pose-prod", ROLE, BLUE_GREEN, {"pose:deployment": "pose-prod"})
TAGS = [{"Key": "pose:deployment", "Value": "pose-prod"}]
CONTAINER = {"Image": IMAGE, "ModelDataUrl": DATA, "Environment": {"POSE_MAX_PEOPLE": "4"}}
CURRENT_CONFIG = {
    "EndpointConfigName": "pose-prod-config-00000000",
    "EndpointConfigArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:endpoint-config/pose-prod-config-00000000",
    "CreationTime": "2021-02-24T17:00:14Z",
    "ProductionVariants": [
        {
            "VariantName": "AllTraffic",
            "ModelName": "pose-prod-model-00000000",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 1.0,
        }
    ],
    "DataCaptureConfig": {
        "EnableCapture": True,
        "InitialSamplingPercentage": 100,
        "DestinationS3Uri": "s3://pose-prod-bucket/pose-prod/data-capture",
        "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
    },
}


@pytest.fixture
def sagemaker():
    client = boto3.client(
        "sagemaker", region_name="us-east-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def package(status: str = "Approved", environment: dict | None = None) -> dict:
    container = {"Image": IMAGE, "ModelDataUrl": DATA, "Environment": environment or {"POSE_MAX_PEOPLE": "4"}}
    return {
        "ModelPackageName": GROUP,
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 2,
        "ModelPackageArn": ARN,
        "CreationTime": "2021-02-24T17:00:14Z",
        "ModelPackageStatus": "Completed",
        "ModelPackageStatusDetails": {"ValidationStatuses": []},
        "ModelApprovalStatus": status,
        "InferenceSpecification": {
            "Containers": [container],
            "SupportedContentTypes": ["image/jpeg"],
            "SupportedResponseMIMETypes": ["application/json"],
        },
    }


def newest(stubber: Stubber, arn: str = ARN) -> None:
    summary = {
        "ModelPackageGroupName": GROUP,
        "ModelPackageVersion": 2,
        "ModelPackageArn": arn,
        "CreationTime": "2021-02-24T17:00:14Z",
        "ModelPackageStatus": "Completed",
    }
    stubber.add_response(
        "list_model_packages",
        {"ModelPackageSummaryList": [summary]},
        {
            "ModelPackageGroupName": GROUP,
            "ModelApprovalStatus": "Approved",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 1,
        },
    )


def endpoint(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "describe_endpoint",
        {
            "EndpointName": "pose-prod",
            "EndpointArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:endpoint/pose-prod",
            "EndpointConfigName": "pose-prod-config-00000000",
            "EndpointStatus": status,
            "CreationTime": "2021-02-24T17:00:14Z",
            "LastModifiedTime": "2021-02-24T17:00:14Z",
        },
        {"EndpointName": "pose-prod"},
    )


def running(stubber: Stubber, environment: dict) -> None:
    stubber.add_response(
        "describe_endpoint_config", CURRENT_CONFIG, {"EndpointConfigName": "pose-prod-config-00000000"}
    )
    stubber.add_response(
        "describe_model",
        {
            "ModelName": "pose-prod-model-00000000",
            "ModelArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:model/m",
            "CreationTime": "2021-02-24T17:00:14Z",
            "PrimaryContainer": {"Image": IMAGE, "ModelDataUrl": DATA, "Environment": environment},
        },
        {"ModelName": "pose-prod-model-00000000"},
    )


def run(client, event=EVENT, sleep=None, remaining=lambda: 900_000) -> dict:
    slept = sleep if sleep is not None else (lambda seconds: pytest.fail("no wait expected"))
    return handle(event, client, SETTINGS, slept, remaining)


def test_an_approval_moves_the_endpoint_to_a_new_model_and_a_copy_of_its_config(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    newest(stubber)
    endpoint(stubber, "InService")
    running(stubber, {"POSE_MAX_PEOPLE": "1"})  # the stage runs another model now
    model = _hashed("pose-prod", "model", {"approved": CONTAINER, "role": ROLE})
    copied = copy.deepcopy({k: CURRENT_CONFIG[k] for k in ("ProductionVariants", "DataCaptureConfig")})
    copied["ProductionVariants"][0]["ModelName"] = model
    config = _hashed("pose-prod", "config", copied)
    gone = {"Code": "ValidationException", "Message": "Could not find model"}
    stubber.add_client_error(
        "describe_model", gone["Code"], gone["Message"], expected_params={"ModelName": model}
    )
    stubber.add_response(
        "create_model",
        {"ModelArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:model/{model}"},
        {"ModelName": model, "PrimaryContainer": CONTAINER, "ExecutionRoleArn": ROLE, "Tags": TAGS},
    )
    stubber.add_client_error(
        "describe_endpoint_config",
        "ValidationException",
        "Could not find endpoint configuration",
        expected_params={"EndpointConfigName": config},
    )
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:endpoint-config/{config}"},
        {"EndpointConfigName": config, "Tags": TAGS, **copied},
    )
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": f"arn:aws:sagemaker:us-east-2:{ACCOUNT}:endpoint/pose-prod"},
        {"EndpointName": "pose-prod", "EndpointConfigName": config, "DeploymentConfig": BLUE_GREEN},
    )

    assert run(client) == {"outcome": "deploying", "version": ARN, "model": model, "config": config}
    assert model.startswith("pose-prod-model-") and config.startswith("pose-prod-config-")


def test_the_endpoint_already_on_the_version_is_left_alone(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    newest(stubber)
    endpoint(stubber, "InService")
    running(stubber, {"POSE_MAX_PEOPLE": "4"})

    assert run(client) == {"outcome": "unchanged", "version": ARN}


def test_an_unknown_or_deleted_version_is_dropped_without_a_retry(sagemaker):
    client, stubber = sagemaker
    stubber.add_client_error(
        "describe_model_package",
        "ValidationException",
        f"ModelPackage {ARN} does not exist.",
        expected_params={"ModelPackageName": ARN},
    )

    assert run(client)["outcome"] == "dropped"


def test_a_version_of_another_group_is_dropped_before_any_call(sagemaker):
    client, _ = sagemaker
    other = copy.deepcopy(EVENT)
    other["detail"]["ModelPackageGroupName"] = "someoneelse"

    assert run(client, other) == {
        "outcome": "dropped",
        "reason": "a version of group 'someoneelse', not 'pose'",
    }


def test_an_older_approval_arriving_after_a_newer_one_is_dropped(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    newest(stubber, ARN.replace("/2", "/3"))

    assert run(client)["reason"].startswith("a newer approved version")


def test_the_second_of_two_quick_approvals_waits_for_the_first_update_then_deploys(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    newest(stubber)
    endpoint(stubber, "Updating")
    endpoint(stubber, "InService")
    running(stubber, {"POSE_MAX_PEOPLE": "4"})  # the first update was to this very version
    waits = []

    assert run(client, sleep=waits.append)["outcome"] == "unchanged"
    assert waits == [30]


def test_an_update_outlasting_this_run_raises_so_lambda_retries_the_event(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package(), {"ModelPackageName": ARN})
    newest(stubber)
    endpoint(stubber, "Updating")

    with pytest.raises(EndpointBusy, match="still Updating"):
        run(client, remaining=lambda: 61_000)


def test_a_version_no_longer_approved_and_a_malformed_event_are_dropped(sagemaker):
    client, stubber = sagemaker
    stubber.add_response("describe_model_package", package("Rejected"), {"ModelPackageName": ARN})

    assert run(client)["reason"] == "the version is Rejected now, not Approved"
    assert run(client, {"Records": []})["outcome"] == "dropped"
