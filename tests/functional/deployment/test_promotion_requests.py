"""Approval's and rollback's requests spelled out in full (Stubber), and which version or set a
rollback picks."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from deployment.aws.sagemaker import SageMaker
from deployment.aws.storage import Storage
from deployment.errors import DeploymentError
from deployment.model_sets import stage_sets
from deployment.multi_model import container_environment, served_by
from deployment.naming import Names
from deployment.promotion import approve, previous_approved
from deployment.resources.model import Model
from deployment.resources.registry import IDENTITY, ModelVersion, identity_of
from tests.unit.deployment.builders import INFERENCE_IMAGE

GROUP = "pose"
ARN = "arn:aws:sagemaker:us-east-1:123456789012:model-package/pose/{}"
ARTIFACT = "s3://pose-{stage}-bucket/pose-{stage}/models/{folder}/model.tar.gz"
ENVIRONMENT = (("POSE_MAX_PEOPLE", "5"),)


def version(number: int, status: str = "PendingManualApproval", folder: str = "0" * 16) -> ModelVersion:
    return ModelVersion(
        GROUP,
        f"identity-{folder}",
        INFERENCE_IMAGE,
        ARTIFACT.format(stage="pr-1", folder=folder),
        ENVIRONMENT,
        None,
        (("commit", f"{number}" * 12), ("model", "blazepose-heavy")),
        ARN.format(number),
        number,
        status,
    )


@pytest.fixture
def sagemaker(stubbed):
    client, stubber = stubbed("sagemaker")
    yield SageMaker(client), stubber
    stubber.assert_no_pending_responses()


def expect_listing(stubber, versions: list[ModelVersion]) -> None:
    stubber.add_response(
        "list_model_packages",
        {
            "ModelPackageSummaryList": [
                {
                    "ModelPackageArn": v.arn,
                    "ModelPackageGroupName": GROUP,
                    "ModelPackageVersion": v.version,
                    "CreationTime": datetime(2026, 1, v.version, tzinfo=UTC),
                    "ModelPackageStatus": "Completed",
                    "ModelApprovalStatus": v.status,
                }
                for v in versions
            ]
        },
        {"ModelPackageGroupName": GROUP, "SortBy": "CreationTime", "SortOrder": "Ascending"},
    )
    for v in versions:
        stubber.add_response(
            "describe_model_package",
            {
                "ModelPackageName": GROUP,
                "ModelPackageGroupName": GROUP,
                "ModelPackageVersion": v.version,
                "ModelPackageArn": v.arn,
                "CreationTime": datetime(2026, 1, v.version, tzinfo=UTC),
                "ModelPackageStatus": "Completed",
                "ModelPackageStatusDetails": {"ValidationStatuses": [], "ImageScanStatuses": []},
                "ModelApprovalStatus": v.status,
                "InferenceSpecification": {
                    "Containers": [
                        {
                            "Image": v.image_uri,
                            "ModelDataUrl": v.model_data_url,
                            "Environment": dict(ENVIRONMENT),
                        }
                    ],
                    "SupportedContentTypes": ["image/jpeg"],
                    "SupportedResponseMIMETypes": ["application/json"],
                },
                "CustomerMetadataProperties": {**dict(v.metadata), IDENTITY: v.identity},
            },
            {"ModelPackageName": v.arn},
        )


def test_approve_marks_the_deployed_models_version_approved(sagemaker):
    api, stubber = sagemaker
    listed = [version(1, "Approved", "1" * 16), version(2, folder="2" * 16)]
    expect_listing(stubber, listed)
    stubber.add_response(
        "update_model_package",
        {"ModelPackageArn": ARN.format(2)},
        {
            "ModelPackageArn": ARN.format(2),
            "ModelApprovalStatus": "Approved",
            "ApprovalDescription": "in service on stage prod",
        },
    )
    said = []

    approved = approve(SimpleNamespace(sagemaker=api), listed[1], "prod", said.append)

    assert (approved.version, approved.status) == (2, "Approved")
    assert said == ["  approved version 2 (blazepose-heavy, commit 222222222222, Approved)"]


def test_approving_a_version_already_approved_sends_nothing(sagemaker):
    api, stubber = sagemaker
    listed = [version(1, "Approved")]
    expect_listing(stubber, listed)
    said = []

    approve(SimpleNamespace(sagemaker=api), listed[0], "prod", said.append)

    assert said == ["  version 1 (blazepose-heavy, commit 111111111111, Approved): already approved"]


@pytest.mark.parametrize("registry", ["no group", "other versions"])
def test_approving_a_model_the_registry_does_not_hold_is_a_clear_error(sagemaker, registry):
    api, stubber = sagemaker
    if registry == "no group":
        stubber.add_client_error(
            "list_model_packages",
            "ResourceNotFound",
            "ModelPackageGroup pose does not exist.",
            expected_params={
                "ModelPackageGroupName": GROUP,
                "SortBy": "CreationTime",
                "SortOrder": "Ascending",
            },
        )
    else:
        expect_listing(stubber, [version(1, folder="1" * 16)])

    with pytest.raises(DeploymentError) as raised:
        approve(SimpleNamespace(sagemaker=api), version(2, folder="2" * 16), "prod", print)

    assert str(raised.value) == (
        "model registry pose: the model just deployed is no version of the registry, so there is nothing "
        "to approve (hint: python -m deployment models lists the versions and their status)"
    )


def test_approving_a_version_deleted_meanwhile_is_a_clear_error(sagemaker):
    api, stubber = sagemaker
    listed = [version(3)]
    expect_listing(stubber, listed)
    stubber.add_client_error(
        "update_model_package",
        "ValidationException",
        f"Model package {ARN.format(3)} does not exist.",
        expected_params={
            "ModelPackageArn": ARN.format(3),
            "ModelApprovalStatus": "Approved",
            "ApprovalDescription": "in service on stage prod",
        },
    )

    with pytest.raises(DeploymentError) as raised:
        approve(SimpleNamespace(sagemaker=api), listed[0], "prod", print)

    assert str(raised.value) == (
        f"model registry pose: version 3 could not be approved (ValidationException: Model package "
        f"{ARN.format(3)} does not exist.) (hint: it may have been deleted meanwhile; python -m "
        "deployment models lists the versions and their status)"
    )


def test_describe_model_reads_a_model_back_and_none_once_deleted(sagemaker):
    api, stubber = sagemaker
    stubber.add_response(
        "describe_model",
        {
            "ModelName": "pose-prod-model-12345678",
            "PrimaryContainer": {
                "Image": INFERENCE_IMAGE,
                "ModelDataUrl": "s3://b/k/model.tar.gz",
                "Environment": {"B": "2", "A": "1"},
            },
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
            "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
            "ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/pose-prod-model-12345678",
        },
        {"ModelName": "pose-prod-model-12345678"},
    )
    stubber.add_client_error(
        "describe_model",
        "ValidationException",
        'Could not find model "arn:aws:sagemaker:us-east-1:123456789012:model/gone".',
        expected_params={"ModelName": "gone"},
    )

    assert api.describe_model("pose-prod-model-12345678") == Model(
        "pose-prod-model-12345678",
        INFERENCE_IMAGE,
        "s3://b/k/model.tar.gz",
        "arn:aws:iam::123456789012:role/r",
        (("A", "1"), ("B", "2")),
    )
    assert api.describe_model("gone") is None


def running(folder: str, stage: str = "prod") -> Model:
    """The model a stage's endpoint runs: the artifact's copy in its own bucket."""
    artifact = ARTIFACT.format(stage=stage, folder=folder)
    return Model("pose-prod-model-1", INFERENCE_IMAGE, artifact, "role", ENVIRONMENT)


def test_rollback_picks_the_newest_approved_version_older_than_the_one_running():
    versions = (
        version(1, "Approved", "1" * 16),
        version(2, "Approved", "2" * 16),
        version(3, "Rejected", "3" * 16),
        version(4, "Approved", "4" * 16),
        version(5, "Approved", "5" * 16),
    )

    # Matched by content (image, artifact folder, environment) wherever its copy lies.
    assert previous_approved(GROUP, versions, running("5" * 16)) == (versions[4], versions[3])
    assert previous_approved(GROUP, versions, running("4" * 16)) == (versions[3], versions[1])
    # A rolled-back update left version 6 pending and the endpoint on 5: back to 4.
    assert (
        previous_approved(GROUP, (*versions, version(6, folder="6" * 16)), running("5" * 16))[1]
        == versions[3]
    )
    # A model no version records (deployed by hand): the newest approved one.
    assert previous_approved(GROUP, versions, running("9" * 16)) == (None, versions[4])
    # The same image and artifact with another environment is another model.
    other = replace(running("5" * 16), environment=(("POSE_MAX_PEOPLE", "2"),))
    assert previous_approved(GROUP, versions, other) == (None, versions[4])


def test_rollback_without_an_earlier_approved_version_says_so():
    versions = (version(1, "Rejected", "1" * 16), version(2, "Approved", "2" * 16))

    with pytest.raises(DeploymentError) as raised:
        previous_approved(GROUP, versions, running("2" * 16))

    assert str(raised.value) == (
        "model registry pose: there is no approved version before version 2 (blazepose-heavy, commit "
        "222222222222, Approved) to roll back to (hint: python -m deployment models lists the versions "
        "and their status)"
    )
    with pytest.raises(DeploymentError) as raised:
        previous_approved(GROUP, (), running("2" * 16))
    assert str(raised.value).startswith("model registry pose: there is no approved version to roll back to (")


SET_PREFIX = "s3://pose-prod-bucket/pose-prod/models/multi/{}/"
SHA = {"blazepose-heavy": "a" * 64, "movenet-lightning": "b" * 64, "blazepose-lite": "c" * 64}


def set_version(number: int, name: str, status: str = "Approved") -> ModelVersion:
    """A version a multi-model stage registered: the model's own environment, its artifact in a set."""
    return replace(
        version(number, status),
        identity=identity_of(INFERENCE_IMAGE, SHA[name], ENVIRONMENT),
        model_data_url=SET_PREFIX.format("1" * 16) + f"{name}.tar.gz",
        metadata=(("commit", f"{number}" * 12), ("model", name)),
    )


def expect_set_model(
    sagemaker_stubber, model: str, folder: str, served: str, mode: str = "MultiModel", day: int = 1
) -> None:
    environment = {**dict(ENVIRONMENT), "POSE_MODELS": served, "SAGEMAKER_MULTI_MODEL": "true"}
    sagemaker_stubber.add_response(
        "describe_model",
        {
            "ModelName": model,
            "PrimaryContainer": {
                "Image": INFERENCE_IMAGE,
                "ModelDataUrl": SET_PREFIX.format(folder),
                "Environment": environment,
                "Mode": mode,
            },
            "ExecutionRoleArn": "arn:aws:iam::123456789012:role/r",
            "CreationTime": datetime(2026, 1, day, tzinfo=UTC),
            "ModelArn": f"arn:aws:sagemaker:us-east-1:123456789012:model/{model}",
        },
        {"ModelName": model},
    )


def expect_artifact(s3_stubber, folder: str, name: str, gone: bool = False) -> None:
    expected = {"Bucket": "pose-prod-bucket", "Key": f"pose-prod/models/multi/{folder}/{name}.tar.gz"}
    if gone:
        s3_stubber.add_client_error("head_object", "404", "Not Found", 404, expected_params=expected)
    else:
        s3_stubber.add_response("head_object", {"Metadata": {"sha256": SHA[name]}}, expected)


def test_the_sets_a_stage_ran_are_read_from_its_kept_endpoint_configs(stubbed):
    """Newest first, first served before the running one (by their Models' creation); a newer set
    (an update rolled back from, or the one a rollback left) and a single-model config are no sets to
    go back to; each model found in the registry by identity."""
    sagemaker_client, sagemaker_stubber = stubbed("sagemaker")
    s3_client, s3_stubber = stubbed("s3")
    versions = [
        set_version(1, "blazepose-heavy"),
        set_version(2, "movenet-lightning"),
        set_version(3, "blazepose-lite", "PendingManualApproval"),
    ]
    expect_listing(sagemaker_stubber, versions)
    configs = {  # name -> (created day, model)
        "pose-prod-config-00000001": (1, "pose-prod-model-00000001"),  # single-model, before the sets
        "pose-prod-config-00000002": (2, "pose-prod-model-00000002"),  # set A
        "pose-prod-config-00000003": (3, "pose-prod-model-00000003"),  # set B: running
        "pose-prod-config-00000004": (4, "pose-prod-model-00000004"),  # an update rolled back
    }
    sagemaker_stubber.add_response(
        "list_endpoint_configs",
        {
            "EndpointConfigs": [
                {
                    "EndpointConfigName": name,
                    "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}",
                    "CreationTime": datetime(2026, 1, day, tzinfo=UTC),
                }
                for name, (day, _) in configs.items()
            ]
        },
        {"NameContains": "pose-prod"},
    )
    for name, (_, model) in configs.items():
        sagemaker_stubber.add_response(
            "describe_endpoint_config",
            {
                "EndpointConfigName": name,
                "EndpointConfigArn": f"arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/{name}",
                "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": model}],
                "CreationTime": datetime(2026, 1, 1, tzinfo=UTC),
            },
            {"EndpointConfigName": name},
        )
    expect_set_model(
        sagemaker_stubber, "pose-prod-model-00000003", "b" * 16, "blazepose-heavy,blazepose-lite", day=3
    )
    expect_artifact(s3_stubber, "b" * 16, "blazepose-heavy")
    expect_artifact(s3_stubber, "b" * 16, "blazepose-lite")
    expect_set_model(sagemaker_stubber, "pose-prod-model-00000004", "c" * 16, "blazepose-lite", day=4)
    expect_artifact(s3_stubber, "c" * 16, "blazepose-lite")
    expect_set_model(
        sagemaker_stubber, "pose-prod-model-00000002", "a" * 16, "movenet-lightning,blazepose-heavy", day=2
    )
    expect_artifact(s3_stubber, "a" * 16, "movenet-lightning", gone=True)
    expect_artifact(s3_stubber, "a" * 16, "blazepose-heavy")
    expect_set_model(sagemaker_stubber, "pose-prod-model-00000001", "0" * 16, "", mode="SingleModel")
    aws = SimpleNamespace(sagemaker=SageMaker(sagemaker_client), storage=Storage(s3_client, "us-east-1"))

    found = stage_sets(
        aws, Names("pose-prod", "123456789012", "us-east-1"), GROUP, "pose-prod-config-00000003"
    )

    running, (earlier,) = found.running, found.earlier
    assert [(m.name, m.version.version, m.version.status) for m in running.members] == [
        ("blazepose-heavy", 1, "Approved"),
        ("blazepose-lite", 3, "PendingManualApproval"),
    ]
    assert (earlier.config_name, earlier.environment) == ("pose-prod-config-00000002", ENVIRONMENT)
    assert earlier.missing == (SET_PREFIX.format("a" * 16) + "movenet-lightning.tar.gz",)
    assert earlier.describe() == (
        "set [movenet-lightning (a model the registry does not hold), "
        "blazepose-heavy version 1 (commit 111111111111, Approved)]"
    )
    assert not earlier.approved and not running.approved
    sagemaker_stubber.assert_no_pending_responses()
    s3_stubber.assert_no_pending_responses()


def test_a_multi_model_models_environment_reads_back_as_its_models_and_theirs():
    environment = container_environment(ENVIRONMENT, ("blazepose-lite", "blazepose-heavy"))

    assert served_by(environment) == (ENVIRONMENT, ("blazepose-lite", "blazepose-heavy"))
    assert served_by(ENVIRONMENT) == (ENVIRONMENT, ())
