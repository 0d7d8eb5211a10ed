"""`.github/workflows/pull-request.yml` and `cleanup.yml`, unmodified, run by act against the fakes.

Each test is one event of a pull request's life, asserted on what moto and the fake GitHub
recorded. Later events ask for the earlier ones' fixtures (a push needs the opened pull request).
"""

from __future__ import annotations

import pytest

from tests.pipeline.conftest import FORK, PullRequests, Scenario
from tests.pipeline.fake_aws import FakeAws
from tests.pipeline.fake_github import FakeGitHub
from tests.pipeline.sagemaker_gaps import parse_image

MARKER = "<!-- pose-deployment -->"
ENVIRONMENT_SUB = "repo:octo-org/sagemaker-pose:environment:pull-request"
ALL_JOBS = {"test": "success", "build": "success", "deploy": "success", "comment": "success"}
# Scenario 2's push: a value whose change needs a new endpoint config, so a blue/green update.
SAMPLING = ("  sampling_percent: 100 ", "  sampling_percent: 50  ")
# Scenario 3's push: a file in the inference image, so an image (and digest) of its own.
INFERENCE_CHANGE = {"inference/NOTES.md": "Pull request 2: a change to the inference image.\n"}


@pytest.fixture(scope="session")
def opened(pull_requests: PullRequests) -> Scenario:
    sha = pull_requests.push(1, message="a pull request")
    return pull_requests.run("pull-request.yml", "opened", 1, sha)


@pytest.fixture(scope="session")
def synchronized(pull_requests: PullRequests, opened: Scenario) -> Scenario:
    config = (pull_requests.tree(1) / "config.yml").read_text()
    assert SAMPLING[0] in config, "config.yml no longer has the line this scenario changes"
    sha = pull_requests.push(1, {"config.yml": config.replace(*SAMPLING)}, "capture half the requests")
    return pull_requests.run("pull-request.yml", "synchronize", 1, sha)


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
def from_fork(pull_requests: PullRequests) -> Scenario:
    sha = pull_requests.push(3, message="a change from a fork")
    return pull_requests.run("pull-request.yml", "opened", 3, sha, head_repo=FORK)


@pytest.fixture(scope="session")
def fork_closed(pull_requests: PullRequests, from_fork: Scenario) -> Scenario:
    return pull_requests.run("cleanup.yml", "closed", 3, from_fork.head_sha, head_repo=FORK)


def test_an_opened_pull_request_is_tested_built_deployed_monitored_and_commented(
    opened: Scenario, fake_aws: FakeAws, fake_github: FakeGitHub
):
    assert (opened.run.returncode, opened.run.jobs) == (0, ALL_JOBS), opened.failed("the run failed")
    assert opened.run.steps["test"] | {} == opened.run.steps["test"] and {
        opened.run.steps["test"]["Lint"],
        opened.run.steps["test"]["Test"],
    } == {"success"}
    # Credentials only through OIDC: one token per credentialed job, for its environment.
    assert [token["sub"] for token in opened.tokens] == [ENVIRONMENT_SUB] * 2
    assert_only_assumed_role_credentials(opened)

    images = opened.run.outputs["build/push"]
    console = fake_aws.console()
    for name in ("inference", "monitoring"):
        repository, digest, _ = parse_image(images[f"{name}-image"])
        found = console.client("ecr").describe_images(
            repositoryName=repository, imageIds=[{"imageTag": opened.head_sha}]
        )
        assert found["imageDetails"][0]["imageDigest"] == digest
    (model,) = [call.params for call in opened.calls if call.operation == "CreateModel"]
    assert model["PrimaryContainer"]["Image"] == images["inference-image"]

    endpoint = console.client("sagemaker").describe_endpoint(EndpointName="pose-pr-1")
    assert endpoint["EndpointStatus"] == "InService"
    (run_now,) = fake_aws.gaps.executions
    assert run_now.definition["MonitoringAppSpecification"]["ImageUri"] == images["monitoring-image"]
    assert run_now.result.status == "Completed" and run_now.result.ran_in
    assert set(fake_aws.gaps.schedules) == {"pose-pr-1-monitor"}  # the one-off run's schedule is gone

    deployed = opened.run.outputs["deploy/deploy"]
    (comment,) = fake_github.comments[1]
    assert comment["body"] == "\n".join(
        [
            MARKER,
            "### Pose estimation deployment",
            "",
            "| | |",
            "| --- | --- |",
            "| endpoint | `pose-pr-1` |",
            f"| web page | {deployed['web_url']} |",
            f"| API | `POST {deployed['api_url']}` |",
            f"| plan | {deployed['plan_changes']} change(s) |",
            f"| monitoring | {run_now.result.message} |",
            "",
            "[workflow run](https://github.com/octo-org/sagemaker-pose/actions/runs/1)",
        ]
    )
    (api,) = console.client("apigatewayv2").get_apis()["Items"]
    assert deployed["api_url"] == f"{api['ApiEndpoint']}/predict" and int(deployed["plan_changes"]) > 0
    assert opened.run.summaries["comment"] == [comment["body"]]
    assert "| endpoint_name | `pose-pr-1` |" in opened.run.summaries["deploy"][0]
    assert [(r.method, r.path, r.status) for r in opened.github if not r.path.startswith("/_oidc")] == [
        ("GET", "/repos/octo-org/sagemaker-pose/issues/1/comments", 200),
        ("POST", "/repos/octo-org/sagemaker-pose/issues/1/comments", 201),
    ]


def test_a_second_push_updates_the_endpoint_blue_green_and_the_same_comment(
    opened: Scenario, synchronized: Scenario, fake_aws: FakeAws, fake_github: FakeGitHub
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
    sagemaker = fake_aws.console().client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName="pose-pr-1")
    assert endpoint["EndpointConfigName"] == update["EndpointConfigName"]
    config = sagemaker.describe_endpoint_config(EndpointConfigName=update["EndpointConfigName"])
    assert config["DataCaptureConfig"]["InitialSamplingPercentage"] == 50

    (comment,) = fake_github.comments[1]  # still one comment, now about this run
    assert (
        f"| plan | {synchronized.run.outputs['deploy/deploy']['plan_changes']} change(s) |" in comment["body"]
    )
    assert [(r.method, r.path, r.status) for r in synchronized.github if not r.path.startswith("/_oidc")] == [
        ("GET", "/repos/octo-org/sagemaker-pose/issues/1/comments", 200),
        ("PATCH", f"/repos/octo-org/sagemaker-pose/issues/comments/{comment['id']}", 200),
    ]
    assert synchronized.run.summaries["comment"] == [comment["body"]]


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
    (comment,) = fake_github.comments[2]
    body = comment["body"]
    assert body.startswith(MARKER) and "| deployment | **failure**: see the run log |" in body
    assert (
        "| still billed | " in body and "`python -m deployment destroy --set project.stage=pr-2 " in body
    ), body
    # Closing the pull request removes what was made.
    assert (failed_then_closed.run.returncode, failed_then_closed.run.jobs) == (0, {"destroy": "success"})
    assert failed_then_closed.left == set()


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
    assert_only_assumed_role_credentials(closed)
    assert closed.left == set()
    assert [r for r in closed.github if not r.path.startswith("/_oidc")] == []


def assert_only_assumed_role_credentials(scenario: Scenario) -> None:
    """Every AWS request signed with the role's session credentials, after an unsigned
    AssumeRoleWithWebIdentity; and none that moto could not answer (a 5XX: an API it lacks)."""
    assert [call for call in scenario.calls if call.status >= 500] == []
    unsigned = [call.operation for call in scenario.calls if not call.access_key]
    assert set(unsigned) == {"AssumeRoleWithWebIdentity"}
    keys = {call.access_key for call in scenario.calls if call.access_key}
    assert keys and all(key.startswith("ASIA") for key in keys), keys
