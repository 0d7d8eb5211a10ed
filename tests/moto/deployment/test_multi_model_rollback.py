"""`rollback` on a multi-model stage against moto: back to the newest earlier set whose every model
is approved, found from the endpoint configs kept for rollback; nothing rebuilt or uploaded."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

import deployment.artifact
from deployment.config import load_config
from deployment.deploy_policy import Project, deploy_policy
from deployment.session_policy import session_policy
from inference.manifest import sha256_of
from tests.moto.deployment.conftest import ACCOUNT, REGION, SHIPPED
from tests.moto.deployment.test_permissions import grants, iam_actions

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
SET_A = ("--set", "endpoint.models=[blazepose-heavy, movenet-lightning]", "--model-artifact", "")
SET_B = ("--set", "endpoint.models=[blazepose-heavy, blazepose-lite]", "--model-artifact", "")
# Set A's models with another default: another Model (POSE_MODELS differs), the same registry versions.
SET_C = (*SET_A, "--set", "model.name=movenet-lightning")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"


@pytest.fixture(autouse=True)
def packaged(monkeypatch, tmp_path):
    """Each catalog model "packaged" as a small tarball of its own, the same bytes every time."""

    def build_artifact(model, output_dir: Path) -> tuple[Path, str]:
        source = tmp_path / f"{model.name}.tflite"
        source.write_bytes(f"TFL3 {model.name}".encode())
        path = tmp_path / f"{model.name}-packaged.tar.gz"
        if not path.exists():
            with tarfile.open(path, "w:gz") as archive:
                archive.add(source, arcname="model.tflite")
        return path, sha256_of(path)

    monkeypatch.setattr(deployment.artifact, "build_artifact", build_artifact)


def endpoint_model(console) -> str:
    sagemaker = console.client("sagemaker")
    config = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointConfigName"]
    return sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"][0]["ModelName"]


def deploy(run, console, *extra: str) -> str:
    """Deploy, and the Model the endpoint then runs."""
    result = run("deploy", *QUICK, *extra)
    assert result.code == 0, result.err
    return endpoint_model(console)


def test_rollback_puts_the_stage_back_on_the_previous_approved_set(
    run, account, console, monkeypatch, tmp_path
):
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    model_a = deploy(run, console, *SET_A, "--approve", "--commit", "a" * 16)
    model_b = deploy(run, console, *SET_B, "--approve", "--commit", "b" * 16)
    assert model_a != model_b
    mark = account.mark()

    result = run("rollback", *QUICK, *SET_B[:2])

    assert result.code == 0, result.err
    assert endpoint_model(console) == model_a
    lines = result.out.splitlines()
    assert lines[0] == (
        "rollback pose-dev: set [blazepose-heavy version 1 (commit aaaaaaaaaaaa, Approved), "
        "blazepose-lite version 3 (commit bbbbbbbbbbbb, Approved)] -> "
        "set [blazepose-heavy version 1 (commit aaaaaaaaaaaa, Approved), "
        "movenet-lightning version 2 (commit aaaaaaaaaaaa, Approved)]"
    )
    assert lines[-1].startswith("rolled back pose-dev: its endpoint runs set [blazepose-heavy version 1")
    assert "model_version<<" in outputs.read_text() and "\n1,2\n" in outputs.read_text()
    # Set A's Model and endpoint config were kept for rollback: only the endpoint moves, blue/green.
    mutations = [call.operation for call in account.since(mark) if call.mutates]
    assert mutations == ["UpdateEndpoint"]
    (update,) = account.requests("UpdateEndpoint")[-1:]
    assert "AutoRollbackConfiguration" in update["DeploymentConfig"]


def test_a_set_with_an_unapproved_model_is_passed_over(run, account, console):
    model_a = deploy(run, console, *SET_A, "--approve")
    deploy(run, console, *SET_B)  # blazepose-lite stays pending
    model_c = deploy(run, console, *SET_C, "--approve")
    assert model_c != model_a

    result = run("rollback", *QUICK, *SET_C[:2])

    assert result.code == 0, result.err
    assert endpoint_model(console) == model_a
    assert result.out.splitlines()[1].startswith("  passed over the set of pose-dev-config-")
    assert result.out.splitlines()[1].endswith(
        ": not approved: blazepose-lite version 3 (commit unknown, PendingManualApproval)"
    )


def test_rollback_says_so_when_there_is_no_approved_earlier_set(run, account, console):
    deploy(run, console, *SET_A, "--approve")
    mark = account.mark()

    alone = run("rollback", *QUICK, *SET_A[:2])

    assert alone.code == 1
    assert alone.err.strip() == (
        "error: pose-dev: there is no earlier set to roll back to: no endpoint config kept for rollback "
        "holds another (hint: update.keep_previous sets how many earlier sets are kept; python -m "
        "deployment models lists the versions and their status)"
    )
    assert [call.operation for call in account.since(mark) if call.mutates] == []


def test_rollback_never_goes_to_a_set_with_an_unapproved_model(run, account, console):
    deploy(run, console, *SET_A)  # movenet-lightning pending
    model_b = deploy(run, console, *SET_B, "--approve")
    mark = account.mark()

    result = run("rollback", *QUICK, *SET_B[:2])

    assert result.code == 1
    assert result.err.startswith(
        "error: pose-dev: none of the 1 earlier sets kept for rollback has every model approved, so there "
        "is no set to roll back to (passed over the set of pose-dev-config-"
    ), result.err
    assert (
        ": not approved: movenet-lightning version 2 (commit unknown, PendingManualApproval))" in result.err
    )
    assert [call.operation for call in account.since(mark) if call.mutates] == []
    assert endpoint_model(console) == model_b


def test_a_missing_artifact_is_a_clear_error_naming_it(run, account, console):
    deploy(run, console, *SET_A, "--approve")
    model_b = deploy(run, console, *SET_B, "--approve")
    s3 = console.client("s3")
    (gone,) = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=BUCKET, Prefix="pose-dev/models/multi/")["Contents"]
        if item["Key"].endswith("/movenet-lightning.tar.gz")
    ]
    s3.delete_object(Bucket=BUCKET, Key=gone)
    mark = account.mark()

    result = run("rollback", *QUICK, *SET_B[:2])

    assert result.code == 1
    assert result.err.startswith("error: pose-dev: the set of pose-dev-config-"), result.err
    assert f"needs s3://{BUCKET}/{gone}, which is no longer in this stage's bucket" in result.err
    assert [call.operation for call in account.since(mark) if call.mutates] == []
    assert endpoint_model(console) == model_b


def test_a_second_rollback_after_a_remade_config_does_not_go_forward_to_the_set_it_left(
    run, account, console
):
    model_a = deploy(run, console, *SET_A, "--approve")
    deploy(run, console, *SET_B, "--approve")
    larger = ("--set", "endpoint.instance_type=ml.m5.xlarge")
    assert run("rollback", *QUICK, *SET_B[:2], *larger).code == 0  # set A on a config made anew
    assert endpoint_model(console) == model_a
    mark = account.mark()

    again = run("rollback", *QUICK, *SET_B[:2], *larger)

    assert again.code == 1, again.out
    assert "there is no earlier set to roll back to" in again.err
    assert [call.operation for call in account.since(mark) if call.mutates] == []
    assert endpoint_model(console) == model_a


def test_every_call_of_a_multi_model_rollback_is_granted_by_the_role_and_the_session(run, account):
    assert run("deploy", *QUICK, *SET_A, "--approve").code == 0
    assert run("deploy", *QUICK, *SET_B, "--approve").code == 0
    mark = account.mark()
    # Another instance type: the set's Model is reused, its endpoint config made again.
    result = run("rollback", *QUICK, *SET_B[:2], "--set", "endpoint.instance_type=ml.m5.xlarge")
    assert result.code == 0, result.err
    made = [call.operation for call in account.since(mark) if call.mutates]
    assert made == ["CreateEndpointConfig", "UpdateEndpoint"], made
    config = load_config(SHIPPED, [*QUICK[1::2], SET_B[1]])
    policies = (deploy_policy(Project.of(config, ACCOUNT)), session_policy(config, ACCOUNT))
    needed = {action for call in account.calls for action in iam_actions(call.service, call.operation)}

    assert {"s3:GetObject", "sagemaker:DescribeModel", "sagemaker:UpdateEndpoint"} <= needed
    assert {action for action in needed if not all(grants(policy, action) for policy in policies)} == set()
