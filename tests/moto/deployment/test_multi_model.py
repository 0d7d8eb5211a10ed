"""A multi-model stage through the CLI against moto: deployed, deployed again with nothing to do,
repaired after drift, moved to another set blue/green, destroyed."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

import deployment.artifact
from deployment import cli
from deployment.website import render_page
from inference.manifest import sha256_of
from tests.moto.deployment.conftest import ACCOUNT, REGION, SHIPPED, Result
from tests.moto.deployment.inventory import of_deployment, tagged_resources
from tests.unit.deployment.builders import INFERENCE_IMAGE, MONITORING_IMAGE

THREE = "endpoint.models=[blazepose-heavy, blazepose-lite, movenet-lightning]"
MODELS = ("--set", THREE, "--set", "model.name=blazepose-lite")
SERVED = "blazepose-lite,blazepose-heavy,movenet-lightning"
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"


@pytest.fixture
def packaged(monkeypatch, tmp_path) -> dict[str, bytes]:
    """Each catalog model "packaged" as a small tarball of its own (no download): name -> bytes."""
    made: dict[str, bytes] = {}

    def build_artifact(model, output_dir: Path) -> tuple[Path, str]:
        source = tmp_path / f"{model.name}.tflite"
        source.write_bytes(f"TFL3 {model.name}".encode())
        path = tmp_path / f"{model.name}-packaged.tar.gz"
        if not path.exists():  # packaged again, the same bytes (as inference/artifact.py makes sure)
            with tarfile.open(path, "w:gz") as archive:
                archive.add(source, arcname="model.tflite")
        made[model.name] = path.read_bytes()
        return path, sha256_of(path)

    monkeypatch.setattr(deployment.artifact, "build_artifact", build_artifact)
    return made


@pytest.fixture
def run(account, packaged, capsys):
    """`run("deploy")`: the CLI with the shipped config.yml and the three models, packaged by the fixture."""

    def invoke(command: str, *extra: str) -> Result:
        argv = [command, "--config", SHIPPED, *MODELS]
        if command in ("plan", "deploy"):
            argv += ["--inference-image", INFERENCE_IMAGE, "--monitoring-image", MONITORING_IMAGE]
        code = cli.main([*argv, *extra])
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def model_keys(s3) -> list[str]:
    found = s3.list_objects_v2(Bucket=BUCKET, Prefix="pose-dev/models/").get("Contents", [])
    return sorted(item["Key"] for item in found)


def test_a_multi_model_stage_is_deployed_with_each_model_under_one_prefix(run, account, console, packaged):
    result = run("deploy")

    assert result.code == 0, result.err
    (model,) = account.requests("CreateModel")
    prefix = model["PrimaryContainer"]["ModelDataUrl"]
    assert prefix.startswith(f"s3://{BUCKET}/pose-dev/models/multi/") and prefix.endswith("/")
    assert model["PrimaryContainer"]["Mode"] == "MultiModel"
    assert model["PrimaryContainer"]["Environment"] == {
        "POSE_MODELS": SERVED,
        "SAGEMAKER_MULTI_MODEL": "true",
    }
    s3 = console.client("s3")
    folder = prefix.removeprefix(f"s3://{BUCKET}/")
    assert model_keys(s3) == sorted(f"{folder}{name}.tar.gz" for name in SERVED.split(","))
    lite = s3.get_object(Bucket=BUCKET, Key=f"{folder}blazepose-lite.tar.gz")["Body"].read()
    assert lite == packaged["blazepose-lite"]
    function = console.client("lambda").get_function_configuration(FunctionName="pose-dev-predict")
    assert function["Environment"]["Variables"] == {"ENDPOINT_NAME": "pose-dev", "POSE_MODELS": SERVED}
    versions = account.requests("CreateModelPackage")
    assert sorted(v["CustomerMetadataProperties"]["model"] for v in versions) == sorted(SERVED.split(","))
    page = console.client("s3").get_object(Bucket=f"{BUCKET}-web", Key="index.html")["Body"].read()
    (api_url,) = [
        line.removeprefix("api_url=") for line in result.out.splitlines() if line.startswith("api_url=")
    ]
    assert page == render_page(api_url, "blazepose-lite", tuple(SERVED.split(",")))  # the page's picker
    (monitor,) = [line for line in result.out.splitlines() if line.startswith("+ create    monitoring-sch")]
    assert monitor.endswith("over the captures, unconfirmed on a real account)")


def test_a_second_deploy_changes_nothing(run, account):
    assert run("deploy").code == 0
    mark = account.mark()

    result = run("deploy")

    assert result.code == 0, result.err
    assert mutating(account.since(mark)) == []
    assert run("plan").out.splitlines()[-1] == "plan: no changes"


def test_a_deleted_artifact_and_a_lambda_without_its_models_are_repaired(run, account, console):
    assert run("deploy").code == 0
    s3 = console.client("s3")
    lost = next(key for key in model_keys(s3) if key.endswith("/movenet-lightning.tar.gz"))
    s3.delete_object(Bucket=BUCKET, Key=lost)
    console.client("lambda").update_function_configuration(
        FunctionName="pose-dev-predict", Environment={"Variables": {"ENDPOINT_NAME": "pose-dev"}}
    )
    mark = account.mark()

    assert run("deploy").code == 0

    assert mutating(account.since(mark)) == [
        ("s3", "PutObject"),
        ("lambda", "UpdateFunctionConfiguration"),
    ]
    assert [call.params["Key"] for call in account.since(mark) if call.operation == "PutObject"] == [lost]
    assert lost in model_keys(s3)
    variables = console.client("lambda").get_function_configuration(FunctionName="pose-dev-predict")
    assert variables["Environment"]["Variables"]["POSE_MODELS"] == SERVED
    assert run("plan").out.splitlines()[-1] == "plan: no changes"


def test_another_set_is_a_new_model_and_a_blue_green_update(run, account):
    assert run("deploy").code == 0
    mark = account.mark()

    result = run("deploy", "--set", "endpoint.models=[blazepose-lite, movenet-lightning]")

    assert result.code == 0, result.err
    calls = account.since(mark)
    (model,) = [call.params for call in calls if call.operation == "CreateModel"]
    assert model["PrimaryContainer"]["Environment"]["POSE_MODELS"] == "blazepose-lite,movenet-lightning"
    assert [call.operation for call in calls if call.operation in ("PutObject", "UpdateEndpoint")][:3] == [
        "PutObject",  # the two models under the new set's prefix
        "PutObject",
        "UpdateEndpoint",
    ]


def test_destroy_removes_the_multi_model_stage(run, account, console):
    assert run("deploy").code == 0

    result = run("destroy")

    assert result.code == 0, result.err
    assert of_deployment(tagged_resources(console), "pose-dev") == set()
    assert account.schedules == {}
    assert console.client("sagemaker").list_models()["Models"] == []
