"""The GitHub Actions wiring, read from the YAML, and the offline linters run on every workflow."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO

WORKFLOWS = REPO / ".github" / "workflows"
BIN = Path(sys.executable).parent


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads `on:` as True
    return document


def steps_using(job: dict, action: str) -> list[dict]:
    return [step for step in job["steps"] if step.get("uses", "").startswith(action + "@")]


@pytest.fixture(scope="module")
def pull_request() -> dict:
    return load("pull-request.yml")


@pytest.fixture(scope="module")
def cleanup() -> dict:
    return load("cleanup.yml")


def test_a_pull_request_to_main_tests_builds_deploys_and_comments_in_that_order(pull_request):
    assert pull_request["on"] == {
        "pull_request": {"branches": ["main"], "types": ["opened", "synchronize", "reopened"]}
    }
    jobs = pull_request["jobs"]
    assert (jobs["build"]["needs"], jobs["deploy"]["needs"], jobs["comment"]["needs"]) == (
        "test",
        "build",
        ["deploy"],
    )
    test_commands = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert "make lint" in test_commands and "make test" in test_commands


def test_two_pushes_to_one_pull_request_never_deploy_at_once(pull_request):
    assert pull_request["concurrency"] == {
        "group": "deploy-${{ github.event.pull_request.number }}",
        "cancel-in-progress": False,
    }


def test_permissions_are_least_per_job(pull_request, cleanup):
    assert pull_request["permissions"] == {} and cleanup["permissions"] == {}
    jobs = pull_request["jobs"]
    assert jobs["test"]["permissions"] == {"contents": "read"}
    assert (
        jobs["build"]["permissions"]
        == jobs["deploy"]["permissions"]
        == {"contents": "read", "id-token": "write"}
    )
    assert jobs["comment"]["permissions"] == {"pull-requests": "write"}
    for workflow in (pull_request, cleanup):
        for job in workflow["jobs"].values():
            oidc = job["permissions"].get("id-token") == "write"
            assert oidc == bool(steps_using(job, "aws-actions/configure-aws-credentials"))


def test_aws_credentials_come_from_oidc_and_never_reach_forks(pull_request):
    fork_guard = "github.event.pull_request.head.repo.full_name == github.repository"
    assert pull_request["jobs"]["build"]["if"] == fork_guard  # deploy and comment need build
    for job in pull_request["jobs"].values():
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            assert set(step["with"]) == {"role-to-assume", "aws-region"}  # no long-lived keys


def test_deploy_uses_the_digests_the_build_pushed(pull_request):
    build, deploy = pull_request["jobs"]["build"], pull_request["jobs"]["deploy"]
    assert build["outputs"] == {
        "inference-image": "${{ steps.push.outputs.inference-image }}",
        "monitoring-image": "${{ steps.push.outputs.monitoring-image }}",
    }
    push = next(step for step in build["steps"] if step.get("id") == "push")
    assert '@$digest"' in push["run"]  # outputs are repository@sha256:..., not tags
    step = next(step for step in deploy["steps"] if step.get("id") == "deploy")
    assert step["env"] == {
        "INFERENCE_IMAGE": "${{ needs.build.outputs.inference-image }}",
        "MONITORING_IMAGE": "${{ needs.build.outputs.monitoring-image }}",
    }
    assert "-m deployment deploy" in step["run"] and '--inference-image "$INFERENCE_IMAGE"' in step["run"]
    monitor = next(step for step in deploy["steps"] if step.get("id") == "monitor")
    assert "-m deployment monitor --now" in monitor["run"]


def test_each_pull_request_deploys_its_own_stage_unless_one_is_shared(pull_request, cleanup):
    assert pull_request["env"]["STAGE"] == (
        "${{ vars.SHARED_STAGE || format('pr-{0}', github.event.pull_request.number) }}"
    )
    destroy = cleanup["jobs"]["destroy"]["steps"][-1]
    assert (
        destroy["env"]["STAGE"] == "${{ inputs.stage || format('pr-{0}', github.event.pull_request.number) }}"
    )
    assert "vars.SHARED_STAGE == ''" in cleanup["jobs"]["destroy"]["if"]


def test_closing_the_pull_request_destroys_its_stage(cleanup):
    assert cleanup["on"]["pull_request"] == {"branches": ["main"], "types": ["closed"]}
    assert "workflow_dispatch" in cleanup["on"]
    assert "-m deployment destroy" in cleanup["jobs"]["destroy"]["steps"][-1]["run"]


def test_the_comment_is_updated_in_place_not_repeated(pull_request):
    (script_step,) = steps_using(pull_request["jobs"]["comment"], "actions/github-script")
    script = script_step["with"]["script"]
    assert "updateComment" in script and "createComment" in script and "pose-deployment" in script
    assert "core.summary" in script  # the same table in the job summary


def test_third_party_actions_are_pinned_to_full_commit_shas(pull_request, cleanup):
    for workflow in (pull_request, cleanup):
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", step["uses"]), step["uses"]


@pytest.mark.parametrize(
    "command",
    [
        ["check-jsonschema", "--builtin-schema", "vendor.github-workflows"],
        ["actionlint"],
        ["zizmor", "--offline", "--no-progress"],
    ],
)
def test_workflow_linters_pass(command):
    files = sorted(str(path) for path in WORKFLOWS.glob("*.yml"))
    tool = shutil.which(command[0], path=str(BIN))
    assert tool, f"{command[0]} is not installed in {BIN}"
    result = subprocess.run([tool, *command[1:], *files], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", ["inference/Dockerfile", "monitoring/Dockerfile"])
def test_dockerfiles_pass_hadolint(dockerfile):
    result = subprocess.run(
        [str(BIN / "hadolint"), str(REPO / dockerfile)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
