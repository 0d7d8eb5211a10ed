"""Model metrics and the pull request on registry versions, against moto: a measured model's
statistics uploaded next to its artifact and named in ModelMetrics, read back and put back when
gone; an unmeasured one registered without; `models` showing both."""

from __future__ import annotations

import hashlib
import json

import pytest

import deployment.artifact
from deployment.metrics import NOT_MEASURED, statistics_document
from inference.catalog import CATALOG
from inference.manifest import sha256_of
from tests.moto.deployment.test_registry import OTHER_IMAGE, QUICK, versions
from tests.unit.deployment.metrics_builders import measured, packaged


@pytest.fixture
def heavy(tmp_path_factory) -> str:
    """blazepose-heavy's model.tar.gz as far as a deploy can tell (its model.json)."""
    return str(packaged(tmp_path_factory.mktemp("heavy"), "blazepose-heavy"))


def statistics_of(version: dict) -> dict:
    return version["ModelMetrics"]["ModelQuality"]["Statistics"]


def test_a_measured_model_is_registered_with_its_statistics_in_s3_beside_the_artifact(run, console, heavy):
    result = run("deploy", *QUICK, "--model-artifact", heavy, "--commit", "abc123", "--pull-request", "42")

    assert result.code == 0, result.err
    (version,) = versions(console)
    statistics = statistics_of(version)
    artifact = version["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
    assert statistics["S3Uri"].rsplit("/", 1)[0] == artifact.rsplit("/", 1)[0]
    bucket, _, key = statistics["S3Uri"].removeprefix("s3://").partition("/")
    stored = console.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    entry = measured("blazepose-heavy")
    assert stored == statistics_document(entry)
    assert key.endswith(f"/model-quality-{statistics['ContentDigest'].removeprefix('sha256:')[:16]}.json")
    metadata = version["CustomerMetadataProperties"]
    assert (metadata["pull_request"], metadata["commit"], metadata["torso_pck"]) == (
        "42",
        "abc123",
        f"{entry.torso_pck:.3f}",
    )
    assert f"blazepose-heavy: model metrics {entry.summary()}" in result.out


def test_the_statistics_are_read_back_and_put_back_when_gone_without_a_new_version(run, console, heavy):
    assert run("deploy", *QUICK, "--model-artifact", heavy).code == 0
    (version,) = versions(console)
    bucket, _, key = statistics_of(version)["S3Uri"].removeprefix("s3://").partition("/")

    again = run("plan", *QUICK, "--model-artifact", heavy)
    console.client("s3").delete_object(Bucket=bucket, Key=key)
    repaired = run("deploy", *QUICK, "--model-artifact", heavy)

    assert again.code == 0 and "plan: no changes" in again.out
    assert repaired.code == 0 and f"+ create    artifact             s3://{bucket}/{key}" in repaired.out
    assert console.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    assert len(versions(console)) == 1


def test_an_unmeasured_model_is_registered_without_metrics_and_the_deploy_says_why(run, console):
    result = run("deploy", *QUICK)  # the fixture's artifact has no model.json

    assert result.code == 0, result.err
    (version,) = versions(console)
    assert "ModelMetrics" not in version or not version["ModelMetrics"]
    assert "torso_pck" not in version["CustomerMetadataProperties"]
    assert f"blazepose-heavy: no model metrics: {NOT_MEASURED}" in result.out


def test_the_pull_request_defaults_to_githubs_ref_and_is_left_out_without_one(run, console, monkeypatch):
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)  # set when CI runs the tests
    monkeypatch.setenv("GITHUB_REF", "refs/pull/9/merge")
    assert run("deploy", *QUICK).code == 0
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    assert run("deploy", *QUICK, *OTHER_IMAGE).code == 0

    first, second = (v["CustomerMetadataProperties"] for v in versions(console))

    assert first["pull_request"] == "9" and "pull_request" not in second


def test_models_lists_each_versions_pull_request_and_metrics(run, console, heavy):
    assert run("deploy", *QUICK, "--model-artifact", heavy, "--pull-request", "42").code == 0
    assert run("deploy", *QUICK, "--set", "project.stage=pr-7", *OTHER_IMAGE).code == 0

    listed = run("models", *QUICK)

    entry = measured("blazepose-heavy")
    first, second = listed.out.splitlines()
    assert "PR #42" in first and f"PCK torso {entry.torso_pck:.3f} bbox {entry.bbox_pck:.3f}" in first
    assert "no PR" in second and "no metrics" in second
    assert second.rstrip().endswith("registered by pose-pr-7; runs on pr-7")


def test_a_pull_request_that_is_not_a_number_is_a_usage_error(run, console):
    with pytest.raises(SystemExit) as exited:
        run("plan", *QUICK, "--pull-request", "#42")

    assert exited.value.code == 2 and versions(console) == []


def test_the_statistics_document_is_json_a_reader_can_check_against_its_digest(run, console, heavy):
    assert run("deploy", *QUICK, "--model-artifact", heavy).code == 0
    (version,) = versions(console)
    statistics = statistics_of(version)
    bucket, _, key = statistics["S3Uri"].removeprefix("s3://").partition("/")

    body = console.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()

    assert statistics["ContentDigest"] == f"sha256:{hashlib.sha256(body).hexdigest()}"
    assert json.loads(body)["pose_metrics"]["photos_without_person"]["value"] == len(
        measured("blazepose-heavy").without_person
    )


def test_each_model_of_a_multi_model_stage_gets_its_own_metrics(monkeypatch, tmp_path, run, console):
    """movenet-lightning packaged with other files than the measured ones: no metrics for it alone."""

    def build_artifact(model, output_dir):
        changed = (
            {f.filename: "0" * 64 for f in CATALOG[model.name].files} if "movenet" in model.name else None
        )
        path = packaged(tmp_path / model.name, model.name, changed)
        return path, sha256_of(path)

    monkeypatch.setattr(deployment.artifact, "build_artifact", build_artifact)
    three = "endpoint.models=[blazepose-heavy, blazepose-lite, movenet-lightning]"

    # "--model-artifact ''" takes back the fixture's: a multi-model stage packages each model itself.
    result = run("deploy", *QUICK, "--set", three, "--model-artifact", "", "--pull-request", "5")

    assert result.code == 0, result.err
    found = {v["CustomerMetadataProperties"]["model"]: v for v in versions(console)}
    for name in ("blazepose-heavy", "blazepose-lite"):
        statistics = statistics_of(found[name])
        artifact = found[name]["InferenceSpecification"]["Containers"][0]["ModelDataUrl"]
        assert statistics["S3Uri"].startswith(artifact.removesuffix(".tar.gz") + "-quality-")
        bucket, _, key = statistics["S3Uri"].removeprefix("s3://").partition("/")
        body = console.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        assert body == statistics_document(measured(name))
    assert not found["movenet-lightning"].get("ModelMetrics")
    assert "movenet-lightning: no model metrics: no measured accuracy for this model" in result.out
    assert {v["CustomerMetadataProperties"]["pull_request"] for v in found.values()} == {"5"}
