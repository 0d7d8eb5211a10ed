"""Promotion and rollback against moto: `deploy --approve` marks the version in service Approved
(never one a rolled-back update left), and `rollback` puts the stage back on the approved version
before the one it runs, from the registry alone: no image, no artifact given, nothing rebuilt."""

from __future__ import annotations

from deployment.config import load_config
from deployment.deploy_policy import Project, deploy_policy
from deployment.session_policy import session_policy
from tests.moto.deployment.conftest import ACCOUNT, REGION, SHIPPED
from tests.moto.deployment.test_permissions import grants, iam_actions
from tests.unit.deployment.builders import REGISTRY

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
OTHER_IMAGE = ("--inference-image", f"{REGISTRY}/pose@sha256:" + "e" * 64)
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"


def statuses(console) -> list[tuple[str, str]]:
    """(inference image, approval status) of each registry version, oldest first."""
    sagemaker = console.client("sagemaker")
    listed = sagemaker.list_model_packages(ModelPackageGroupName="pose", SortBy="CreationTime")
    found = [
        sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        for summary in listed["ModelPackageSummaryList"]
    ]
    return [
        (
            version["InferenceSpecification"]["Containers"][0]["Image"].rsplit("@sha256:", 1)[1][:1],
            version["ModelApprovalStatus"],
        )
        for version in found
    ]


def running_image(console) -> str:
    """The first hex digit of the digest the dev endpoint's model runs ('a' ours, 'e' the other)."""
    sagemaker = console.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointConfigName"]
    model = sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0][
        "ModelName"
    ]
    return sagemaker.describe_model(ModelName=model)["PrimaryContainer"]["Image"].rsplit("@sha256:", 1)[1][:1]


def test_deploy_approve_marks_the_version_in_service_approved_once(run, account, console):
    first = run("deploy", *QUICK, "--approve")
    mark = account.mark()
    again = run("deploy", *QUICK, "--approve")

    assert first.code == 0, first.err
    assert statuses(console) == [("a", "Approved")]
    assert "approved version 1 (blazepose-heavy" in first.out and "approved_versions=1" in first.out
    # The second run: nothing changed, nothing approved twice.
    assert again.code == 0 and "already approved" in again.out
    assert [call.operation for call in account.since(mark) if call.mutates] == []


def test_a_deploy_without_approve_leaves_the_version_pending(run, console):
    assert run("deploy", *QUICK).code == 0
    assert statuses(console) == [("a", "PendingManualApproval")]


def test_a_rolled_back_update_fails_and_leaves_its_version_unapproved(run, account, console):
    assert run("deploy", *QUICK, "--approve").code == 0
    # A pull-request stage ran the new model and registered it, pending; production then updates.
    assert run("deploy", *QUICK, "--set", "project.stage=pr-7", *OTHER_IMAGE).code == 0
    account.updates_succeed = False  # SageMaker rolls the blue/green update back

    result = run("deploy", *QUICK, *OTHER_IMAGE, "--approve")

    assert result.code == 1
    assert "the update was rolled back" in result.err, result.err
    assert statuses(console) == [("a", "Approved"), ("e", "PendingManualApproval")]
    (approval,) = account.requests("UpdateModelPackage")  # the first deploy's only
    assert (approval["ModelApprovalStatus"], approval["ApprovalDescription"]) == (
        "Approved",
        "in service on stage dev",
    )
    assert running_image(console) == "a"


def test_rollback_returns_the_stage_to_the_previous_approved_version_without_rebuilding(
    run, account, console
):
    assert run("deploy", *QUICK, "--approve", "--commit", "1111111111111111").code == 0
    assert run("deploy", *QUICK, *OTHER_IMAGE, "--approve", "--commit", "2222222222222222").code == 0
    assert running_image(console) == "e"
    mark = account.mark()

    result = run("rollback", *QUICK, "--stage", "dev")

    assert result.code == 0, result.err
    assert running_image(console) == "a"
    lines = result.out.splitlines()
    assert lines[0] == (
        "rollback pose-dev: version 2 (blazepose-heavy, commit 222222222222, Approved) -> "
        "version 1 (blazepose-heavy, commit 111111111111, Approved)"
    )
    assert lines[-1] == (
        "rolled back pose-dev: its endpoint runs version 1 (blazepose-heavy, commit 111111111111, Approved)"
    )
    # The first deploy's model and config were kept for rollback: only the endpoint moves, blue/green.
    mutations = [call for call in account.since(mark) if call.mutates]
    assert [call.operation for call in mutations] == ["UpdateEndpoint"], mutations
    (update,) = account.requests("UpdateEndpoint")[-1:]
    assert "AutoRollbackConfiguration" in update["DeploymentConfig"]
    # Versions keep their status; a second rollback has nowhere further back to go.
    assert statuses(console) == [("a", "Approved"), ("e", "Approved")]
    again = run("rollback", *QUICK)
    assert again.code == 1
    assert again.err.strip() == (
        "error: model registry pose: there is no approved version before version 1 (blazepose-heavy, "
        "commit 111111111111, Approved) to roll back to (hint: python -m deployment models lists the "
        "versions and their status)"
    )


def test_rollback_makes_again_the_model_and_config_cleaned_up_since(run, account, console):
    assert run("deploy", *QUICK, "--approve").code == 0
    keep_none = ("--set", "update.keep_previous=0")
    assert run("deploy", *QUICK, *OTHER_IMAGE, "--approve", *keep_none).code == 0
    assert run("deploy", *QUICK, *OTHER_IMAGE, *keep_none).code == 0  # cleans up the config it left
    assert len(console.client("sagemaker").list_models()["Models"]) == 1  # the first one cleaned up
    mark = account.mark()

    result = run("rollback", *QUICK, *keep_none)

    assert result.code == 0, result.err
    assert running_image(console) == "a"
    mutations = [call.operation for call in account.since(mark) if call.mutates]
    assert mutations == ["CreateModel", "CreateEndpointConfig", "UpdateEndpoint"]  # no upload, no build
    (model,) = account.requests("CreateModel")[-1:]
    assert model["PrimaryContainer"]["ModelDataUrl"].startswith(f"s3://{BUCKET}/pose-dev/models/")


def test_rollback_refuses_without_an_approved_version_an_endpoint_or_the_artifact(run, console):
    nothing = run("rollback", *QUICK)
    assert nothing.code == 1
    assert nothing.err.strip() == "error: pose-dev: no endpoint is deployed: nothing to roll back"

    assert run("deploy", *QUICK).code == 0
    assert run("deploy", *QUICK, *OTHER_IMAGE).code == 0
    unapproved = run("rollback", *QUICK)
    assert unapproved.code == 1
    assert "there is no approved version before version 2 (blazepose-heavy" in unapproved.err

    sagemaker = console.client("sagemaker")
    first = sagemaker.list_model_packages(ModelPackageGroupName="pose", SortBy="CreationTime")[
        "ModelPackageSummaryList"
    ][0]["ModelPackageArn"]
    sagemaker.update_model_package(ModelPackageArn=first, ModelApprovalStatus="Approved")
    s3 = console.client("s3")
    for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="pose-dev/models/")["Contents"]:
        s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    gone = run("rollback", *QUICK)
    assert gone.code == 1
    assert "the artifact of version 1 is not in this stage's bucket" in gone.err, gone.err
    assert running_image(console) == "e"


def test_every_call_of_approve_and_rollback_is_granted_by_the_role_and_the_session(run, account):
    assert run("deploy", *QUICK, "--approve").code == 0
    assert run("deploy", *QUICK, *OTHER_IMAGE, "--approve", "--set", "update.keep_previous=0").code == 0
    assert run("deploy", *QUICK, *OTHER_IMAGE, "--set", "update.keep_previous=0").code == 0
    assert run("rollback", *QUICK, "--set", "update.keep_previous=0").code == 0
    config = load_config(SHIPPED, QUICK[1::2])
    policies = (deploy_policy(Project.of(config, ACCOUNT)), session_policy(config, ACCOUNT))
    needed = {action for call in account.calls for action in iam_actions(call.service, call.operation)}

    assert {"sagemaker:UpdateModelPackage", "sagemaker:DescribeModel", "sagemaker:UpdateEndpoint"} <= needed
    assert {action for action in needed if not all(grants(policy, action) for policy in policies)} == set()
