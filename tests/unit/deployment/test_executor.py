"""The executor with a fake clock and a scripted SageMaker: long waits, failures and rollbacks, no sleeping."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from deployment.errors import DeploymentError
from deployment.planner import plan
from deployment.remote import RemoteState
from deployment.resources.access_control import AccessControl
from deployment.resources.base import Action, Kind
from deployment.resources.dashboard import Dashboard
from deployment.resources.endpoint import RemoteEndpoint as Seen
from deployment.resources.endpoint import wait_for_endpoint
from deployment.resources.endpoint_config import RemoteConfig
from deployment.resources.registry import ModelGroup, ModelVersion
from tests.unit.deployment.builders import EPOCH, REGISTRY, deployed, desired, hours
from tests.unit.deployment.fakes import FakeAws, FakeClock, executor, run

ENDPOINT = desired().endpoint
OLD_CONFIG = "pose-dev-config-00000000"


def in_service(config_name: str = ENDPOINT.config_name) -> Seen:
    return Seen(ENDPOINT.name, config_name, "InService")


def test_a_twenty_minute_create_is_waited_for_with_progress_and_no_sleeping():
    clock = FakeClock()
    aws = FakeAws(clock, [(0, Seen(ENDPOINT.name, ENDPOINT.config_name, "Creating")), (1200, in_service())])
    lines: list[str] = []

    executor(aws, lines).run([Action("create", "endpoint", ENDPOINT.name, target=ENDPOINT)])

    assert clock.sleeps == [30.0] * 40
    assert lines[0] == "create    endpoint pose-dev"
    assert lines[1] == "  endpoint pose-dev: Creating (0s)"
    assert lines[21] == "  endpoint pose-dev: Creating (600s)"
    assert lines[-1] == "  endpoint pose-dev: InService (1200s)"
    assert aws.made() == [("sagemaker", "create_endpoint")]


def test_a_failed_create_reports_sagemakers_failure_reason():
    clock = FakeClock()
    reason = "The primary container for production variant AllTraffic did not pass the ping health check."
    failed = Seen(ENDPOINT.name, ENDPOINT.config_name, "Failed", failure_reason=reason)
    aws = FakeAws(clock, [(0, Seen(ENDPOINT.name, ENDPOINT.config_name, "Creating")), (300, failed)])

    with pytest.raises(DeploymentError) as raised:
        executor(aws, []).run([Action("create", "endpoint", ENDPOINT.name, target=ENDPOINT)])

    assert str(raised.value) == (
        f"pose-dev: the endpoint is Failed: {reason} "
        "(hint: see /aws/sagemaker/Endpoints/pose-dev in CloudWatch Logs)"
    )
    assert clock.time == 300


def test_an_endpoint_that_vanished_while_waiting_is_an_error():
    aws = FakeAws(FakeClock(), [(0, None)])

    with pytest.raises(DeploymentError, match="the endpoint is missing: no reason given"):
        wait_for_endpoint(run(aws, []), ENDPOINT)


def test_an_update_that_rolled_back_is_a_failure_and_nothing_after_it_runs():
    # The endpoint ran old versions; the new one is rolled back by its alarms after 10 minutes.
    versions = [desired(inference_image=f"{REGISTRY}/pose@sha256:" + d * 64) for d in "0123"]
    remote = deployed(versions[2])
    remote = replace(
        remote,
        models=frozenset(v.model.name for v in versions[:3]),
        endpoint_configs=tuple(
            RemoteConfig(v.endpoint_config.name, v.model.name, EPOCH + hours(i))
            for i, v in enumerate(versions[:3])
        ),
    )
    actions = plan(versions[3], remote)
    assert ("delete", "endpoint-config") in [(a.verb, a.kind) for a in actions]  # clean-up was planned
    old = versions[2].endpoint_config.name
    clock = FakeClock()
    aws = FakeAws(
        clock, [(0, Seen(ENDPOINT.name, old, "Updating")), (600, Seen(ENDPOINT.name, old, "InService"))]
    )

    with pytest.raises(DeploymentError) as raised:
        executor(aws, []).run(actions)

    assert raised.value.what == (
        f"the update was rolled back: the endpoint is InService on {old}, "
        f"not {versions[3].endpoint_config.name}"
    )
    assert "rollback alarms" in raised.value.hint
    assert aws.made()[-1] == ("sagemaker", "update_endpoint")  # no clean-up after the failure


def test_a_slow_linear_update_is_waited_for_as_long_as_its_deployment_may_take():
    # Four 25 % steps of an hour each: SageMaker may take up to max_execution_timeout_seconds.
    state = desired(
        {
            "update": {
                "strategy": "linear",
                "step_percent": 25,
                "wait_seconds": 3600,
                "termination_wait_seconds": 600,
                "max_execution_timeout_seconds": 18000,
            }
        }
    )
    clock = FakeClock()
    updating = Seen(ENDPOINT.name, OLD_CONFIG, "Updating")
    aws = FakeAws(clock, [(0, updating), (4 * 3600 + 600, in_service(state.endpoint.config_name))])

    executor(aws, []).run([Action("update", "endpoint", ENDPOINT.name, target=state.endpoint)])

    assert clock.time == 4 * 3600 + 600


def test_an_update_stuck_past_its_own_timeout_gives_up():
    state = desired({"update": {"max_execution_timeout_seconds": 600, "termination_wait_seconds": 0}})
    clock = FakeClock()
    aws = FakeAws(clock, [(0, Seen(ENDPOINT.name, OLD_CONFIG, "Updating"))])

    with pytest.raises(DeploymentError, match="gave up waiting after 3600s"):
        executor(aws, []).run([Action("update", "endpoint", ENDPOINT.name, target=state.endpoint)])


def test_an_aws_error_names_the_action_that_failed():
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "not allowed"}}, "CreateModel")
    aws = FakeAws(FakeClock(), model_errors=[error])
    model = desired().model

    with pytest.raises(DeploymentError) as raised:
        executor(aws, []).run([Action("create", "model", model.name, target=model)])

    assert str(raised.value) == f"model {model.name}: CreateModel failed (AccessDeniedException): not allowed"
    assert raised.value.__cause__ is error


def test_an_endpoint_stuck_creating_gives_up_at_the_timeout():
    clock = FakeClock()
    aws = FakeAws(clock, [(0, Seen(ENDPOINT.name, ENDPOINT.config_name, "Creating"))])

    with pytest.raises(DeploymentError, match=r"endpoint pose-dev: gave up waiting after 600s"):
        wait_for_endpoint(run(aws, [], poll_seconds=60, endpoint_timeout_seconds=600), ENDPOINT)

    assert clock.sleeps == [60.0] * 10


def test_a_failed_endpoint_is_deleted_and_waited_for_before_it_is_created_again():
    clock = FakeClock()
    aws = FakeAws(
        clock,
        [(0, Seen(ENDPOINT.name, OLD_CONFIG, "Deleting")), (90, None)],
        on_create=[(0, Seen(ENDPOINT.name, ENDPOINT.config_name, "Creating")), (300, in_service())],
    )
    lines: list[str] = []
    actions = [
        Action("delete", "endpoint", ENDPOINT.name, "it is Failed"),
        Action("create", "endpoint", ENDPOINT.name, target=ENDPOINT),
    ]

    executor(aws, lines).run(actions)

    assert aws.made() == [("sagemaker", "delete_endpoint"), ("sagemaker", "create_endpoint")]
    assert lines[:5] == [
        "delete    endpoint pose-dev",
        "  endpoint pose-dev: Deleting (0s)",
        "  endpoint pose-dev: Deleting (30s)",
        "  endpoint pose-dev: Deleting (60s)",
        "create    endpoint pose-dev",
    ]
    assert clock.time == 90 + 300


def test_deleting_a_schedule_waits_until_it_is_gone():
    clock = FakeClock()
    aws = FakeAws(clock, schedule_timeline=[(0, "Scheduled"), (60, "Deleting"), (120, None)])
    schedule = desired().schedule

    executor(aws, []).run([Action("delete", "monitoring-schedule", schedule.name, target=schedule)])

    assert aws.calls[0] == ("sagemaker", "delete_schedule", (schedule.name,))
    assert clock.time == 120


def assume_role_error() -> ClientError:
    message = "Could not assume role arn:aws:iam::123456789012:role/pose-dev-sagemaker-execution."
    return ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "CreateModel")


def test_a_new_role_not_yet_assumable_is_retried():
    clock = FakeClock()
    aws = FakeAws(clock, model_errors=[assume_role_error(), assume_role_error()])
    model = desired().model

    executor(aws, []).run([Action("create", "model", model.name, target=model)])

    assert clock.sleeps == [5, 5]
    assert aws.made() == [("sagemaker", "create_model")] * 3


def test_role_retries_give_up_after_the_configured_attempts():
    aws = FakeAws(FakeClock(), model_errors=[assume_role_error() for _ in range(3)])
    model = desired().model

    with pytest.raises(
        DeploymentError, match=r"CreateModel failed \(ValidationException\): Could not assume role"
    ):
        executor(aws, [], role_propagation_attempts=3).run(
            [Action("create", "model", model.name, target=model)]
        )


def test_other_model_errors_are_not_retried():
    other = ClientError(
        {"Error": {"Code": "ValidationException", "Message": "Image not found"}}, "CreateModel"
    )
    aws = FakeAws(FakeClock(), model_errors=[other])
    model = desired().model

    with pytest.raises(DeploymentError, match="Image not found"):
        executor(aws, []).run([Action("create", "model", model.name, target=model)])

    assert aws.clock.sleeps == []


def test_only_changes_are_executed_each_reported_and_created_with_the_project_tags():
    state = desired()
    aws = FakeAws(FakeClock(), [(0, in_service())])
    lines: list[str] = []

    executor(aws, lines).run(plan(state, RemoteState(bucket=state.bucket, bucket_is_ours=True)))

    web = "s3://pose-dev-123456789012-us-east-1-web"
    assert aws.made() == [
        ("identity", "create_role"),
        ("identity", "create_role"),
        ("storage", "upload_artifact"),
        ("sagemaker", "create_model"),
        ("sagemaker", "create_endpoint_config"),
        ("alarms", "put"),
        ("alarms", "put"),
        *[("alarms", "put_alert")] * 3,
        ("sagemaker", "create_endpoint"),
        ("sagemaker", "create_schedule"),
        ("dashboards", "put"),
        ("sagemaker", "create_model_group"),
        ("sagemaker", "create_model_version"),
        ("website", "create_bucket"),
        ("cdn", "create_access_control"),
        ("cdn", "create"),
        ("website", "put_policy"),
        ("functions", "create_log_group"),
        ("functions", "create"),
        ("http_api", "create"),
        ("functions", "add_permission"),
        *[("website", "put_file")] * len(state.web.files),
        ("website", "put_page"),
    ]
    assert [line for line in lines if not line.startswith(" ")] == [
        "create    role pose-dev-sagemaker-execution",
        "create    role pose-dev-predict-lambda",
        f"create    artifact {state.artifact.s3_uri}",
        f"create    model {state.model.name}",
        f"create    endpoint-config {state.endpoint_config.name}",
        "create    alarm pose-dev-invocation-5xx",
        "create    alarm pose-dev-model-latency",
        "create    alert pose-dev-monitor-5xx",
        "create    alert pose-dev-monitor-latency",
        "create    alert pose-dev-monitor-violations",
        "create    endpoint pose-dev",
        "create    monitoring-schedule pose-dev-monitor",
        "create    dashboard pose-dev-monitor-us-east-1",
        "create    model-group pose",
        f"create    model-version {state.standalone[Kind.MODEL_VERSION][0].identity}",
        "create    web-bucket pose-dev-123456789012-us-east-1-web",
        "create    web-oac pose-dev-web",
        "create    web-distribution pose-dev-web",
        "create    web-bucket-policy pose-dev-123456789012-us-east-1-web",
        "create    log-group /aws/lambda/pose-dev-predict",
        "create    function pose-dev-predict",
        "create    http-api pose-dev-api",
        "create    lambda-permission pose-dev-predict invoke-from-http-api",
        *(f"create    web-file {web}/{file.key}" for file in state.web.files),
        f"create    web-page {web}/index.html",
    ]
    made = ("put", "put_alert")
    creations = [args for _, method, args in aws.calls if method.startswith("create") or method in made]
    # CloudFront's origin access controls and CloudWatch's dashboards cannot be tagged; the model
    # registry is the project's, not this stage's.
    untagged = AccessControl | Dashboard | ModelGroup | ModelVersion
    creations = [args for args in creations if not isinstance(args[0], untagged)]
    assert len(creations) == 16
    assert {args[-1] for args in creations} == {(("pose:deployment", "pose-dev"),)}


def test_an_action_the_executor_cannot_do_is_an_error():
    with pytest.raises(DeploymentError, match="pose-dev: no way to update a model"):
        executor(FakeAws(FakeClock()), []).run([Action("update", "model", "pose-dev")])


def test_a_rolled_back_update_gets_its_autoscaling_back():
    # Autoscaling is deregistered for the update; the update rolls back; the old fleet must scale again.
    before = desired({"autoscaling": {"enabled": True}})
    after = desired({"autoscaling": {"enabled": True}}, inference_image=f"{REGISTRY}/pose@sha256:" + "9" * 64)
    actions = plan(after, deployed(before))
    old = before.endpoint_config.name
    aws = FakeAws(FakeClock(), [(0, Seen(ENDPOINT.name, old, "InService"))])

    with pytest.raises(DeploymentError, match="rolled back"):
        executor(aws, []).run(actions)

    scaling_calls = [call for call in aws.made() if call[0] == "scaling"]
    assert scaling_calls == [("scaling", "delete"), ("scaling", "put")]
