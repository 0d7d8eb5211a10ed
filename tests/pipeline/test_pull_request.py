"""`.github/workflows/pull-request.yml` and `cleanup.yml`, unmodified, run by act against the fakes.

Each test is one event of a pull request's life, asserted on what moto and the fake GitHub
recorded. Later events ask for the earlier ones' fixtures (a push needs the opened pull request).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from pathlib import Path

import pytest

from deployment.config import load_config
from deployment.costs import monthly_cost
from tests.pipeline.conftest import FORK, PullRequests, Scenario
from tests.pipeline.fake_aws import FakeAws
from tests.pipeline.fake_github import FakeGitHub
from tests.pipeline.processing import parse_image

MARKER = "<!-- pose-deployment -->"
ISSUES = "/repos/octo-org/sagemaker-pose/issues"
ENVIRONMENT_SUB = "repo:octo-org/sagemaker-pose:environment:pull-request"
ALL_JOBS = {"test": "success", "build": "success", "deploy": "success", "comment": "success"}
# Scenario 3's push: a file in the inference image, so an image (and digest) of its own.
INFERENCE_CHANGE = {"inference/NOTES.md": "Pull request 2: a change to the inference image.\n"}


@pytest.fixture(scope="session")
def closed(pull_requests: PullRequests, synchronized: Scenario) -> Scenario:
    return pull_requests.run("cleanup.yml", "closed", 1, synchronized.head_sha)


@pytest.fixture(scope="session")
def failed(pull_requests: PullRequests, fake_aws: FakeAws) -> Scenario:
    """Pull request 2, whose inference image is gone from ECR by the time SageMaker looks for it
    (deleted after the build, as a lifecycle rule or a person might)."""
    sha = pull_requests.push(2, INFERENCE_CHANGE, "a change to the inference image")

    def delete_the_image(params: dict) -> None:
        repository, digest, _ = parse_image(params["PrimaryContainer"]["Image"])
        fake_aws.console().client("ecr").batch_delete_image(
            repositoryName=repository, imageIds=[{"imageDigest": digest}]
        )

    fake_aws.before["CreateModel"] = delete_the_image
    try:
        return pull_requests.run("pull-request.yml", "opened", 2, sha)
    finally:
        fake_aws.before.pop("CreateModel", None)


@pytest.fixture(scope="session")
def failed_then_closed(pull_requests: PullRequests, failed: Scenario) -> Scenario:
    return pull_requests.run("cleanup.yml", "closed", 2, failed.head_sha)


@pytest.fixture(scope="session")
def tests_failed(pull_requests: PullRequests, fake_github: FakeGitHub) -> Scenario:
    """Pull request 4, whose earlier push was deployed and commented (seeded), pushes a change
    that fails `make lint`: nothing is built or deployed, and the comment must say so."""
    fake_github.comments[4] = [
        {"id": 4000, "body": f"{MARKER}\n### Pose estimation deployment\n\n| endpoint | `pose-pr-4` |"}
    ]
    sha = pull_requests.push(4, {"inference/unused.py": "import os\n"}, "an unused import: lint fails")
    return pull_requests.run("pull-request.yml", "synchronize", 4, sha)


@pytest.fixture(scope="session")
def from_fork(pull_requests: PullRequests) -> Scenario:
    sha = pull_requests.push(3, message="a change from a fork")
    return pull_requests.run("pull-request.yml", "opened", 3, sha, head_repo=FORK)


@pytest.fixture(scope="session")
def fork_closed(pull_requests: PullRequests, from_fork: Scenario) -> Scenario:
    return pull_requests.run("cleanup.yml", "closed", 3, from_fork.head_sha, head_repo=FORK)


def test_an_opened_pull_request_is_tested_built_deployed_monitored_and_commented(
    opened: Scenario, pull_requests: PullRequests, fake_aws: FakeAws, fake_github: FakeGitHub
):
    assert (opened.run.returncode, opened.run.jobs) == (0, ALL_JOBS), opened.failed("the run failed")
    assert (opened.run.steps["test"]["Lint"], opened.run.steps["test"]["Test"]) == ("success", "success")
    # Credentials only through OIDC: one token per credentialed job, for its environment.
    assert [token["sub"] for token in opened.tokens] == [ENVIRONMENT_SUB] * 2
    assert fake_github.refused_tokens == []  # no job asked without `id-token: write`
    # Each credentialed job narrowed the role with its session policy: ECR only for the build,
    # this stage only (as `iam-policy --session` printed it) for the deploy.
    build_policy, deploy_policy = session_policies(opened)
    assert [statement["Action"] for statement in json.loads(build_policy)["Statement"]] == ["ecr:*"]
    assert deploy_policy == opened.run.outputs["deploy/stage"]["session_policy"]
    assert_only_assumed_role_credentials(opened)
    images = opened.run.outputs["build/push"]
    assert_pushed(fake_aws, images, opened.head_sha)
    (model,) = [call.params for call in opened.calls if call.operation == "CreateModel"]
    assert model["PrimaryContainer"]["Image"] == images["inference-image"]
    assert opened.stage.endpoint["EndpointStatus"] == "InService"
    # The first report: the pushed monitoring image run by a one-off schedule, removed afterwards.
    (report,) = opened.monitoring_runs
    assert report.definition["MonitoringAppSpecification"]["ImageUri"] == images["monitoring-image"]
    assert (report.schedule, report.result.status) == ("pose-pr-1-monitor-now", "Completed")
    assert "pose-pr-1-monitor-now" not in fake_aws.gaps.schedules

    deployed = opened.run.outputs["deploy/deploy"]
    assert deployed["api_url"] == f"{opened.stage.api_endpoint}/predict" and int(deployed["plan_changes"]) > 0
    listed, created = rest_calls(opened)
    assert (listed.method, listed.path, listed.status) == ("GET", f"{ISSUES}/1/comments", 200)
    assert (created.method, created.path, created.status) == ("POST", f"{ISSUES}/1/comments", 201)
    costs = monthly_costs(pull_requests, opened, "pr-1")
    assert created.body["body"] == success_comment(deployed, report.result.message, costs, opened.head_sha)
    assert opened.run.summaries["comment"] == [created.body["body"]]  # the job summary
    assert "| endpoint_name | `pose-pr-1` |" in opened.run.summaries["deploy"][0]


def assert_pushed(fake_aws: FakeAws, images: dict[str, str], tag: str) -> None:
    """Both images in ECR under the commit's tag, with the digests the build job handed on."""
    ecr = fake_aws.console().client("ecr")
    for name in ("inference", "monitoring"):
        repository, digest, _ = parse_image(images[f"{name}-image"])
        found = ecr.describe_images(repositoryName=repository, imageIds=[{"imageTag": tag}])["imageDetails"]
        assert [image["imageDigest"] for image in found] == [digest]


def monthly_costs(pull_requests: PullRequests, scenario: Scenario, stage: str) -> tuple[str, str]:
    """The estimates of the pushed config.yml, from the price table: this stage's and production's."""
    tree = pull_requests.tree(scenario.number)
    text = subprocess.run(
        ["git", "-C", str(tree), "show", f"{scenario.head_sha}:config.yml"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "config.yml"
        path.write_text(text)
        return tuple(
            monthly_cost(load_config(path, [f"project.stage={name}", "project.region=us-east-1"])).summary()
            for name in (stage, "prod")
        )


def success_comment(deployed: dict[str, str], monitoring: str, costs: tuple[str, str], sha: str) -> str:
    return "\n".join(
        [
            MARKER,
            "### Pose estimation deployment",
            "",
            "| | |",
            "| --- | --- |",
            f"| commit | `{sha[:12]}` |",
            "| endpoint | `pose-pr-1` |",
            f"| web page | {deployed['web_url']} |",
            f"| API | `POST {deployed['api_url']}` |",
            f"| dashboard | {deployed['dashboard_url']} |",
            f"| plan | {deployed['plan_changes']} change(s) |",
            f"| monitoring | {monitoring} |",
            f"| monthly cost | this stage: {costs[0]}<br>production: {costs[1]} |",
            "",
            "[workflow run](https://github.com/octo-org/sagemaker-pose/actions/runs/1)",
        ]
    )


def test_a_second_push_updates_the_endpoint_blue_green_and_the_same_comment(
    opened: Scenario,
    synchronized: Scenario,
    pull_requests: PullRequests,
    fake_aws: FakeAws,
    fake_github: FakeGitHub,
):
    assert (synchronized.run.returncode, synchronized.run.jobs) == (0, ALL_JOBS), synchronized.failed(
        "the second run failed"
    )
    assert_only_assumed_role_credentials(synchronized)
    (update,) = [call.params for call in synchronized.calls if call.operation == "UpdateEndpoint"]
    assert not [call for call in synchronized.calls if call.operation in ("CreateEndpoint", "DeleteEndpoint")]
    policy = update["DeploymentConfig"]
    assert policy["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert {alarm["AlarmName"] for alarm in policy["AutoRollbackConfiguration"]["Alarms"]} == {
        "pose-pr-1-invocation-5xx",
        "pose-pr-1-model-latency",
    }
    assert synchronized.stage.endpoint["EndpointConfigName"] == update["EndpointConfigName"]
    assert synchronized.stage.endpoint_config["DataCaptureConfig"]["InitialSamplingPercentage"] == 50

    # The same comment, edited: not a second one.
    listed, edited = rest_calls(synchronized)
    (first,) = [request.body for request in opened.github if request.method == "POST"]
    comment_id = next(c["id"] for c in fake_github.comments[1] if c["body"].startswith(MARKER))
    assert (listed.method, listed.path) == ("GET", f"{ISSUES}/1/comments")
    assert (edited.method, edited.path, edited.status) == ("PATCH", f"{ISSUES}/comments/{comment_id}", 200)
    (report,) = synchronized.monitoring_runs
    deployed = synchronized.run.outputs["deploy/deploy"]
    costs = monthly_costs(pull_requests, synchronized, "pr-1")
    assert costs != monthly_costs(pull_requests, opened, "pr-1")  # half the photos captured: less S3
    expected = success_comment(deployed, report.result.message, costs, synchronized.head_sha)
    assert edited.body["body"] == expected != first["body"]
    assert len(fake_github.comments[1]) == 1
    assert synchronized.run.summaries["comment"] == [edited.body["body"]]


def session_policies(scenario: Scenario) -> list[str]:
    """The session policy of each AssumeRoleWithWebIdentity of the run, in order."""
    return [
        call.params.get("Policy", "")
        for call in scenario.calls
        if call.operation == "AssumeRoleWithWebIdentity"
    ]


def rest_calls(scenario: Scenario) -> list:
    """The GitHub REST requests of a run (the OIDC token requests aside)."""
    return [request for request in scenario.github if not request.path.startswith("/_oidc")]


def test_a_failed_deploy_is_commented_fails_the_run_and_leaves_nothing_unreported(
    failed: Scenario, failed_then_closed: Scenario, fake_aws: FakeAws, fake_github: FakeGitHub
):
    expected = {"test": "success", "build": "success", "deploy": "failure", "comment": "success"}
    assert (failed.run.returncode != 0, failed.run.jobs) == (True, expected), failed.failed("unexpected jobs")
    deploy_step = "Deploy the endpoint, monitoring schedule, API and web page"
    assert failed.run.steps["deploy"][deploy_step] == "failure"
    printed = failed.run.printed("deploy")
    (error,) = [line for line in printed if line.startswith("error: ")]
    assert "CreateModel" in error and "Requested image " in error and error.endswith("not found."), error
    # Nothing half-made goes unreported: the log names everything the run made, as it made it...
    assert failed.left, "the deploy failed before it made anything: this scenario tests nothing"
    executed = printed[[line.startswith("plan: ") for line in printed].index(True) :]
    assert {name for _, name in failed.left} <= {line.split()[-1] for line in executed}, executed
    # ...and the comment says the run failed, that what it made is billed, and how to remove it.
    (created,) = [request for request in rest_calls(failed) if request.method == "POST"]
    body = created.body["body"]
    assert body.startswith(MARKER) and "| deployment | **failure**: see the run log |" in body
    assert (
        "| still billed | " in body and "`python -m deployment destroy --set project.stage=pr-2 " in body
    ), body
    # Closing the pull request removes what was made.
    assert (failed_then_closed.run.returncode, failed_then_closed.run.jobs) == (0, {"destroy": "success"})
    assert failed_then_closed.left == set()


def test_a_push_that_fails_its_tests_says_so_in_the_comment_instead_of_the_earlier_success(
    tests_failed: Scenario, fake_github: FakeGitHub
):
    expected = {"test": "failure", "comment": "success"}
    assert (tests_failed.run.returncode != 0, tests_failed.run.jobs) == (True, expected), tests_failed.failed(
        "unexpected jobs"
    )
    assert (tests_failed.tokens, tests_failed.calls) == ([], [])  # no credentials, nothing built
    listed, edited = rest_calls(tests_failed)
    assert (listed.method, edited.method, edited.path) == ("GET", "PATCH", f"{ISSUES}/comments/4000")
    rows = edited.body["body"].splitlines()
    assert rows[5:7] == [
        f"| this push | **not deployed**: its `test` job's result is **failure** at commit `{tests_failed.head_sha[:12]}`;"
        " see the run log |",
        "| the stage | `pr-4` keeps whatever an earlier push deployed, if any, and its URLs answer as before;"
        " closing this pull request removes it |",
    ]
    assert [comment["body"] for comment in fake_github.comments[4]] == [edited.body["body"]]


def test_a_pull_request_from_a_fork_gets_no_credentials_and_no_deployment(
    from_fork: Scenario, fork_closed: Scenario, fake_github: FakeGitHub
):
    assert (from_fork.run.returncode, from_fork.run.jobs) == (0, {"test": "success"}), from_fork.failed(
        "the fork's run"
    )
    assert (from_fork.tokens, from_fork.calls, from_fork.github) == ([], [], [])
    assert 3 not in fake_github.comments
    # Closing it: nothing to destroy, and the clean-up asks for nothing either.
    assert (fork_closed.run.returncode, fork_closed.run.jobs) == (0, {}), fork_closed.failed(
        "the fork's clean-up"
    )
    assert (fork_closed.tokens, fork_closed.calls, fork_closed.github) == ([], [], [])


def test_closing_the_pull_request_destroys_its_stage(
    closed: Scenario, fake_aws: FakeAws, fake_github: FakeGitHub
):
    assert (closed.run.returncode, closed.run.jobs) == (0, {"destroy": "success"}), closed.failed("clean-up")
    assert [token["sub"] for token in closed.tokens] == [ENVIRONMENT_SUB]
    assert session_policies(closed) == [closed.run.outputs["destroy/stage"]["session_policy"]]
    assert_only_assumed_role_credentials(closed)
    assert closed.left == set()
    assert rest_calls(closed) == []


def assert_only_assumed_role_credentials(scenario: Scenario) -> None:
    """Every AWS request signed with the role's session credentials, after an unsigned
    AssumeRoleWithWebIdentity; and none that moto could not answer (a 5XX: an API it lacks)."""
    assert [call for call in scenario.calls if call.status >= 500] == []
    unsigned = [call.operation for call in scenario.calls if not call.access_key]
    assert set(unsigned) == {"AssumeRoleWithWebIdentity"}
    keys = {call.access_key for call in scenario.calls if call.access_key}
    assert keys and all(key.startswith("ASIA") for key in keys), keys
