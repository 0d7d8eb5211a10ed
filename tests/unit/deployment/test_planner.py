"""The pure planner against in-memory remote states: what a deploy or destroy would do, in order."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployment.errors import DeploymentError
from deployment.planner import plan, plan_destroy
from deployment.remote import RemoteState
from deployment.resources.base import Action, Kind
from deployment.resources.endpoint import BUSY_STATES, RemoteEndpoint
from deployment.resources.endpoint_config import RemoteConfig
from tests.unit.deployment.builders import (
    EPOCH,
    REGISTRY,
    applied,
    changes,
    deployed,
    desired,
    hours,
    steps,
)


def image(digit: str) -> str:
    return f"{REGISTRY}/pose@sha256:" + digit * 64


def test_from_scratch_everything_is_created_dependencies_first():
    state = desired({"autoscaling": {"enabled": True}})
    web = "s3://pose-dev-123456789012-us-east-1-web"

    assert steps(plan(state, RemoteState())) == [
        ("create", "bucket", "pose-dev-123456789012-us-east-1"),
        ("create", "role", "pose-dev-sagemaker-execution"),
        ("create", "role", "pose-dev-predict-lambda"),  # early: IAM propagates while the endpoint is made
        ("create", "artifact", state.artifact.s3_uri),
        ("create", "model", state.model.name),
        ("create", "endpoint-config", state.endpoint_config.name),
        ("create", "alarm", "pose-dev-invocation-5xx"),
        ("create", "alarm", "pose-dev-model-latency"),
        # Alarms that tell people (no one subscribed by default: the dashboard shows them).
        ("create", "alert", "pose-dev-monitor-5xx"),
        ("create", "alert", "pose-dev-monitor-latency"),
        ("create", "alert", "pose-dev-monitor-violations"),
        ("create", "endpoint", "pose-dev"),
        ("create", "autoscaling", "endpoint/pose-dev/variant/AllTraffic"),
        ("create", "monitoring-schedule", "pose-dev-monitor"),
        ("create", "dashboard", "pose-dev-monitor-us-east-1"),
        ("create", "model-group", "pose"),  # the project's registry, then what this stage runs
        ("create", "model-version", version_of(state)),
        # The page's distribution before the API, whose CORS allows the distribution's origin.
        ("create", "web-bucket", "pose-dev-123456789012-us-east-1-web"),
        ("create", "web-oac", "pose-dev-web"),
        ("create", "web-distribution", "pose-dev-web"),
        ("create", "web-bucket-policy", "pose-dev-123456789012-us-east-1-web"),
        ("create", "log-group", "/aws/lambda/pose-dev-predict"),
        ("create", "function", "pose-dev-predict"),
        ("create", "http-api", "pose-dev-api"),
        ("create", "lambda-permission", "pose-dev-predict invoke-from-http-api"),
        *(("create", "web-file", f"{web}/{file.key}") for file in state.web.files),
        ("create", "web-page", f"{web}/index.html"),
    ]


def version_of(state) -> str:
    """The registry version's name: the identity of the model the state deploys."""
    (version,) = state.standalone[Kind.MODEL_VERSION]
    return version.identity


def test_each_create_carries_the_desired_resource():
    state = desired()
    targets = {action.kind: action.target for action in plan(state, RemoteState())}

    assert targets["endpoint-config"] == state.endpoint_config
    assert targets["endpoint"] == state.endpoint
    assert targets["monitoring-schedule"] == state.schedule


def test_an_existing_role_is_not_planned():
    state = desired({"iam": {"execution_role_arn": "arn:aws:iam::123456789012:role/theirs"}})

    roles = [action.name for action in plan(state, RemoteState()) if action.kind == "role"]

    assert roles == ["pose-dev-predict-lambda"]  # the Lambda's own role is still the engine's


def test_the_same_inputs_as_remote_change_nothing():
    state = desired({"autoscaling": {"enabled": True}})

    actions = plan(state, deployed(state))

    assert changes(actions) == []
    assert {action.verb for action in actions} == {"unchanged"}


def test_a_config_change_makes_a_new_endpoint_config_and_updates_the_endpoint():
    before = desired()
    after = desired({"endpoint": {"instance_count": 2}})

    actions = plan(after, deployed(before))

    assert changes(actions) == [
        ("create", "endpoint-config", after.endpoint_config.name),
        ("update", "endpoint", "pose-dev"),
    ]
    update = actions[[a.kind for a in actions].index("endpoint")]
    assert update.target == after.endpoint
    assert update.reason == f"{before.endpoint_config.name} -> {after.endpoint_config.name} (all_at_once)"


def test_a_model_change_makes_a_new_model_and_config_and_updates_the_endpoint():
    before = desired()
    after = desired(inference_image=image("d"))

    assert changes(plan(after, deployed(before))) == [
        ("create", "model", after.model.name),
        ("create", "endpoint-config", after.endpoint_config.name),
        ("update", "endpoint", "pose-dev"),
        ("create", "model-version", version_of(after)),  # once the endpoint runs it
    ]


def test_a_new_artifact_is_uploaded_before_its_model_is_created():
    before = desired()
    after = desired(artifact_sha="f" * 64)
    remote = replace(deployed(before), artifacts_found=frozenset())

    assert changes(plan(after, remote))[:2] == [
        ("create", "artifact", after.artifact.s3_uri),
        ("create", "model", after.model.name),
    ]


def test_a_failed_endpoint_is_deleted_and_created_again():
    state = desired()
    remote = deployed(state)
    remote = replace(
        remote, endpoint=replace(remote.endpoint, status="Failed", failure_reason="ping health check failed")
    )

    actions = plan(state, remote)

    assert changes(actions) == [("delete", "endpoint", "pose-dev"), ("create", "endpoint", "pose-dev")]
    assert "ping health check failed" in actions[[a.verb for a in actions].index("delete")].reason


@pytest.mark.parametrize("status", sorted(BUSY_STATES))
def test_a_busy_endpoint_stops_the_plan_with_a_hint(status: str):
    state = desired({"endpoint": {"instance_count": 2}})
    remote = deployed(desired(), status=status)

    with pytest.raises(DeploymentError) as raised:
        plan(state, remote)

    assert raised.value.where == "pose-dev"
    assert status in raised.value.what
    assert "python -m deployment status" in raised.value.hint


def deploy_history(count: int) -> tuple[list, RemoteState]:
    """`count` successive model versions, each deployed an hour after the last (keep_previous: 2)."""
    states = [desired(inference_image=image(digit)) for digit in "0123456789"[:count]]
    remote = RemoteState()
    for hour, state in enumerate(states):
        remote = applied(remote, plan(state, remote), EPOCH + hours(hour))
    return states, remote


def test_old_configs_beyond_keep_previous_are_deleted_with_models_no_kept_config_uses():
    states, remote = deploy_history(4)
    assert remote.endpoint.config_name == states[3].endpoint_config.name
    newest = desired(inference_image=image("9"))

    actions = plan(newest, remote)

    # Kept: the new config, the one in use (states[3]) and one more (keep_previous counts the one in use).
    assert changes(actions) == [
        ("create", "model", newest.model.name),
        ("create", "endpoint-config", newest.endpoint_config.name),
        ("update", "endpoint", "pose-dev"),
        ("create", "model-version", version_of(newest)),
        ("delete", "endpoint-config", states[1].endpoint_config.name),
        ("delete", "model", states[1].model.name),
    ]


def test_clean_up_never_deletes_the_config_in_use_nor_the_desired_one():
    state = desired(inference_image=image("1"))
    in_use = desired(inference_image=image("2"))
    # The endpoint was rolled back by hand to the oldest config; the desired config exists already.
    remote = RemoteState(
        models=frozenset({state.model.name, in_use.model.name}),
        endpoint_configs=(
            RemoteConfig(in_use.endpoint_config.name, in_use.model.name, EPOCH),
            RemoteConfig(state.endpoint_config.name, state.model.name, EPOCH + hours(5)),
        ),
        endpoint=RemoteEndpoint("pose-dev", in_use.endpoint_config.name, "InService"),
    )

    actions = plan(replace(state, keep_previous=0), remote)

    assert [a for a in changes(actions) if a[0] == "delete"] == []


def test_a_model_shared_by_a_kept_config_survives_clean_up():
    state = desired({"endpoint": {"instance_count": 3}})
    old = [desired({"endpoint": {"instance_count": count}}) for count in (1, 2)]
    remote = RemoteState(
        models=frozenset({state.model.name}),
        endpoint_configs=tuple(
            RemoteConfig(s.endpoint_config.name, s.model.name, EPOCH + hours(i)) for i, s in enumerate(old)
        ),
        endpoint=RemoteEndpoint("pose-dev", old[1].endpoint_config.name, "InService"),
    )

    actions = plan(replace(state, keep_previous=0), remote)

    assert ("delete", "endpoint-config", old[0].endpoint_config.name) in changes(actions)
    assert "model" not in {kind for verb, kind, _ in changes(actions) if verb == "delete"}


def test_an_orphan_model_of_ours_is_deleted():
    state = desired()
    orphan = desired(inference_image=image("7")).model.name
    remote = replace(deployed(state), models=frozenset({state.model.name, orphan}))

    assert changes(plan(state, remote)) == [("delete", "model", orphan)]


@pytest.mark.parametrize("keep_previous", [1, 2, 3])
def test_a_plan_right_after_a_deploy_has_no_changes(keep_previous: int):
    versions = [
        desired({"update": {"keep_previous": keep_previous}}, inference_image=image(d)) for d in "012345"
    ]
    remote = RemoteState()
    for hour, state in enumerate(versions):
        remote = applied(remote, plan(state, remote), EPOCH + hours(hour))

        assert changes(plan(state, remote)) == []
        assert remote.endpoint.config_name == state.endpoint_config.name
        assert len(remote.endpoint_configs) == min(hour + 1, keep_previous + 1)
        assert len(remote.models) == len(remote.endpoint_configs)


def test_with_keep_previous_0_the_replaced_config_goes_on_the_next_deploy_not_while_in_use():
    before = desired({"update": {"keep_previous": 0}})
    after = desired({"update": {"keep_previous": 0}}, inference_image=image("d"))
    remote = deployed(before)

    assert [a for a in changes(plan(after, remote)) if a[0] == "delete"] == []

    remote = applied(remote, plan(after, remote), EPOCH + hours(1))
    assert changes(plan(after, remote)) == [
        ("delete", "endpoint-config", before.endpoint_config.name),
        ("delete", "model", before.model.name),
    ]


def test_autoscaling_is_deregistered_before_an_update_and_registered_again_after():
    before = desired({"autoscaling": {"enabled": True}})
    after = desired({"autoscaling": {"enabled": True}}, inference_image=image("d"))

    assert changes(plan(after, deployed(before)))[-5:] == [
        ("create", "endpoint-config", after.endpoint_config.name),
        ("delete", "autoscaling", "endpoint/pose-dev/variant/AllTraffic"),
        ("update", "endpoint", "pose-dev"),
        ("create", "autoscaling", "endpoint/pose-dev/variant/AllTraffic"),
        ("create", "model-version", version_of(after)),
    ]


def test_autoscaling_changes_alone_do_not_touch_the_endpoint():
    before = desired({"autoscaling": {"enabled": True}})
    after = desired({"autoscaling": {"enabled": True, "max_instances": 5}})

    assert changes(plan(after, deployed(before))) == [
        ("update", "autoscaling", "endpoint/pose-dev/variant/AllTraffic")
    ]


def test_disabling_autoscaling_deregisters_it():
    before = desired({"autoscaling": {"enabled": True}})

    actions = plan(desired(), deployed(before))

    assert changes(actions) == [("delete", "autoscaling", "endpoint/pose-dev/variant/AllTraffic")]
    assert [a.target for a in actions if a.mutates] == [before.autoscaling]


def test_disabling_autoscaling_during_an_update_deregisters_it_once():
    before = desired({"autoscaling": {"enabled": True}})
    after = desired(inference_image=image("d"))

    kinds = [(verb, kind) for verb, kind, _ in changes(plan(after, deployed(before)))]

    assert kinds.count(("delete", "autoscaling")) == 1
    assert kinds.index(("delete", "autoscaling")) < kinds.index(("update", "endpoint"))
    assert ("create", "autoscaling") not in kinds


def test_disabling_monitoring_deletes_the_remote_schedule():
    before = desired()

    actions = plan(desired({"monitoring": {"enabled": False}}), deployed(before))

    assert changes(actions) == [
        ("delete", "alert", "pose-dev-monitor-violations"),
        ("delete", "monitoring-schedule", "pose-dev-monitor"),
        ("update", "dashboard", "pose-dev-monitor-us-east-1"),  # without the monitor's graphs
    ]
    deletion = next(action for action in actions if action.kind == "monitoring-schedule")
    assert (deletion.target, deletion.reason) == (before.schedule, "monitoring.enabled is false")


def test_a_monitoring_threshold_change_updates_the_schedule_and_the_latency_alert_only():
    before = desired()
    after = desired({"monitoring": {"threshold_seconds": 0.5}})

    actions = plan(after, deployed(before))

    assert changes(actions) == [
        ("update", "alert", "pose-dev-monitor-latency"),
        ("update", "monitoring-schedule", "pose-dev-monitor"),
    ]
    assert [action.reason for action in actions if action.mutates] == [
        "changed: description, threshold",
        "changed: environment",
    ]


def test_rollback_settings_update_the_alarms_not_the_endpoint():
    before = desired()
    after = desired({"update": {"rollback_on_latency_ms": 500, "strategy": "linear"}})

    assert changes(plan(after, deployed(before))) == [("update", "alarm", "pose-dev-model-latency")]


def test_a_new_bucket_rewrites_the_role_policy():
    before = desired()
    after = desired({"s3": {"bucket": "team-bucket"}})

    assert ("update", "role", "pose-dev-sagemaker-execution") in changes(plan(after, deployed(before)))


def test_destroy_removes_dependents_first():
    state = desired({"autoscaling": {"enabled": True}})
    remote = deployed(state)

    assert steps(plan_destroy(state.names, remote)) == [
        # What calls a thing goes before it: the page, the API, its Lambda, then SageMaker.
        ("delete", "web-distribution", "pose-dev-web"),
        ("delete", "web-oac", "pose-dev-web"),
        ("delete", "web-bucket", "pose-dev-123456789012-us-east-1-web"),
        ("delete", "http-api", "pose-dev-api"),
        ("delete", "function", "pose-dev-predict"),
        ("delete", "log-group", "/aws/lambda/pose-dev-predict"),
        ("delete", "role", "pose-dev-predict-lambda"),
        ("delete", "dashboard", "pose-dev-monitor-us-east-1"),
        ("delete", "monitoring-schedule", "pose-dev-monitor"),
        ("delete", "autoscaling", "endpoint/pose-dev/variant/AllTraffic"),
        ("delete", "endpoint", "pose-dev"),
        ("delete", "endpoint-config", state.endpoint_config.name),
        ("delete", "model", state.model.name),
        ("delete", "alert", "pose-dev-monitor-5xx"),
        ("delete", "alert", "pose-dev-monitor-latency"),
        ("delete", "alert", "pose-dev-monitor-violations"),
        ("delete", "alarm", "pose-dev-invocation-5xx"),
        ("delete", "alarm", "pose-dev-model-latency"),
        ("delete", "role", "pose-dev-sagemaker-execution"),
        ("delete", "bucket", "pose-dev-123456789012-us-east-1"),
    ]


def test_destroy_of_nothing_is_nothing():
    assert plan_destroy(desired().names, RemoteState()) == []


def test_actions_serialise_for_plan_json():
    action = plan(desired(), RemoteState())[0]

    assert action.to_json() == {
        "action": "create",
        "resource": "bucket",
        "name": "pose-dev-123456789012-us-east-1",
        "reason": "",
    }


def test_switching_to_an_existing_role_removes_the_engines_role_last():
    before = desired()
    after = desired({"iam": {"execution_role_arn": "arn:aws:iam::123456789012:role/theirs"}})

    actions = plan(after, deployed(before))

    assert actions[-1] == Action(
        "delete",
        "role",
        "pose-dev-sagemaker-execution",
        "iam.execution_role_arn names another role",
        before.role,
    )
    assert [a for a in actions if a.kind == "role" and a.mutates] == [actions[-1]]


def test_destroy_also_removes_a_monitor_now_schedule_a_crash_left_behind():
    state = desired()
    remote = replace(deployed(state), one_off_schedule="pose-dev-monitor-now")

    actions = plan_destroy(state.names, remote)

    schedules = [(a.name, a.reason) for a in actions if a.kind == "monitoring-schedule"]
    assert schedules == [("pose-dev-monitor-now", "left by monitor --now"), ("pose-dev-monitor", "")]
    endpoint = next(i for i, a in enumerate(actions) if a.kind == "endpoint")
    assert all(i < endpoint for i, a in enumerate(actions) if a.kind == "monitoring-schedule")
