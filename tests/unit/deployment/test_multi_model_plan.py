"""A multi-model stage's desired state and plan: artifacts under one prefix, a MultiModel model,
the default named, one registry version per model; the same drift rules as a single-model stage."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployment.config import parse_config
from deployment.deployer import Deployer
from deployment.errors import ConfigError, DeploymentError
from deployment.multi_model import MONITOR_NOTE, PackagedModel, runs
from deployment.planner import plan
from deployment.resources.base import Kind
from deployment.state import Inputs, desired_state
from tests.unit.deployment.builders import (
    ACCOUNT,
    ARTIFACT_SHA,
    EPOCH,
    INFERENCE_IMAGE,
    MONITORING_IMAGE,
    applied,
    changes,
    deployed,
    desired,
)

THREE = ["blazepose-heavy", "blazepose-lite", "movenet-lightning"]
SHAS = {"blazepose-heavy": ARTIFACT_SHA, "blazepose-lite": "d" * 64, "movenet-lightning": "e" * 64}
BUCKET = f"pose-dev-{ACCOUNT}-us-east-1"


def packaged(shas: dict[str, str], default: str = "blazepose-heavy") -> tuple[PackagedModel, ...]:
    order = [default, *(name for name in shas if name != default)]
    return tuple(PackagedModel(name, f"/nonexistent/{name}.tar.gz", shas[name]) for name in order)


def multi(shas: dict[str, str] = SHAS, default: str = "blazepose-heavy", **sections):
    config = parse_config({"model": {"name": default}, "endpoint": {"models": list(shas)}, **sections})
    first = packaged(shas, default)
    inputs = Inputs(INFERENCE_IMAGE, MONITORING_IMAGE, first[0].path, first[0].sha256, "abc123", first)
    return desired_state(config, inputs, ACCOUNT)


def test_each_model_is_its_own_artifact_under_one_prefix_named_by_the_set():
    state = multi()
    prefix = state.model.model_data_url

    assert prefix.startswith(f"s3://{BUCKET}/pose-dev/models/multi/") and prefix.endswith("/")
    assert [(artifact.s3_uri, artifact.sha256) for artifact in state.artifacts] == [
        (f"{prefix}{name}.tar.gz", SHAS[name]) for name in THREE
    ]
    assert state.model.multi_model
    assert dict(state.model.environment) == {
        "POSE_MODELS": "blazepose-heavy,blazepose-lite,movenet-lightning",
        "SAGEMAKER_MULTI_MODEL": "true",
    }


def test_the_default_is_named_first_for_the_container_and_the_lambda():
    state = multi(default="blazepose-lite")

    expected = "blazepose-lite,blazepose-heavy,movenet-lightning"
    assert dict(state.model.environment)["POSE_MODELS"] == expected
    assert dict(state.api.function.environment) == {"ENDPOINT_NAME": "pose-dev", "POSE_MODELS": expected}


def test_a_single_model_stage_keeps_its_names_and_lambda_environment():
    state = desired()

    assert not state.model.multi_model
    assert state.model.model_data_url == state.artifact.s3_uri and len(state.artifacts) == 1
    assert dict(state.api.function.environment) == {"ENDPOINT_NAME": "pose-dev"}


def test_a_changed_model_is_a_new_prefix_model_and_blue_green_update():
    before = multi()
    after = multi({**SHAS, "blazepose-lite": "f" * 64})
    prefix = after.model.model_data_url

    assert prefix != before.model.model_data_url
    assert changes(plan(after, deployed(before)))[:6] == [
        *(("create", "artifact", f"{prefix}{name}.tar.gz") for name in THREE),
        ("create", "model", after.model.name),
        ("create", "endpoint-config", after.endpoint_config.name),
        ("update", "endpoint", "pose-dev"),
    ]


def test_another_default_is_a_new_model_over_the_same_artifacts():
    before = multi()
    after = multi(default="movenet-lightning")

    assert after.model.model_data_url == before.model.model_data_url
    assert after.model.name != before.model.name
    assert [step[1] for step in changes(plan(after, deployed(before)))][:3] == [
        "model",
        "endpoint-config",
        "endpoint",
    ]


def test_a_second_deploy_changes_nothing_and_a_deleted_artifact_is_uploaded_again():
    state = multi()
    first = plan(state, deployed(desired()))
    account = applied(deployed(desired()), first, EPOCH)

    assert changes(plan(state, account)) == []
    lost = f"{state.model.model_data_url}blazepose-lite.tar.gz"
    drifted = replace(account, artifacts_found=account.artifacts_found - {lost})
    assert changes(plan(state, drifted)) == [("create", "artifact", lost)]


def test_one_registry_version_per_model_as_a_single_model_stage_records_it():
    state = multi()
    versions = state.standalone[Kind.MODEL_VERSION]
    single = desired().standalone[Kind.MODEL_VERSION][0]  # blazepose-heavy alone, the same artifact

    assert [dict(version.metadata)["model"] for version in versions] == THREE
    assert [version.model_data_url for version in versions] == [a.s3_uri for a in state.artifacts]
    assert all("POSE_MODELS" not in dict(version.environment) for version in versions)
    assert versions[0].identity == single.identity
    assert len({version.identity for version in versions}) == 3


def test_the_page_offers_the_models_and_a_new_set_is_a_new_page():
    state = multi(default="blazepose-lite")
    page = state.web.page

    assert (page.model_name, page.models) == (
        "blazepose-lite",
        ("blazepose-lite", "blazepose-heavy", "movenet-lightning"),
    )
    page_changes = [step for step in changes(plan(state, deployed(desired()))) if step[1] == "web-page"]
    assert page_changes == [("update", "web-page", f"s3://{page.bucket}/index.html")]
    assert changes(plan(state, deployed(state))) == []


def test_the_plan_says_the_monitor_on_a_multi_model_endpoint_is_unconfirmed():
    actions = plan(multi(), deployed(desired()))
    (schedule,) = [action for action in actions if action.kind == Kind.MONITORING_SCHEDULE]

    assert schedule.reason.endswith(MONITOR_NOTE)
    single = [a for a in plan(desired(), deployed(desired())) if a.kind == Kind.MONITORING_SCHEDULE]
    assert [action.reason for action in single] == [""]


def test_a_version_runs_where_its_artifact_is_the_model_data_or_inside_its_prefix():
    prefix = "s3://b/pose-dev/models/multi/0123/"

    assert runs(("img", prefix), "img", f"{prefix}blazepose-lite.tar.gz")
    assert runs(("img", "s3://b/k/model.tar.gz"), "img", "s3://b/k/model.tar.gz")
    assert not runs(("img", prefix), "other", f"{prefix}blazepose-lite.tar.gz")
    assert not runs(("img", prefix), "img", f"{prefix}deeper/blazepose-lite.tar.gz")
    assert not runs(("img", "s3://b/k/"), "img", "s3://b/k2/model.tar.gz")


def test_batch_is_refused_on_a_multi_model_stage_before_any_aws_call():
    deployer = Deployer(parse_config({"endpoint": {"models": THREE}}))

    with pytest.raises(ConfigError) as raised:
        deployer.batch("s3://photos/in/", None, 1, None)

    assert raised.value.exit_code == 2
    assert str(raised.value).startswith("endpoint.models: a multi-model stage's model needs each request")


def test_a_multi_model_stage_is_planned_only_with_its_whole_set_packaged():
    config = parse_config({"endpoint": {"models": THREE}})
    one = Inputs(INFERENCE_IMAGE, MONITORING_IMAGE, "", ARTIFACT_SHA)  # as a rollback to one version

    with pytest.raises(DeploymentError) as raised:
        desired_state(config, one, ACCOUNT)

    assert str(raised.value).startswith(
        "endpoint.models: a multi-model stage runs blazepose-heavy, blazepose-lite, movenet-lightning, "
        "packaged together; this run has none of them"
    )
