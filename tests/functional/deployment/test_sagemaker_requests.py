"""SageMaker requests, spelled out in full: a wrong or missing parameter fails the Stubber."""

from __future__ import annotations

import pytest
from botocore.stub import ANY

from deployment.aws.sagemaker import SageMaker
from deployment.naming import Names
from deployment.resources.endpoint import RemoteEndpoint
from deployment.resources.endpoint_config import RemoteConfig
from tests.functional.deployment.contract import (
    BUCKET,
    CONFIG_ARN,
    ENDPOINT_ARN,
    JOB_DEFINITION,
    NOW,
    ROLE_ARN,
    SCHEDULE_ARN,
    TAGS,
    describe_schedule_response,
)
from tests.unit.deployment.builders import INFERENCE_IMAGE, desired


@pytest.fixture
def sagemaker(stubbed):
    client, stubber = stubbed("sagemaker")
    yield SageMaker(client), stubber
    stubber.assert_no_pending_responses()


def state(document: dict | None = None):
    return desired({"project": {"tags": {"owner": "ml-team"}}, **(document or {})})


def test_create_model_points_at_the_image_artifact_and_role(sagemaker):
    api, stubber = sagemaker
    target = state({"endpoint": {"environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"}}})
    stubber.add_response(
        "create_model",
        {"ModelArn": "arn:aws:sagemaker:us-east-1:123456789012:model/x"},
        {
            "ModelName": target.model.name,
            "PrimaryContainer": {
                "Image": INFERENCE_IMAGE,
                "ModelDataUrl": target.artifact.s3_uri,
                "Environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2"},
            },
            "ExecutionRoleArn": ROLE_ARN,
            "Tags": TAGS,
        },
    )

    api.create_model(target.model, target.tags)


def test_endpoint_config_captures_json_responses_as_text_below_a_prefix_without_trailing_slash(sagemaker):
    api, stubber = sagemaker
    target = state({"endpoint": {"instance_count": 2}, "data_capture": {"sampling_percent": 20}})
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": target.endpoint_config.name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": target.model.name,
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 1.0,
                }
            ],
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 20,
                "DestinationS3Uri": f"s3://{BUCKET}/pose-dev/data-capture",
                "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
            },
            "Tags": TAGS,
        },
    )

    api.create_endpoint_config(target.endpoint_config, target.tags)


def test_endpoint_config_can_capture_only_responses_with_a_kms_key(sagemaker):
    api, stubber = sagemaker
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    target = state({"data_capture": {"capture_input": False, "kms_key_id": key}})
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": target.endpoint_config.name,
            "ProductionVariants": ANY,
            "DataCaptureConfig": {
                "EnableCapture": True,
                "InitialSamplingPercentage": 100,
                "DestinationS3Uri": f"s3://{BUCKET}/pose-dev/data-capture",
                "CaptureOptions": [{"CaptureMode": "Output"}],
                "CaptureContentTypeHeader": {"JsonContentTypes": ["application/json"]},
                "KmsKeyId": key,
            },
            "Tags": TAGS,
        },
    )

    api.create_endpoint_config(target.endpoint_config, target.tags)


def test_serverless_endpoint_config_has_no_instances_and_no_capture(sagemaker):
    api, stubber = sagemaker
    target = state(
        {
            "endpoint": {"serverless": {"memory_mb": 3072, "max_concurrency": 10}},
            "data_capture": {"enabled": False},
            "monitoring": {"enabled": False},
        }
    )
    stubber.add_response(
        "create_endpoint_config",
        {"EndpointConfigArn": "arn:aws:sagemaker:us-east-1:123456789012:endpoint-config/x"},
        {
            "EndpointConfigName": target.endpoint_config.name,
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": target.model.name,
                    "ServerlessConfig": {"MemorySizeInMB": 3072, "MaxConcurrency": 10},
                }
            ],
            "Tags": TAGS,
        },
    )

    api.create_endpoint_config(target.endpoint_config, target.tags)


ALARMS = {"Alarms": [{"AlarmName": "pose-dev-invocation-5xx"}, {"AlarmName": "pose-dev-model-latency"}]}
STRATEGIES = {
    "all_at_once": (
        {"update": {"strategy": "all_at_once", "wait_seconds": 120}},
        {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 120},
    ),
    "canary": (
        {"update": {"strategy": "canary", "step_percent": 10, "wait_seconds": 600}},
        {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 600,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
    ),
    "linear": (
        {"update": {"strategy": "linear", "step_percent": 20, "wait_seconds": 60}},
        {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 60,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 20},
        },
    ),
}


@pytest.mark.parametrize(("document", "routing"), STRATEGIES.values(), ids=STRATEGIES.keys())
def test_update_endpoint_is_blue_green_with_auto_rollback_on_both_alarms(sagemaker, document, routing):
    api, stubber = sagemaker
    update = {**document["update"], "termination_wait_seconds": 900, "max_execution_timeout_seconds": 7200}
    target = state({"update": update})
    stubber.add_response(
        "update_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": "pose-dev",
            "EndpointConfigName": target.endpoint_config.name,
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": routing,
                    "TerminationWaitInSeconds": 900,
                    "MaximumExecutionTimeoutInSeconds": 7200,
                },
                "AutoRollbackConfiguration": ALARMS,
            },
        },
    )

    api.update_endpoint(target.endpoint)


def describe_endpoint_response(status: str = "InService", config: str = "pose-dev-config-0123abcd") -> dict:
    return {
        "EndpointName": "pose-dev",
        "EndpointArn": ENDPOINT_ARN,
        "EndpointConfigName": config,
        "EndpointStatus": status,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
    }


def test_describe_endpoint_reads_status_failure_and_the_schedule_tag(sagemaker):
    api, stubber = sagemaker
    response = {**describe_endpoint_response("Failed"), "FailureReason": "ping failed"}
    stubber.add_response("describe_endpoint", response, {"EndpointName": "pose-dev"})
    stubber.add_response(
        "list_tags",
        {"Tags": [{"Key": "pose:monitoring-schedule", "Value": "pose-dev-monitor"}]},
        {"ResourceArn": ENDPOINT_ARN},
    )

    assert api.describe_endpoint("pose-dev") == RemoteEndpoint(
        "pose-dev", "pose-dev-config-0123abcd", "Failed", "ping failed", ENDPOINT_ARN, "pose-dev-monitor"
    )


def test_a_missing_endpoint_is_none(sagemaker):
    api, stubber = sagemaker
    stubber.add_client_error(
        "describe_endpoint",
        "ValidationException",
        'Could not find endpoint "arn:aws:sagemaker:us-east-1:123456789012:endpoint/pose-dev".',
        expected_params={"EndpointName": "pose-dev"},
    )

    assert api.describe_endpoint("pose-dev") is None


def test_other_describe_errors_are_not_mistaken_for_absence(sagemaker):
    api, stubber = sagemaker
    stubber.add_client_error("describe_endpoint", "AccessDeniedException", "not allowed")

    with pytest.raises(Exception, match="not allowed"):
        api.describe_endpoint("pose-dev")


def test_only_this_deployments_configs_are_listed_with_their_models(sagemaker):
    api, stubber = sagemaker
    names = Names("pose-dev", "123456789012", "us-east-1")
    ours, theirs = "pose-dev-config-0123abcd", "pose-dev2-config-0123abcd"
    stubber.add_response(
        "list_endpoint_configs",
        {
            "EndpointConfigs": [
                {
                    "EndpointConfigName": theirs,
                    "EndpointConfigArn": f"{CONFIG_ARN}/{theirs}",
                    "CreationTime": NOW,
                },
                {
                    "EndpointConfigName": ours,
                    "EndpointConfigArn": f"{CONFIG_ARN}/{ours}",
                    "CreationTime": NOW,
                },
            ]
        },
        {"NameContains": "pose-dev"},
    )
    stubber.add_response(
        "describe_endpoint_config",
        {
            "EndpointConfigName": ours,
            "EndpointConfigArn": f"{CONFIG_ARN}/{ours}",
            "CreationTime": NOW,
            "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "pose-dev-model-89abcdef"}],
        },
        {"EndpointConfigName": ours},
    )

    assert api.endpoint_configs(names) == (RemoteConfig(ours, "pose-dev-model-89abcdef", NOW),)


def test_the_schedule_is_created_exactly_per_the_contract(sagemaker):
    api, stubber = sagemaker
    target = state()
    stubber.add_response(
        "create_monitoring_schedule",
        {"MonitoringScheduleArn": SCHEDULE_ARN},
        {
            "MonitoringScheduleName": "pose-dev-monitor",
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": JOB_DEFINITION,
            },
            "Tags": TAGS,
        },
    )

    api.create_schedule(target.schedule, target.tags)  # the endpoint's tag naming it: tags.py


def test_a_monitored_endpoint_is_created_with_the_tag_naming_its_schedule(sagemaker):
    api, stubber = sagemaker
    target = state()
    stubber.add_response(
        "create_endpoint",
        {"EndpointArn": ENDPOINT_ARN},
        {
            "EndpointName": "pose-dev",
            "EndpointConfigName": target.endpoint_config.name,
            "Tags": [*TAGS, {"Key": "pose:monitoring-schedule", "Value": "pose-dev-monitor"}],
        },
    )

    api.create_endpoint(target.endpoint, target.tags)


def test_a_one_off_run_is_a_now_schedule_over_the_last_hour(sagemaker):
    api, stubber = sagemaker
    schedule = state().schedule
    stubber.add_response(
        "create_monitoring_schedule",
        {"MonitoringScheduleArn": SCHEDULE_ARN},
        {
            "MonitoringScheduleName": "pose-dev-monitor",
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {
                    "ScheduleExpression": "NOW",
                    "DataAnalysisStartTime": "-PT1H",
                    "DataAnalysisEndTime": "-PT0H",
                },
                "MonitoringJobDefinition": JOB_DEFINITION,
            },
        },
    )

    api.create_one_off_schedule(schedule)


def test_a_deployed_schedule_reads_back_equal_to_the_desired_one(sagemaker):
    api, stubber = sagemaker
    target = state({"monitoring": {"p99_threshold_seconds": 3}})
    job = {**JOB_DEFINITION, "Environment": {"THRESHOLD": "1.0", "P99_THRESHOLD": "3.0"}}
    config = {"ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"}, "MonitoringJobDefinition": job}
    stubber.add_response(
        "describe_monitoring_schedule",
        describe_schedule_response(config),
        {"MonitoringScheduleName": "pose-dev-monitor"},
    )

    assert api.describe_schedule("pose-dev-monitor") == target.schedule


def test_a_missing_schedule_is_none(sagemaker):
    api, stubber = sagemaker
    stubber.add_client_error(
        "describe_monitoring_schedule",
        "ResourceNotFound",
        "Monitoring Schedule pose-dev-monitor does not exist",
        expected_params={"MonitoringScheduleName": "pose-dev-monitor"},
    )

    assert api.describe_schedule("pose-dev-monitor") is None


def test_a_schedule_change_is_an_in_place_update(sagemaker):
    api, stubber = sagemaker
    target = state({"monitoring": {"threshold_seconds": 0.25}})
    stubber.add_response(
        "update_monitoring_schedule",
        {"MonitoringScheduleArn": SCHEDULE_ARN},
        {
            "MonitoringScheduleName": "pose-dev-monitor",
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": {**JOB_DEFINITION, "Environment": {"THRESHOLD": "0.25"}},
            },
        },
    )

    api.update_schedule(target.schedule)


def test_deleting_the_schedule_removes_its_tag_from_the_endpoint(sagemaker):
    api, stubber = sagemaker
    stubber.add_response("delete_monitoring_schedule", {}, {"MonitoringScheduleName": "pose-dev-monitor"})
    stubber.add_response("describe_endpoint", describe_endpoint_response(), {"EndpointName": "pose-dev"})
    stubber.add_response(
        "list_tags",
        {"Tags": [{"Key": "pose:monitoring-schedule", "Value": "pose-dev-monitor"}]},
        {"ResourceArn": ENDPOINT_ARN},
    )
    stubber.add_response(
        "delete_tags", {}, {"ResourceArn": ENDPOINT_ARN, "TagKeys": ["pose:monitoring-schedule"]}
    )

    api.delete_schedule("pose-dev-monitor", endpoint_name="pose-dev")


def test_the_latest_execution_is_asked_for_newest_first(sagemaker):
    api, stubber = sagemaker
    summary = {
        "MonitoringScheduleName": "pose-dev-monitor",
        "ScheduledTime": NOW,
        "CreationTime": NOW,
        "LastModifiedTime": NOW,
        "MonitoringExecutionStatus": "Completed",
    }
    stubber.add_response(
        "list_monitoring_executions",
        {"MonitoringExecutionSummaries": [summary]},
        {
            "MonitoringScheduleName": "pose-dev-monitor",
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": 1,
        },
    )

    assert api.latest_execution("pose-dev-monitor") == summary
