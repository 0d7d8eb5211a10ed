"""The harness's own edges, without act: what is missing is one line saying what to install, and the
stand-ins refuse what AWS refuses."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.pipeline import conftest, runner
from tests.pipeline.aws_cli import parse
from tests.pipeline.fake_github import OIDC_ISSUER, sign, verified_claims
from tests.pipeline.service_model import Refused, operation, validated
from tests.pipeline.sts_gaps import admits

PROVIDER_ARN = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
TRUST = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Federated": PROVIDER_ARN},
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {
                "StringEquals": {
                    "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                    "token.actions.githubusercontent.com:sub": ["repo:o/r:environment:pull-request"],
                }
            },
        }
    ]
}


@pytest.mark.parametrize("tool", ["node", "git", "podman", "make"])
def test_a_missing_tool_is_one_line_naming_what_to_install(tool, tmp_path, monkeypatch):
    for other in {"node", "git", "podman", "make"} - {tool}:
        (tmp_path / other).write_text("#!/bin/sh\n")  # found on PATH is all the check asks
        (tmp_path / other).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))

    with pytest.raises(runner.ToolMissing) as missing:
        runner.check_tools()

    assert str(missing.value).startswith(f"{tool} is missing: install ") and "\n" not in str(missing.value)


def test_missing_shared_actions_name_the_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "ACTIONS", tmp_path / "actions")

    with pytest.raises(runner.ToolMissing, match=r"actions is missing: the pinned GitHub actions"):
        runner.check_tools()


def test_a_new_action_pin_without_its_folder_names_it(tmp_path, monkeypatch):
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "w.yml").write_text(f"steps:\n  - uses: actions/new-thing@{'a' * 40} # v1\n")

    with pytest.raises(
        runner.ToolMissing, match=rf"actions/new-thing@{'a' * 40} is missing: the workflows pin"
    ):
        runner.action_pins(tmp_path)


@pytest.mark.parametrize(
    ("strict", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)]
)
def test_strict_tests_turn_a_missing_tool_into_a_failure(strict, outcome, monkeypatch):
    monkeypatch.setattr(conftest, "STRICT", strict)

    with pytest.raises(outcome):
        conftest._missing(runner.ToolMissing("podman is missing: install podman"))


@pytest.fixture
def shims(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    environment = {**os.environ, "POSE_PIPELINE_STATE": str(tmp_path)}
    return runner.make_shims(tmp_path / "bin"), environment


@pytest.mark.parametrize(
    ("command", "code", "line"),
    [
        (
            ["apt-get", "install", "-y", "no-such-package-here"],
            100,
            "E: the pipeline test installs nothing: ",
        ),
        (
            ["docker", "run", "x"],
            2,
            "docker (pipeline-test shim): 'run' is not one of login, logout, build, push",
        ),
        (
            ["docker", "push", "registry.example/repo:tag"],
            1,
            "denied: no basic auth credentials for registry.example",
        ),
        (
            ["aws", "ecr", "describe-images", "--no-such-option", "x"],
            252,
            "aws ecr describe-images: unknown option",
        ),
    ],
)
def test_a_shim_refuses_what_it_cannot_do_in_one_line(shims, command, code, line):
    directory, environment = shims

    result = subprocess.run(
        [str(directory / command[0]), *command[1:]],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )

    assert (result.returncode, result.stderr.startswith(line), result.stderr.count("\n")) == (code, True, 1)


def test_the_aws_shim_reads_the_cli_grammar_by_the_operations_shapes():
    describe = operation("ecr", "DescribeImages")

    params = parse(describe, ["--repository-name", "pose-inference", "--image-ids", "imageTag=abc"])

    assert params == {"repositoryName": "pose-inference", "imageIds": [{"imageTag": "abc"}]}


def test_a_stand_in_refuses_what_sagemaker_refuses():
    with pytest.raises(Refused) as refused:
        validated("sagemaker", "DeleteMonitoringSchedule", {"MonitoringScheduleName": "pose_pr_1"})

    assert refused.value.code == "ValidationException" and "does not match" in refused.value.message


@pytest.mark.parametrize(
    ("claims", "admitted"),
    [
        ({"aud": "sts.amazonaws.com", "sub": "repo:o/r:environment:pull-request"}, True),
        ({"aud": "sts.amazonaws.com", "sub": "repo:o/r:pull_request"}, False),  # a job with no environment
        ({"aud": "sts.amazonaws.com", "sub": "repo:fork/r:environment:pull-request"}, False),
        ({"aud": "other", "sub": "repo:o/r:environment:pull-request"}, False),
    ],
)
def test_the_trust_policy_admits_only_the_tokens_it_names(claims, admitted):
    assert admits(TRUST, PROVIDER_ARN, claims) is admitted


def test_only_tokens_the_fake_issued_are_believed():
    token = sign({"iss": OIDC_ISSUER, "sub": "x", "exp": 4_000_000_000})
    header, payload, _ = token.split(".")

    assert verified_claims(token)["sub"] == "x"
    assert verified_claims(f"{header}.{payload}.forged") is None
    assert verified_claims(sign({"iss": OIDC_ISSUER, "exp": 1})) is None  # expired


def test_without_podman_the_docker_shim_records_the_build(shims, tmp_path):
    directory, environment = shims
    environment = {**environment, "PATH": str(directory), "DOCKER_CONFIG": str(tmp_path / "docker")}
    context = tmp_path / "context"
    (context / "app").mkdir(parents=True)
    (context / "app" / "Dockerfile").write_text("FROM scratch\n")
    reference = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose-app:abc"

    def docker(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(directory / "docker"), *args],
            cwd=context,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )

    built = docker("build", "--file", "app/Dockerfile", "--tag", reference, ".")
    pushed = docker("push", reference)

    assert built.returncode == 0 and built.stdout.startswith(f"recorded the build of {reference}")
    assert (pushed.returncode, pushed.stderr) == (
        1,
        "denied: no basic auth credentials for 123456789012.dkr.ecr.us-east-1.amazonaws.com\n",
    )
