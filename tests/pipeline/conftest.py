"""`make pipeline-test`: the workflow files run by act against a fake AWS (moto) and a fake GitHub.

One fake AWS, one fake GitHub and one prepared runner serve every scenario of the session. A
scenario that follows another (a push after the pull request opened, closing it after that) asks
for the earlier one's fixture, so any test runs alone and the order never matters.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from botocore.exceptions import ClientError

from deployment.naming import PROJECT_TAG
from tests.conftest import STRICT
from tests.moto.deployment.inventory import tagged_resources
from tests.pipeline.fake_aws import Call, FakeAws
from tests.pipeline.fake_github import FakeGitHub, Request
from tests.pipeline.runner import (
    REPO,
    ActRun,
    Runner,
    ToolMissing,
    check_tools,
    link_venv,
    snapshot,
    stage_tree,
)
from tests.pipeline.sagemaker_gaps import Execution

T = TypeVar("T")
REPOSITORY = "octo-org/sagemaker-pose"
FORK = "someone-else/sagemaker-pose"
ACCOUNT = "123456789012"
ROLE_NAME = "pose-github-deploy"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
BOUNDARY = "pose-role-boundary"  # the README's name for project "pose"
OIDC_PROVIDER = "https://token.actions.githubusercontent.com"
WORKSPACE = REPO / ".cache" / "pipeline-test"
# Scenario 2's push: a value whose change needs a new endpoint config, so a blue/green update.
SAMPLING = ("  sampling_percent: 100 ", "  sampling_percent: 50  ")


def _missing(error: ToolMissing):
    if STRICT:
        pytest.fail(f"{error} (STRICT_TESTS=1 runs every test)", pytrace=False)
    pytest.skip(str(error))


def _needing_tools(make: Callable[[], T]) -> T:
    """make(), or one line saying what to install (outside the except: no chained traceback)."""
    try:
        return make()
    except ToolMissing as error:
        missing = error
    _missing(missing)


@pytest.fixture(scope="session")
def tools() -> None:
    _needing_tools(check_tools)


@pytest.fixture(scope="session")
def fake_aws(tools) -> Iterator[FakeAws]:
    fake = FakeAws()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def fake_github(tools) -> Iterator[FakeGitHub]:
    fake = FakeGitHub(REPOSITORY)
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def workspace() -> Path:
    """Where the runs' copies, logs and events stay after the session, for reading a failure."""
    shutil.rmtree(WORKSPACE, ignore_errors=True)
    WORKSPACE.mkdir(parents=True)
    return WORKSPACE


@pytest.fixture(scope="session")
def runner(workspace: Path, fake_aws: FakeAws, fake_github: FakeGitHub) -> Runner:
    return _needing_tools(lambda: Runner(workspace / "runner", fake_aws.url, fake_github, ROLE_ARN))


@pytest.fixture(scope="session")
def deploy_role(fake_aws: FakeAws) -> str:
    """The README's one-time setup, steps 1 to 3: GitHub's OIDC provider, the permissions boundary
    and the deploy role (its trust and its policy as `iam-policy` prints them), in moto."""
    iam = fake_aws.console().client("iam")
    iam.create_open_id_connect_provider(
        Url=OIDC_PROVIDER, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["0" * 40]
    )
    iam.create_policy(PolicyName=BOUNDARY, PolicyDocument=json.dumps(iam_policy("--boundary")))
    iam.create_role(
        RoleName=ROLE_NAME, AssumeRolePolicyDocument=json.dumps(iam_policy("--trust", REPOSITORY))
    )
    iam.put_role_policy(RoleName=ROLE_NAME, PolicyName="deploy", PolicyDocument=json.dumps(iam_policy()))
    return ROLE_ARN


def iam_policy(*args: str) -> dict:
    printed = subprocess.run(
        [sys.executable, "-m", "deployment", "iam-policy", "--account-id", ACCOUNT, *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(printed.stdout)


@dataclass(frozen=True)
class StageState:
    endpoint: dict | None  # DescribeEndpoint of the stage's endpoint
    endpoint_config: dict | None  # DescribeEndpointConfig of the config it is on
    api_endpoint: str | None  # the stage's HTTP API's endpoint URL

    @classmethod
    def read(cls, fake_aws: FakeAws, prefix: str) -> StageState:
        console = fake_aws.console()
        sagemaker = console.client("sagemaker")
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=prefix)
        except ClientError:
            return cls(None, None, None)
        config = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
        apis = console.client("apigatewayv2").get_apis()["Items"]
        api = next((api["ApiEndpoint"] for api in apis if api["Name"] == f"{prefix}-api"), None)
        return cls(endpoint, config, api)


@dataclass(frozen=True)
class Scenario:
    """One act run and what the fakes recorded while it ran."""

    run: ActRun
    number: int
    head_sha: str
    calls: list[Call]  # AWS requests, in order
    github: list[Request]  # GitHub REST and OIDC requests, in order
    tokens: list[dict]  # claims of the OIDC tokens issued
    left: set[tuple[str, str]]  # what AWS holds of the pull request's stage after the run
    stage: StageState  # the stage's endpoint and API after the run
    monitoring_runs: list[Execution]  # the monitoring jobs the run started

    def failed(self, what: str) -> str:
        """The assertion message: which jobs and steps failed, and the end of what they printed."""
        lines = [f"{what}: jobs {self.run.jobs}; full log {self.run.log}"]
        for job, result in self.run.jobs.items():
            if result != "success":
                steps = [
                    step for step, outcome in self.run.steps.get(job, {}).items() if outcome != "success"
                ]
                lines += [f"--- {job}: failed at {steps}; its last lines:", *self.run.printed(job)[-40:]]
        return "\n".join(lines)


@dataclass
class PullRequests:
    """Opens, pushes to and closes pull requests, each in its own copy of the work tree."""

    root: Path
    source: Path  # the session's snapshot of the work tree
    runner: Runner
    fake_aws: FakeAws
    fake_github: FakeGitHub

    def push(self, number: int, changes: dict[str, str] | None = None, message: str = "change") -> str:
        return stage_tree(self.root / f"pr-{number}", self.source, changes, message)

    def tree(self, number: int) -> Path:
        return self.root / f"pr-{number}"

    def run(
        self, workflow: str, action: str, number: int, head_sha: str, head_repo: str = REPOSITORY
    ) -> Scenario:
        event = pull_request_event(action, number, head_sha, head_repo)
        return self._scenario(
            lambda: self.runner.run(workflow, event, self.tree(number), f"pr-{number}-{action}"),
            number,
            head_sha,
            f"pose-pr-{number}",
        )

    def merge(self, number: int, head_sha: str, through_pull_request: bool = True) -> Scenario:
        """Pull request `number` merged into main at `head_sha` (a merge commit of its own, which
        GitHub associates with it; or, not `through_pull_request`, the same commit pushed to main
        directly): `production.yml` runs on the push, for stage prod."""
        main = self.root / f"main-{number}"
        merge_sha = merge_commit(self.tree(number), head_sha, main, number)
        if through_pull_request:
            self.fake_github.pulls[merge_sha] = [merged_pull(number, head_sha, merge_sha)]
        event = push_event(merge_sha, head_sha)
        return self._scenario(
            lambda: self.runner.run("production.yml", event, main, f"main-{number}-push", "push"),
            number,
            head_sha,
            "pose-prod",
        )

    def _scenario(self, run: Callable[[], ActRun], number: int, head_sha: str, prefix: str) -> Scenario:
        aws_mark, github_mark, token_mark, job_mark = (
            len(self.fake_aws.calls),
            len(self.fake_github.requests),
            len(self.fake_github.tokens),
            len(self.fake_aws.gaps.executions),
        )
        finished = run()
        return Scenario(
            finished,
            number,
            head_sha,
            self.fake_aws.calls[aws_mark:],
            self.fake_github.requests[github_mark:],
            self.fake_github.tokens[token_mark:],
            left_over(self.fake_aws, prefix),
            StageState.read(self.fake_aws, prefix),
            self.fake_aws.gaps.executions[job_mark:],
        )


def pull_request_event(action: str, number: int, head_sha: str, head_repo: str) -> dict:
    """The `pull_request` webhook payload, with what the workflows read from it."""
    repository = {"full_name": REPOSITORY, "name": REPOSITORY.split("/")[1], "owner": {"login": "octo-org"}}
    head = {
        "full_name": head_repo,
        "name": head_repo.split("/")[1],
        "owner": {"login": head_repo.split("/")[0]},
    }
    return {
        "action": action,
        "number": number,
        "pull_request": {
            "number": number,
            "state": "closed" if action == "closed" else "open",
            "merged": False,
            "html_url": f"https://github.com/{REPOSITORY}/pull/{number}",
            "head": {"ref": f"change-{number}", "sha": head_sha, "repo": head},
            "base": {"ref": "main", "sha": "0" * 40, "repo": repository},
        },
        "repository": repository,
        "sender": {"login": head_repo.split("/")[0]},
    }


def push_event(after: str, before: str) -> dict:
    """The `push` webhook payload of a merge into main."""
    repository = {"full_name": REPOSITORY, "name": REPOSITORY.split("/")[1], "owner": {"login": "octo-org"}}
    return {
        "ref": "refs/heads/main",
        "before": before,
        "after": after,
        "head_commit": {"id": after, "message": "Merge pull request"},
        "repository": repository,
        "pusher": {"name": "octo-org"},
        "sender": {"login": "octo-org"},
    }


def merged_pull(number: int, head_sha: str, merge_sha: str) -> dict:
    """A merged pull request as GitHub's commit-to-pulls API lists it (the fields the workflow reads)."""
    return {
        "number": number,
        "state": "closed",
        "merged_at": "2026-01-01T00:00:00Z",
        "merge_commit_sha": merge_sha,
        "html_url": f"https://github.com/{REPOSITORY}/pull/{number}",
        "head": {"ref": f"change-{number}", "sha": head_sha},
        "base": {"ref": "main"},
    }


def merge_commit(tree: Path, head_sha: str, main: Path, number: int) -> str:
    """main, as the merge of `head_sha` left it: a clone of the pull request's tree at that commit
    with a merge commit on top (its sha is the push's); the repository's `.venv` linked in."""
    git = ("git", "-c", "user.name=pipeline test", "-c", "user.email=pipeline@example.invalid")
    subprocess.run([*git, "clone", "--quiet", str(tree), str(main)], check=True)
    subprocess.run([*git, "-C", str(main), "checkout", "--quiet", "-B", "main", head_sha], check=True)
    message = f"Merge pull request #{number}"
    subprocess.run([*git, "-C", str(main), "commit", "--quiet", "--allow-empty", "-m", message], check=True)
    if not (main / ".venv").is_symlink():  # the pull request's commit may hold the link already
        link_venv(main)
    return subprocess.run(
        ["git", "-C", str(main), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture(scope="session")
def pull_requests(workspace: Path, runner: Runner, fake_aws, fake_github, deploy_role) -> PullRequests:
    source = snapshot(workspace / "source")
    return PullRequests(workspace / "pull-requests", source, runner, fake_aws, fake_github)


def left_over(fake_aws: FakeAws, prefix: str) -> set[tuple[str, str]]:
    """(kind, name) of what moto and the stand-ins hold of a stage: tagged with it, or named after it."""
    console = fake_aws.console()
    tagged = {key for key, tags in tagged_resources(console).items() if tags.get(PROJECT_TAG) == prefix}
    tagged |= {
        ("schedule", schedule.name)
        for schedule in fake_aws.gaps.schedules.values()
        if {"Key": PROJECT_TAG, "Value": prefix} in schedule.tags or schedule.name.startswith(f"{prefix}-")
    }
    sagemaker = console.client("sagemaker")
    named = {("model", m["ModelName"]) for m in sagemaker.list_models()["Models"]}
    named |= {
        ("endpoint-config", c["EndpointConfigName"])
        for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]
    }
    named |= {("endpoint", e["EndpointName"]) for e in sagemaker.list_endpoints()["Endpoints"]}
    named |= {("bucket", bucket["Name"]) for bucket in console.client("s3").list_buckets()["Buckets"]}
    named = {(kind, name) for kind, name in named if name == prefix or name.startswith(f"{prefix}-")}
    return tagged | named


# Pull request 1's life, which more than one test module follows (test_pull_request, test_production).


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
