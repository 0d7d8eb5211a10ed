"""`python -m deployment` as a real process against a real moto server on 127.0.0.1: deploy, plan, destroy."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tests.conftest import REPO, free_port
from tests.moto.deployment.inventory import of_deployment, tagged_resources
from tests.unit.deployment.builders import INFERENCE_IMAGE, MONITORING_IMAGE

STARTUP_SECONDS = 30
COMMAND_SECONDS = 120


def wait_until_listening(port: int, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"moto server exited with {server.returncode}: {server.stderr.read()}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)  # polling a starting process, not waiting on the code under test
    pytest.fail(f"moto server not listening on 127.0.0.1:{port} after {STARTUP_SECONDS}s")


@pytest.fixture
def aws_environment(tmp_path: Path) -> dict[str, str]:
    """Credentials that only moto accepts, and no way to a real profile, endpoint or CI output."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "GITHUB_")) and key not in ("INFERENCE_IMAGE", "MONITORING_IMAGE")
    }
    return environment | {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "PYTHONPATH": str(REPO),
    }


@pytest.fixture
def moto_server(aws_environment: dict[str, str]) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(  # moto's server, with its CloudFront and bucket-policy gaps filled
        [sys.executable, "-m", "tests.moto.deployment.moto_gaps", "-H", "127.0.0.1", "-p", str(port)],
        env=aws_environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until_listening(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        server.stderr.close()


@pytest.fixture
def model_artifact(tmp_path: Path) -> Path:
    model = tmp_path / "model.tflite"
    model.write_bytes(b"TFL3 not a real model")
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(model, arcname="model.tflite")
    return path


def deployment_cli(environment: dict[str, str], *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "deployment", *argv],
        cwd=REPO,
        env=environment,
        capture_output=True,
        text=True,
        timeout=COMMAND_SECONDS,
        check=False,
    )


def test_deploy_plan_destroy_against_a_moto_server(moto_server, aws_environment, model_artifact, monkeypatch):
    environment = aws_environment | {"AWS_ENDPOINT_URL": moto_server}
    build = ["--inference-image", INFERENCE_IMAGE, "--monitoring-image", MONITORING_IMAGE]
    build += ["--model-artifact", str(model_artifact)]
    no_monitoring = ["--set", "monitoring.enabled=false"]  # moto has no monitoring-schedule APIs
    for key, value in environment.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    account = boto3.Session()

    deployed = deployment_cli(environment, "deploy", *no_monitoring, *build)
    assert deployed.returncode == 0, deployed.stderr
    assert "endpoint_name=pose-dev" in deployed.stdout.splitlines()
    # The endpoint's 7 resources, the web bucket and its distribution, the Lambda, its role and log
    # group, the HTTP API, and the two alerts a stage without monitoring has (5XX, latency).
    assert len(of_deployment(tagged_resources(account), "pose-dev")) == 15
    assert_the_page_calls_the_api(account, outputs(deployed))

    planned = deployment_cli(environment, "plan", *no_monitoring, *build)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1] == "plan: no changes"

    destroyed = deployment_cli(environment, "destroy", *no_monitoring)
    assert destroyed.returncode == 0, destroyed.stderr
    # ...and the distribution's origin access control, which CloudFront does not tag.
    assert destroyed.stdout.splitlines()[-1] == "destroyed pose-dev: 17 resources removed"

    assert tagged_resources(account) == {}
    assert account.client("s3").list_buckets()["Buckets"] == []
    assert account.client("sagemaker").list_endpoints()["Endpoints"] == []
    assert account.client("lambda").list_functions()["Functions"] == []
    assert account.client("apigatewayv2").get_apis()["Items"] == []
    assert account.client("iam").list_roles()["Roles"] == []
    assert account.client("cloudfront").list_distributions()["DistributionList"]["Quantity"] == 0


def outputs(result: subprocess.CompletedProcess) -> dict[str, str]:
    lines = result.stdout.splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and " " not in line)


def assert_the_page_calls_the_api(account: boto3.Session, published: dict[str, str]) -> None:
    """index.html, read back from the bucket the page's distribution serves, names the API the deploy
    reported, and the API allows the page's HTTPS origin."""
    api_url, web_url = published["api_url"], published["web_url"]
    (api,) = account.client("apigatewayv2").get_apis()["Items"]
    assert api_url == f"{api['ApiEndpoint']}/predict"
    (distribution,) = account.client("cloudfront").list_distributions()["DistributionList"]["Items"]
    assert web_url == f"https://{distribution['DomainName']}/"
    (origin,) = distribution["Origins"]["Items"]
    bucket = origin["DomainName"].split(".s3.")[0]
    s3 = account.client("s3")
    page = s3.get_object(Bucket=bucket, Key="index.html")
    html = page["Body"].read().decode()
    assert f'data-api-url="{api_url}"' in html and 'data-model-name="blazepose-heavy"' in html
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    script = s3.get_object(Bucket=bucket, Key="static/app.js")
    assert (script["ContentType"], script["CacheControl"]) == (
        "text/javascript; charset=utf-8",
        "public, max-age=300",
    )
    assert api["CorsConfiguration"]["AllowOrigins"] == [web_url.removesuffix("/")]


def test_an_unpinned_image_is_one_error_line_and_exit_2(aws_environment, model_artifact):
    environment = aws_environment | {"AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing may be called

    result = deployment_cli(
        environment,
        "deploy",
        "--inference-image",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose:latest",
        "--monitoring-image",
        MONITORING_IMAGE,
        "--model-artifact",
        str(model_artifact),
    )

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "error: --inference-image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/pose:latest' "
        "is not pinned by digest (repo@sha256:<64 hex>)\n"
    )


def test_a_bad_config_is_one_error_line_and_exit_2(aws_environment, tmp_path):
    config = tmp_path / "config.yml"
    config.write_text("endpoint:\n  serverless: {}\n")

    result = deployment_cli(aws_environment, "validate", "--config", str(config))

    assert result.returncode == 2
    assert result.stderr.startswith(f"error: {config}: endpoint.serverless: ")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
