"""Desired state: what config.yml and the build ask AWS to hold, named by content."""

from __future__ import annotations

from deployment.naming import PROJECT_TAG
from deployment.resources.endpoint import Deployment
from deployment.resources.endpoint_config import Capture
from tests.unit.deployment.builders import ARTIFACT_SHA, INFERENCE_IMAGE, MONITORING_IMAGE, REGISTRY, desired


def test_defaults_describe_the_whole_deployment():
    state = desired({"project": {"tags": {"owner": "ml-team"}}})

    bucket = "pose-dev-123456789012-us-east-1"
    assert state.tags == (("owner", "ml-team"), (PROJECT_TAG, "pose-dev"))
    assert (state.bucket.name, state.bucket.capture_prefix, state.bucket.retention_days) == (
        bucket,
        "pose-dev/data-capture/",
        30,
    )
    assert state.role_arn == "arn:aws:iam::123456789012:role/pose-dev-sagemaker-execution"
    assert state.artifact.s3_uri == f"s3://{bucket}/pose-dev/models/{ARTIFACT_SHA[:16]}/model.tar.gz"
    assert (state.model.image_uri, state.model.model_data_url) == (INFERENCE_IMAGE, state.artifact.s3_uri)
    assert state.endpoint_config.model_name == state.model.name
    assert state.endpoint.config_name == state.endpoint_config.name
    assert state.autoscaling is None


def test_capture_goes_to_a_prefix_without_a_trailing_slash():
    capture = desired().endpoint_config.capture

    # SageMaker appends "/{endpoint}/..."; a trailing slash would make "//" and break monitoring input.
    assert capture == Capture(
        destination_s3_uri="s3://pose-dev-123456789012-us-east-1/pose-dev/data-capture",
        sampling_percent=100,
        capture_input=True,
        capture_output=True,
        kms_key_id=None,
    )


def test_the_schedule_runs_the_monitoring_image_hourly_with_the_threshold_as_text():
    schedule = desired({"monitoring": {"p99_threshold_seconds": 2.5}}).schedule

    assert schedule.image_uri == MONITORING_IMAGE
    assert schedule.expression == "cron(0 * ? * * *)"
    assert schedule.environment == (("P99_THRESHOLD", "2.5"), ("THRESHOLD", "1.0"))
    assert schedule.output_s3_uri == "s3://pose-dev-123456789012-us-east-1/pose-dev/monitoring-reports"
    assert schedule.endpoint_name == "pose-dev"
    assert schedule.max_runtime_seconds <= 3600


def test_an_integer_threshold_still_reaches_the_container_as_a_float():
    assert dict(desired({"monitoring": {"threshold_seconds": 2}}).schedule.environment) == {
        "THRESHOLD": "2.0"
    }


def test_monitoring_and_capture_can_be_switched_off():
    state = desired({"monitoring": {"enabled": False}, "data_capture": {"enabled": False}})

    assert (state.schedule, state.endpoint_config.capture) == (None, None)


def test_rollback_alarms_watch_the_endpoint_latency_in_microseconds():
    state = desired({"update": {"rollback_on_5xx": 3, "rollback_on_latency_ms": 1500}})

    assert [(a.name, a.metric_name, a.statistic, a.threshold) for a in state.alarms] == [
        ("pose-dev-invocation-5xx", "Invocation5XXErrors", "Sum", 3),
        ("pose-dev-model-latency", "ModelLatency", "Average", 1_500_000),
    ]
    assert state.endpoint.deployment == Deployment(
        "all_at_once", 25, 300, 300, 3600, ("pose-dev-invocation-5xx", "pose-dev-model-latency")
    )


def test_same_inputs_give_the_same_names():
    assert desired().endpoint_config.name == desired().endpoint_config.name
    assert desired().model.name == desired().model.name


def test_an_endpoint_setting_changes_the_config_name_but_not_the_model():
    before, after = desired(), desired({"endpoint": {"instance_count": 2}})

    assert after.model.name == before.model.name
    assert after.endpoint_config.name != before.endpoint_config.name


def test_a_new_image_or_artifact_is_a_new_model_and_config():
    before = desired()
    new_image = desired(inference_image=f"{REGISTRY}/pose@sha256:" + "d" * 64)
    new_artifact = desired(artifact_sha="e" * 64)

    assert len({before.model.name, new_image.model.name, new_artifact.model.name}) == 3
    assert len({s.endpoint_config.name for s in (before, new_image, new_artifact)}) == 3


def test_update_and_alarm_settings_do_not_rename_anything_deployed():
    before = desired()
    after = desired({"update": {"strategy": "canary", "rollback_on_latency_ms": 500}})

    assert (after.model.name, after.endpoint_config.name) == (before.model.name, before.endpoint_config.name)
    assert after.endpoint == before.endpoint  # the deployment policy is not part of the comparison


def test_an_existing_role_is_used_instead_of_creating_one():
    arn = "arn:aws:iam::123456789012:role/team-sagemaker"
    state = desired({"iam": {"execution_role_arn": arn}})

    assert state.role is None
    assert state.role_arn == state.model.role_arn == state.schedule.role_arn == arn


def test_serverless_config_has_no_instances():
    config = desired(
        {
            "endpoint": {"serverless": {"memory_mb": 3072, "max_concurrency": 8}},
            "data_capture": {"enabled": False},
            "monitoring": {"enabled": False},
        }
    ).endpoint_config

    assert (config.instance_type, config.instance_count) == (None, None)
    assert (config.serverless_memory_mb, config.serverless_max_concurrency) == (3072, 8)


def test_autoscaling_targets_the_variant():
    scaling = desired({"autoscaling": {"enabled": True, "max_instances": 4}}).autoscaling

    assert scaling.resource_id == "endpoint/pose-dev/variant/AllTraffic"
    assert (scaling.min_instances, scaling.max_instances) == (1, 4)


def test_a_custom_bucket_keeps_the_user_tags_and_the_project_tag():
    # config.yml cannot set the project tag itself (test_config_rules.py: "tag overriding the engine's").
    state = desired({"s3": {"bucket": "team-bucket"}, "project": {"tags": {"team": "vision"}}})

    assert state.bucket.name == "team-bucket"
    assert dict(state.tags) == {"team": "vision", PROJECT_TAG: "pose-dev"}
