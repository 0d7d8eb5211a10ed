"""The model registry against moto: one group per project, a version per model a stage ran,
recorded once, kept after destroy, listed with the stages running each."""

from __future__ import annotations

from tests.unit.deployment.builders import REGISTRY

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
OTHER_IMAGE = ("--inference-image", f"{REGISTRY}/pose@sha256:" + "e" * 64)


def versions(console) -> list[dict]:
    sagemaker = console.client("sagemaker")
    found = sagemaker.list_model_packages(ModelPackageGroupName="pose", SortBy="CreationTime")[
        "ModelPackageSummaryList"
    ]
    return [sagemaker.describe_model_package(ModelPackageName=v["ModelPackageArn"]) for v in found]


def test_a_deploy_records_the_model_it_runs_pending_approval(run, console):
    result = run("deploy", *QUICK, "--commit", "0123456789abcdef")

    assert result.code == 0, result.err
    (version,) = versions(console)
    assert version["ModelApprovalStatus"] == "PendingManualApproval"
    container = version["InferenceSpecification"]["Containers"][0]
    model = console.client("sagemaker").describe_model(
        ModelName=console.client("sagemaker").list_models()["Models"][0]["ModelName"]
    )["PrimaryContainer"]
    assert (container["Image"], container["ModelDataUrl"]) == (model["Image"], model["ModelDataUrl"])
    metadata = version["CustomerMetadataProperties"]
    assert (metadata["commit"], metadata["pose:stage"], metadata["model"]) == (
        "0123456789abcdef",
        "pose-dev",
        "blazepose-heavy",
    )


def test_an_identical_model_is_recorded_once_across_stages_and_a_new_one_gets_a_version(run, console):
    assert run("deploy", *QUICK).code == 0
    assert run("deploy", *QUICK).code == 0
    assert run("deploy", *QUICK, "--set", "project.stage=pr-7").code == 0  # the same image and artifact
    assert len(versions(console)) == 1

    assert run("deploy", *QUICK, *OTHER_IMAGE).code == 0

    assert len(versions(console)) == 2


def test_models_lists_each_version_with_the_stages_running_it_and_destroy_keeps_them(run, console):
    assert run("deploy", *QUICK).code == 0
    assert run("deploy", *QUICK, "--set", "project.stage=pr-7", *OTHER_IMAGE).code == 0

    listed = run("models", *QUICK)
    destroyed = run("destroy", *QUICK)

    lines = listed.out.splitlines()
    assert listed.code == 0 and len(lines) == 2
    assert lines[0].rstrip().endswith("registered by pose-dev; runs on dev")
    assert lines[1].rstrip().endswith("registered by pose-pr-7; runs on pr-7")
    assert "PendingManualApproval" in lines[0]
    assert destroyed.code == 0 and len(versions(console)) == 2  # the registry is the project's history
