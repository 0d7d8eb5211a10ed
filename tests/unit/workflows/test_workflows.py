"""The GitHub Actions wiring, read from the YAML, and the offline linters run on every workflow."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO
from tests.unit.workflows.expressions import evaluate

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


@pytest.fixture(scope="module")
def production() -> dict:
    return load("production.yml")


def test_a_pull_request_to_main_tests_builds_deploys_and_comments_in_that_order(pull_request):
    assert pull_request["on"] == {
        "pull_request": {"branches": ["main"], "types": ["opened", "synchronize", "reopened"]}
    }
    jobs = pull_request["jobs"]
    assert (jobs["build"]["needs"], jobs["deploy"]["needs"], jobs["comment"]["needs"]) == (
        "test",
        "build",
        ["test", "build", "deploy"],  # a push that fails its tests or build is commented too
    )
    test_commands = [step.get("run", "") for step in jobs["test"]["steps"]]
    assert "make lint" in test_commands and "make test" in test_commands


def pr_event(number: int, shared: str = "") -> dict:
    return {
        "github": {"event_name": "pull_request", "event": {"pull_request": {"number": number}}},
        "vars": {"SHARED_STAGE": shared},
    }


def dispatch(stage: str, shared: str = "") -> dict:
    return {
        "github": {"event_name": "workflow_dispatch", "event": {"inputs": {"stage": stage}}},
        "vars": {"SHARED_STAGE": shared},
    }


def stage_jobs(pull_request: dict, cleanup: dict) -> list[tuple[dict, dict]]:
    """(workflow, job) for every job that touches a stage."""
    return [(pull_request, pull_request["jobs"]["deploy"]), (cleanup, cleanup["jobs"]["destroy"])]


@pytest.mark.parametrize(
    ("event", "stage"),
    [
        (pr_event(42), "pr-42"),
        (pr_event(42, shared="preview"), "preview"),
        (dispatch("pr-42"), "pr-42"),
        (dispatch("dev", shared="preview"), "dev"),
    ],
)
def test_every_job_that_touches_a_stage_holds_that_stages_one_concurrency_group(
    pull_request, cleanup, event, stage
):
    for workflow, job in stage_jobs(pull_request, cleanup):
        assert job["concurrency"]["cancel-in-progress"] is False
        assert evaluate(job["concurrency"]["group"], event) == f"deploy-{stage}"
        assert evaluate(workflow["env"]["STAGE"], event) == stage  # the stage its commands are given


def test_a_manual_clean_up_waits_for_the_pull_requests_deploy_and_a_shared_stage_serialises_all(
    pull_request, cleanup
):
    deploy_group = pull_request["jobs"]["deploy"]["concurrency"]["group"]
    destroy_group = cleanup["jobs"]["destroy"]["concurrency"]["group"]
    assert evaluate(deploy_group, pr_event(42)) == evaluate(destroy_group, dispatch("pr-42"))
    assert evaluate(deploy_group, pr_event(41, "preview")) == evaluate(deploy_group, pr_event(42, "preview"))
    assert evaluate(deploy_group, pr_event(4)) != evaluate(deploy_group, pr_event(42))
    # Runs of one pull request queue as a whole too, in a group of their own (never the stage's:
    # a workflow holding the group its own job waits for would deadlock).
    assert evaluate(pull_request["concurrency"]["group"], pr_event(42)) == "pull-request-42"
    assert pull_request["concurrency"]["cancel-in-progress"] is False


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
    assert pull_request["jobs"]["build"]["if"] == fork_guard  # deploy needs build
    assert pull_request["jobs"]["comment"]["if"] == f"always() && {fork_guard}"
    for job in pull_request["jobs"].values():
        for step in steps_using(job, "aws-actions/configure-aws-credentials"):
            # No long-lived keys; every run narrowed by a session policy.
            assert set(step["with"]) == {"role-to-assume", "aws-region", "inline-session-policy"}


@pytest.mark.parametrize(
    ("event", "environment"),
    [
        (pr_event(42), "pull-request"),
        (dispatch("pr-42"), "pull-request"),
        (dispatch("preview", "preview"), "pull-request"),
        (dispatch("dev"), "production"),
        (dispatch("prod", "preview"), "production"),
    ],
)
def test_credentialed_jobs_run_in_the_environment_of_their_kind_of_stage(
    pull_request, cleanup, event, environment
):
    assert pull_request["jobs"]["build"]["environment"] == "pull-request"
    assert pull_request["jobs"]["deploy"]["environment"]["name"] == "pull-request"
    assert evaluate(cleanup["jobs"]["destroy"]["environment"], event) == environment
    for workflow in (pull_request, cleanup):
        for job in workflow["jobs"].values():
            assert ("environment" in job) == bool(steps_using(job, "aws-actions/configure-aws-credentials"))


def test_each_credentialed_run_is_narrowed_to_its_stage_or_to_ecr(pull_request, cleanup):
    for job in (pull_request["jobs"]["deploy"], cleanup["jobs"]["destroy"]):
        (credentials,) = steps_using(job, "aws-actions/configure-aws-credentials")
        assert credentials["with"]["inline-session-policy"] == "${{ steps.stage.outputs.session_policy }}"
        stage_step = next(step for step in job["steps"] if step.get("id") == "stage")
        assert "-m deployment iam-policy --session" in stage_step["run"]
        assert '--set "project.stage=$STAGE"' in stage_step["run"]
        assert job["steps"].index(stage_step) < job["steps"].index(credentials)
    (build,) = steps_using(pull_request["jobs"]["build"], "aws-actions/configure-aws-credentials")
    assert json.loads(build["with"]["inline-session-policy"])["Statement"] == [
        {"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}
    ]


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
    assert evaluate(pull_request["env"]["STAGE"], pr_event(42)) == "pr-42"
    assert evaluate(pull_request["env"]["STAGE"], pr_event(42, "preview")) == "preview"
    assert pull_request["env"]["STAGE"] == cleanup["env"]["STAGE"]  # one expression, both workflows
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


def test_a_failed_deploy_comment_says_what_stays_billed_and_the_one_command_that_removes_it(pull_request):
    (script_step,) = steps_using(pull_request["jobs"]["comment"], "actions/github-script")
    script, env = script_step["with"]["script"], script_step["env"]
    assert env["HOURLY_COST"] == "${{ needs.deploy.outputs.hourly-cost }}"
    # What the failed deploy says still bills (deploy's `billed`), else the config's cost (validate's).
    assert (
        pull_request["jobs"]["deploy"]["outputs"]["hourly-cost"]
        == "${{ steps.deploy.outputs.billed || steps.stage.outputs.hourly_cost }}"
    )
    stage_step = next(step for step in pull_request["jobs"]["deploy"]["steps"] if step.get("id") == "stage")
    assert "-m deployment validate" in stage_step["run"]  # writes hourly_cost before anything is created
    assert "still billed" in script and "cell(env.HOURLY_COST)" in script
    assert "python -m deployment destroy --set project.stage=${env.STAGE}" in script
    assert env["CLEANUP_URL"].endswith("/actions/workflows/cleanup.yml")


def test_third_party_actions_are_pinned_to_full_commit_shas(pull_request, cleanup, production):
    for workflow in (pull_request, cleanup, production):
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


def uses(workflow: dict) -> set[str]:
    return {step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step}


def test_a_push_to_main_deploys_prod_in_the_production_environment_one_run_at_a_time(production, cleanup):
    assert production["on"] == {"push": {"branches": ["main"]}}
    assert production["permissions"] == {}
    (job,) = production["jobs"].values()
    assert job["environment"]["name"] == "production"
    assert job["permissions"] == {"contents": "read", "pull-requests": "read", "id-token": "write"}
    # The stage's one concurrency group, shared with a manual clean-up of prod.
    assert production["env"]["STAGE"] == "prod"
    assert job["concurrency"] == {"group": "deploy-prod", "cancel-in-progress": False}
    assert evaluate(cleanup["jobs"]["destroy"]["concurrency"]["group"], dispatch("prod")) == "deploy-prod"
    assert evaluate(cleanup["jobs"]["destroy"]["environment"], dispatch("prod")) == "production"
    # No new action: each one is pinned as the pull-request workflow pins it.
    assert uses(production) <= uses(load("pull-request.yml"))


def test_production_deploys_the_merged_pull_requests_images_by_digest_and_never_builds(production):
    (job,) = production["jobs"].values()
    steps = {step.get("id"): step for step in job["steps"]}
    script = steps["merged"]["with"]["script"]
    assert "listPullRequestsAssociatedWithCommit" in script and "pull.merge_commit_sha === sha" in script
    assert 'core.setOutput("head-sha", merged.head.sha)' in script  # pull-request.yml's image tag
    images = steps["images"]
    assert images["env"]["TAG"] == "${{ steps.merged.outputs.head-sha }}"
    assert (
        'aws ecr describe-images --repository-name "$repository" --image-ids imageTag="$TAG"' in images["run"]
    )
    assert '"$image-image=$uri@$digest"' in images["run"] and "::error " in images["run"]
    assert steps["deploy"]["env"] == {
        "INFERENCE_IMAGE": "${{ steps.images.outputs.inference-image }}",
        "MONITORING_IMAGE": "${{ steps.images.outputs.monitoring-image }}",
    }
    assert "-m deployment deploy" in steps["deploy"]["run"] and "--approve" in steps["deploy"]["run"]
    text = (WORKFLOWS / "production.yml").read_text()
    assert "docker" not in text and "amazon-ecr-login" not in text  # nothing is built or pushed


def test_production_is_narrowed_to_its_stage_with_its_own_settings(production):
    (job,) = production["jobs"].values()
    (credentials,) = steps_using(job, "aws-actions/configure-aws-credentials")
    assert set(credentials["with"]) == {"role-to-assume", "aws-region", "inline-session-policy"}
    assert credentials["with"]["inline-session-policy"] == "${{ steps.stage.outputs.session_policy }}"
    steps = {step.get("id"): step for step in job["steps"]}
    assert (
        job["steps"].index(steps["stage"])
        < job["steps"].index(credentials)
        < job["steps"].index(steps["images"])
    )
    assert "-m deployment iam-policy --session" in steps["stage"]["run"]
    # The same overrides (stage, region, vars.PRODUCTION_SETTINGS) for the policy and the deploy.
    settings = steps["stage"]["run"].splitlines()[:3]
    assert settings == steps["deploy"]["run"].splitlines()[:3]
    assert settings[0] == 'settings=(--set "project.stage=$STAGE" --set "project.region=$AWS_REGION")'
    assert production["env"]["PRODUCTION_SETTINGS"] == "${{ vars.PRODUCTION_SETTINGS }}"


def test_the_pull_request_prices_production_with_the_settings_production_deploys_with(
    pull_request, production
):
    (job,) = production["jobs"].values()
    deploy_settings = {step.get("id"): step for step in job["steps"]}["stage"]["run"].splitlines()[1:3]
    priced = {step.get("id"): step for step in pull_request["jobs"]["deploy"]["steps"]}["production"]
    assert priced["env"]["PRODUCTION_SETTINGS"] == production["env"]["PRODUCTION_SETTINGS"]
    lines = priced["run"].splitlines()
    assert lines[0] == 'settings=(--set project.stage=prod --set "project.region=$AWS_REGION")'
    assert lines[1:3] == deploy_settings  # PRODUCTION_SETTINGS read into --set pairs the same way
    assert lines[3] == '.venv/bin/python -m deployment validate "${settings[@]}"'
