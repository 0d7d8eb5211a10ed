"""`deploy`, `plan` and `destroy` through the CLI, with real boto3 calls against moto."""

from __future__ import annotations

import json

import pytest
from moto.sagemaker.models import sagemaker_backends

from deployment.naming import PROJECT_TAG
from deployment.website import static_files
from tests.functional.deployment.contract import JOB_DEFINITION
from tests.moto.deployment.conftest import ACCOUNT, REGION
from tests.moto.deployment.inventory import of_deployment, tagged_resources
from tests.unit.deployment.github_files import read_github_output

NO_MONITORING = ("--set", "monitoring.enabled=false")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"
WEB_BUCKET = f"{BUCKET}-web"
TAGS = {"owner": "ml-team", PROJECT_TAG: "pose-dev"}
STATIC_FILES = static_files()


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def test_a_first_deploy_creates_everything_in_dependency_order(run, account, console):
    result = run("deploy")

    assert result.code == 0, result.err
    assert mutating(account.calls) == [
        ("s3", "CreateBucket"),
        ("s3", "PutBucketTagging"),  # first: the mark that the bucket is this deployment's
        ("s3", "PutPublicAccessBlock"),
        ("s3", "PutBucketEncryption"),
        ("s3", "PutBucketPolicy"),  # TLS only
        ("s3", "PutBucketLifecycleConfiguration"),
        ("iam", "CreateRole"),  # with the permissions boundary; set again before each policy
        ("iam", "PutRolePermissionsBoundary"),
        ("iam", "PutRolePolicy"),
        ("iam", "CreateRole"),  # the Lambda's, early: IAM propagates while the endpoint is created
        ("iam", "PutRolePermissionsBoundary"),
        ("iam", "PutRolePolicy"),
        ("s3", "PutObject"),
        ("sagemaker", "CreateModel"),
        ("sagemaker", "CreateEndpointConfig"),
        ("cloudwatch", "PutMetricAlarm"),
        ("cloudwatch", "PutMetricAlarm"),
        *[("cloudwatch", "PutMetricAlarm")] * 3,  # the alerts: 5XX, latency, the monitor's violations
        ("sagemaker", "CreateEndpoint"),
        ("sagemaker", "CreateMonitoringSchedule"),  # the endpoint was created with a tag naming it
        ("cloudwatch", "PutDashboard"),
        ("sagemaker", "CreateModelPackageGroup"),  # the project's registry, and the model it now runs
        ("sagemaker", "CreateModelPackage"),
        ("s3", "CreateBucket"),  # the page's: private, read by CloudFront only
        ("s3", "PutBucketTagging"),
        ("s3", "PutPublicAccessBlock"),
        ("s3", "PutBucketEncryption"),
        ("cloudfront", "CreateOriginAccessControl"),
        ("cloudfront", "CreateDistributionWithTags"),  # before the API, whose CORS names its origin
        ("s3", "PutBucketPolicy"),
        ("cloudwatch-logs", "CreateLogGroup"),
        ("cloudwatch-logs", "PutRetentionPolicy"),
        ("lambda", "CreateFunction"),
        ("apigatewayv2", "CreateApi"),
        ("apigatewayv2", "CreateIntegration"),
        ("apigatewayv2", "CreateRoute"),
        ("apigatewayv2", "CreateStage"),
        ("lambda", "AddPermission"),
        *[("s3", "PutObject")] * len(STATIC_FILES),
        ("s3", "PutObject"),  # index.html, last: it names the assets
    ]
    api_id = console.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    (distribution,) = console.client("cloudfront").list_distributions()["DistributionList"]["Items"]
    assert result.out.splitlines()[-8:] == [
        "endpoint_name=pose-dev",
        f"region={REGION}",
        f"capture_s3_uri=s3://{BUCKET}/pose-dev/data-capture/pose-dev",
        "monitoring_schedule=pose-dev-monitor",
        f"reports_s3_uri=s3://{BUCKET}/pose-dev/monitoring-reports",
        f"api_url=https://{api_id}.execute-api.{REGION}.amazonaws.com/predict",
        f"web_url=https://{distribution['DomainName']}/",
        f"dashboard_url=https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        "#dashboards/dashboard/pose-dev-monitor-us-east-1",
    ]


def test_every_created_resource_carries_the_project_tags(run, account, console):
    assert run("deploy").code == 0

    inventory = tagged_resources(console)

    assert {kind for kind, _ in inventory} == {
        "bucket",
        "role",
        "model",
        "endpoint-config",
        "endpoint",
        "alarm",
        "function",
        "http-api",
        "log-group",
        "distribution",
    }
    assert len(inventory) == 16  # two buckets, two roles, two rollback alarms and three alerts
    for (kind, name), tags in inventory.items():
        extra = {"pose:monitoring-schedule": "pose-dev-monitor"} if kind == "endpoint" else {}
        assert tags == {**TAGS, **extra}, (kind, name)
    assert account.schedules["pose-dev-monitor"]["tags"] == [
        {"Key": key, "Value": value} for key, value in sorted(TAGS.items())
    ]


def test_the_bucket_is_encrypted_private_and_expires_captured_requests(run, console):
    assert run("deploy", *NO_MONITORING, "--set", "data_capture.retention_days=14").code == 0
    s3 = console.client("s3")

    encryption = s3.get_bucket_encryption(Bucket=BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    private = s3.get_public_access_block(Bucket=BUCKET)["PublicAccessBlockConfiguration"]
    rules = s3.get_bucket_lifecycle_configuration(Bucket=BUCKET)["Rules"]

    assert encryption[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert private == dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert [(r["Filter"]["Prefix"], r["Status"], r["Expiration"]["Days"]) for r in rules] == [
        ("pose-dev/data-capture/", "Enabled", 14)
    ]


def test_the_endpoint_config_captures_json_responses_below_a_prefix_without_trailing_slash(run, console):
    assert run("deploy", *NO_MONITORING).code == 0
    sagemaker = console.client("sagemaker")
    config_name = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointConfigName"]

    capture = sagemaker.describe_endpoint_config(EndpointConfigName=config_name)["DataCaptureConfig"]

    assert capture["DestinationS3Uri"] == f"s3://{BUCKET}/pose-dev/data-capture"
    assert capture["CaptureContentTypeHeader"] == {"JsonContentTypes": ["application/json"]}
    assert capture["CaptureOptions"] == [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}]
    assert (capture["EnableCapture"], capture["InitialSamplingPercentage"]) == (True, 100)


def test_the_artifact_is_uploaded_once_under_its_hash(run, model_artifact, console):
    assert run("deploy", *NO_MONITORING).code == 0
    s3 = console.client("s3")

    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="pose-dev/models/")["Contents"]]

    assert len(keys) == 1 and keys[0].endswith("/model.tar.gz")
    assert s3.get_object(Bucket=BUCKET, Key=keys[0])["Body"].read() == model_artifact.read_bytes()


def test_the_monitoring_schedule_is_created_exactly_per_the_contract(run, account, console):
    assert run("deploy").code == 0

    assert account.requests("CreateMonitoringSchedule") == [
        {
            "MonitoringScheduleName": "pose-dev-monitor",
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {"ScheduleExpression": "cron(0 * ? * * *)"},
                "MonitoringJobDefinition": JOB_DEFINITION,
            },
            "Tags": [{"Key": "owner", "Value": "ml-team"}, {"Key": PROJECT_TAG, "Value": "pose-dev"}],
        }
    ]
    # The job runs as the role the engine created, and reads the capture of the endpoint it created.
    role = console.client("iam").get_role(RoleName="pose-dev-sagemaker-execution")["Role"]
    endpoint = console.client("sagemaker").describe_endpoint(EndpointName="pose-dev")
    assert JOB_DEFINITION["RoleArn"] == role["Arn"]
    assert JOB_DEFINITION["MonitoringInputs"][0]["EndpointInput"]["EndpointName"] == endpoint["EndpointName"]


def test_a_second_deploy_with_the_same_inputs_makes_no_mutating_call(run, account):
    assert run("deploy", "--set", "autoscaling.enabled=true").code == 0
    mark = account.mark()

    result = run("deploy", "--set", "autoscaling.enabled=true")

    assert result.code == 0, result.err
    second = account.since(mark)
    assert mutating(second) == []
    assert {call.operation for call in second} >= {
        "HeadBucket",
        "DescribeEndpoint",
        "DescribeMonitoringSchedule",
    }
    assert "plan: no changes" in result.out


def test_plan_shows_no_changes_after_a_deploy_and_publishes_it_for_ci(run, account, tmp_path, monkeypatch):
    assert run("deploy").code == 0
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    mark = account.mark()

    result = run("plan")

    assert result.code == 0 and result.out.splitlines()[-1] == "plan: no changes"
    assert mutating(account.since(mark)) == []
    assert read_github_output(outputs.read_text())["plan_changes"] == "0"


def test_plan_as_json_lists_every_resource_and_what_would_happen_to_it(run):
    assert run("deploy", *NO_MONITORING).code == 0

    result = run("plan", *NO_MONITORING, "--json", "--set", "data_capture.retention_days=7")

    plan = json.loads(result.out)
    assert [(step["action"], step["resource"]) for step in plan] == [
        ("update", "bucket-lifecycle"),
        ("unchanged", "role"),
        ("unchanged", "role"),
        ("unchanged", "artifact"),
        ("unchanged", "model"),
        ("unchanged", "endpoint-config"),
        ("unchanged", "alarm"),
        ("unchanged", "alarm"),
        ("unchanged", "alert"),  # 5XX, latency (no monitor: no violations alert)
        ("unchanged", "alert"),
        ("unchanged", "endpoint"),
        ("unchanged", "dashboard"),
        ("unchanged", "model-group"),
        ("unchanged", "model-version"),
        ("unchanged", "web-bucket"),
        ("unchanged", "web-oac"),
        ("unchanged", "web-distribution"),
        ("unchanged", "web-distribution-tags"),
        ("unchanged", "web-bucket-policy"),
        ("unchanged", "log-group"),
        ("unchanged", "function"),
        ("unchanged", "http-api"),
        ("unchanged", "api-integration"),
        ("unchanged", "api-route"),
        ("unchanged", "api-stage"),
        ("unchanged", "lambda-permission"),
        *[("unchanged", "web-file")] * len(STATIC_FILES),
        ("unchanged", "web-page"),
    ]
    assert plan[0] == {
        "action": "update",
        "resource": "bucket-lifecycle",
        "name": BUCKET,
        "reason": "capture expiry",
    }


ALARMS = [{"AlarmName": "pose-dev-invocation-5xx"}, {"AlarmName": "pose-dev-model-latency"}]
STRATEGIES = {
    "all_at_once": (
        ["update.strategy=all_at_once", "update.wait_seconds=0"],
        {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
    ),
    "canary": (
        ["update.strategy=canary", "update.step_percent=10", "update.wait_seconds=600"],
        {
            "Type": "CANARY",
            "WaitIntervalInSeconds": 600,
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": 10},
        },
    ),
    "linear": (
        ["update.strategy=linear", "update.step_percent=25", "update.wait_seconds=120"],
        {
            "Type": "LINEAR",
            "WaitIntervalInSeconds": 120,
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
        },
    ),
}


@pytest.mark.parametrize(("settings", "routing"), STRATEGIES.values(), ids=STRATEGIES.keys())
def test_a_config_change_updates_the_endpoint_blue_green_with_the_engines_alarms(
    run, account, settings, routing, console
):
    assert run("deploy", *NO_MONITORING).code == 0
    sets = [arg for setting in settings for arg in ("--set", setting)]
    sets += [
        "--set",
        "update.termination_wait_seconds=600",
        "--set",
        "update.max_execution_timeout_seconds=5400",
    ]
    mark = account.mark()

    result = run("deploy", *NO_MONITORING, "--set", "endpoint.instance_count=2", *sets)

    assert result.code == 0, result.err
    assert mutating(account.since(mark)) == [
        ("sagemaker", "CreateEndpointConfig"),
        ("sagemaker", "UpdateEndpoint"),
    ]
    new_config = account.requests("CreateEndpointConfig")[-1]["EndpointConfigName"]
    assert account.requests("UpdateEndpoint") == [
        {
            "EndpointName": "pose-dev",
            "EndpointConfigName": new_config,
            "DeploymentConfig": {
                "BlueGreenUpdatePolicy": {
                    "TrafficRoutingConfiguration": routing,
                    "TerminationWaitInSeconds": 600,
                    "MaximumExecutionTimeoutInSeconds": 5400,
                },
                "AutoRollbackConfiguration": {"Alarms": ALARMS},
            },
        }
    ]
    # The alarms named for rollback are the ones the engine created on this endpoint.
    alarms = console.client("cloudwatch").describe_alarms(AlarmNames=[a["AlarmName"] for a in ALARMS])
    assert [
        (a["MetricName"], {d["Name"]: d["Value"] for d in a["Dimensions"]}["EndpointName"])
        for a in alarms["MetricAlarms"]
    ] == [("Invocation5XXErrors", "pose-dev"), ("ModelLatency", "pose-dev")]


def test_an_update_that_rolled_back_exits_1_and_keeps_the_old_config(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    sagemaker = console.client("sagemaker")
    old = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointConfigName"]
    account.updates_succeed = False

    result = run("deploy", *NO_MONITORING, "--set", "endpoint.instance_count=2")

    new = account.requests("UpdateEndpoint")[-1]["EndpointConfigName"]
    assert result.code == 1
    assert result.err == (
        f"error: pose-dev: the update was rolled back: the endpoint is InService on {old}, not {new} "
        "(hint: check the rollback alarms and the new model's CloudWatch logs)\n"
    )
    configs = {c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]}
    assert configs == {old, new}
    # Deploying again retries the update; nothing is cleaned up while the endpoint is on the old config.
    assert (
        "~ update    endpoint             pose-dev"
        in run("plan", *NO_MONITORING, "--set", "endpoint.instance_count=2").out
    )


def test_new_models_replace_old_ones_beyond_keep_previous(run, account, console):
    images = [f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/pose@sha256:" + digit * 64 for digit in "1234"]
    for image in images:
        result = run("deploy", *NO_MONITORING, "--set", "update.keep_previous=1", "--inference-image", image)
        assert result.code == 0, result.err
    sagemaker = console.client("sagemaker")

    configs = [c["EndpointConfigName"] for c in sagemaker.list_endpoint_configs()["EndpointConfigs"]]
    image_of = {
        variant["ModelName"]: sagemaker.describe_model(ModelName=variant["ModelName"])["PrimaryContainer"][
            "Image"
        ]
        for config in configs
        for variant in sagemaker.describe_endpoint_config(EndpointConfigName=config)["ProductionVariants"]
    }

    # The endpoint runs the newest image; one previous version is kept for rollback, nothing else.
    in_use = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointConfigName"]
    in_use_model = sagemaker.describe_endpoint_config(EndpointConfigName=in_use)["ProductionVariants"][0]
    assert image_of[in_use_model["ModelName"]] == images[-1]
    assert sorted(image_of.values()) == images[-2:]
    assert {m["ModelName"] for m in sagemaker.list_models()["Models"]} == set(image_of)


def test_autoscaling_is_deregistered_around_an_update(run, account):
    assert run("deploy", *NO_MONITORING, "--set", "autoscaling.enabled=true").code == 0
    mark = account.mark()

    assert (
        run(
            "deploy",
            *NO_MONITORING,
            "--set",
            "autoscaling.enabled=true",
            "--set",
            "endpoint.instance_count=2",
        ).code
        == 0
    )

    assert mutating(account.since(mark)) == [
        ("sagemaker", "CreateEndpointConfig"),
        ("application-auto-scaling", "DeregisterScalableTarget"),
        ("sagemaker", "UpdateEndpoint"),
        ("application-auto-scaling", "RegisterScalableTarget"),
        ("application-auto-scaling", "PutScalingPolicy"),
    ]


def test_engine_roles_carry_the_boundary_and_scalable_targets_the_deployment_tag(run, account, console):
    """What the deploy role's policy requires of every request (deployment/deploy_policy.py)."""
    assert run("deploy", *NO_MONITORING, "--set", "autoscaling.enabled=true").code == 0

    iam = console.client("iam")
    for role in ("pose-dev-sagemaker-execution", "pose-dev-predict-lambda"):
        boundary = iam.get_role(RoleName=role)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
        assert boundary == f"arn:aws:iam::{ACCOUNT}:policy/pose-role-boundary"
    (registered,) = account.requests("RegisterScalableTarget")
    assert registered["Tags"][PROJECT_TAG] == "pose-dev"


def test_a_failed_endpoint_is_recreated(run, account):
    assert run("deploy", *NO_MONITORING).code == 0
    endpoint = sagemaker_backends[ACCOUNT][REGION].endpoints["pose-dev"]
    endpoint.endpoint_status, endpoint.failure_reason = "Failed", "ping health check failed"
    mark = account.mark()

    result = run("deploy", *NO_MONITORING)

    assert result.code == 0, result.err
    assert mutating(account.since(mark)) == [("sagemaker", "DeleteEndpoint"), ("sagemaker", "CreateEndpoint")]
    assert "it is Failed (ping health check failed); recreate it" in result.out


def test_disabling_monitoring_deletes_the_schedule_and_its_tag_on_the_endpoint(run, account, console):
    assert run("deploy").code == 0
    mark = account.mark()

    assert run("deploy", *NO_MONITORING).code == 0

    assert mutating(account.since(mark)) == [
        ("cloudwatch", "DeleteAlarms"),  # the alert on the monitor's violations
        ("sagemaker", "DeleteMonitoringSchedule"),
        ("sagemaker", "DeleteTags"),
        ("cloudwatch", "PutDashboard"),  # without the monitor's graphs
    ]
    assert account.schedules == {}
    sagemaker = console.client("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName="pose-dev")["EndpointArn"]
    assert {t["Key"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]} == set(TAGS)


def test_a_monitoring_change_updates_the_schedule_in_place(run, account):
    assert run("deploy").code == 0
    mark = account.mark()

    assert run("deploy", "--set", "monitoring.threshold_seconds=0.5").code == 0

    assert mutating(account.since(mark)) == [
        ("cloudwatch", "PutMetricAlarm"),  # the latency alert follows the threshold
        ("sagemaker", "UpdateMonitoringSchedule"),
    ]
    job = account.schedules["pose-dev-monitor"]["config"]["MonitoringJobDefinition"]
    assert job["Environment"] == {"THRESHOLD": "0.5"}


def test_destroy_leaves_nothing_tagged_and_spares_another_deployment(run, account, console):
    assert run("deploy").code == 0
    # "pose-dev2" starts with "pose-dev": listing by name prefix alone would take its resources too.
    assert run("deploy", "--set", "project.stage=dev2").code == 0
    before = tagged_resources(console)
    assert len(of_deployment(before, "pose-dev")) == len(of_deployment(before, "pose-dev2")) == 16

    result = run("destroy")

    assert result.code == 0, result.err
    after = tagged_resources(console)
    assert of_deployment(after, "pose-dev") == set()
    assert after == {key: tags for key, tags in before.items() if tags[PROJECT_TAG] == "pose-dev2"}
    assert set(account.schedules) == {"pose-dev2-monitor"}
    assert sorted(b["Name"] for b in console.client("s3").list_buckets()["Buckets"]) == [
        f"pose-dev2-{ACCOUNT}-{REGION}",
        f"pose-dev2-{ACCOUNT}-{REGION}-web",
    ]
    # The 13 tagged ones, the monitoring schedule and the page's origin access control (untaggable)
    assert result.out.splitlines()[-1] == "destroyed pose-dev: 19 resources removed"


def test_destroy_finds_a_schedule_after_monitoring_was_disabled_in_config(run, account, console):
    assert run("deploy").code == 0

    assert run("destroy", *NO_MONITORING).code == 0

    assert account.schedules == {}
    assert tagged_resources(console) == {}


def test_destroy_twice_is_harmless(run):
    assert run("deploy", *NO_MONITORING).code == 0
    assert run("destroy", *NO_MONITORING).code == 0

    result = run("destroy", *NO_MONITORING)

    assert (result.code, result.out.splitlines()[-1]) == (0, "destroyed pose-dev: 0 resources removed")


def test_destroy_empties_only_our_folder_of_a_shared_bucket(run, console):
    s3 = console.client("s3")
    s3.create_bucket(Bucket="team-bucket")
    s3.put_object(Bucket="team-bucket", Key="someone-else/keep.txt", Body=b"keep")
    assert run("deploy", *NO_MONITORING, "--set", "s3.bucket=team-bucket").code == 0

    assert run("destroy", *NO_MONITORING, "--set", "s3.bucket=team-bucket").code == 0

    assert [o["Key"] for o in s3.list_objects_v2(Bucket="team-bucket")["Contents"]] == [
        "someone-else/keep.txt"
    ]


def test_an_aws_error_mid_deploy_is_one_error_line_and_exit_1(run, account):
    account.failures["CreateEndpoint"] = (
        "ResourceLimitExceeded",
        "The account-level service limit 'ml.m5.large for endpoint usage' is 0 Instances",
    )

    result = run("deploy", *NO_MONITORING)

    assert result.code == 1
    assert result.err == (
        "error: endpoint pose-dev: CreateEndpoint failed (ResourceLimitExceeded): The account-level service "
        "limit 'ml.m5.large for endpoint usage' is 0 Instances\n"
    )


def test_a_shared_bucket_keeps_its_other_lifecycle_rules(run, console):
    s3 = console.client("s3")
    s3.create_bucket(Bucket="team-bucket")
    team_rule = {
        "ID": "team-logs",
        "Filter": {"Prefix": "logs/"},
        "Status": "Enabled",
        "Expiration": {"Days": 3},
    }
    s3.put_bucket_lifecycle_configuration(Bucket="team-bucket", LifecycleConfiguration={"Rules": [team_rule]})

    assert run("deploy", *NO_MONITORING, "--set", "s3.bucket=team-bucket").code == 0
    assert (
        run(
            "deploy",
            *NO_MONITORING,
            "--set",
            "s3.bucket=team-bucket",
            "--set",
            "data_capture.retention_days=5",
        ).code
        == 0
    )

    rules = {
        rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket="team-bucket")["Rules"]
    }
    assert rules["team-logs"]["Expiration"] == {"Days": 3}
    assert rules["expire-captures pose-dev/data-capture/"]["Filter"] == {"Prefix": "pose-dev/data-capture/"}
    assert rules["expire-captures pose-dev/data-capture/"]["Expiration"] == {"Days": 5}


def test_deploy_does_exactly_what_plan_showed(run):
    planned = run("plan", "--set", "autoscaling.enabled=true").out.splitlines()

    deployed = run("deploy", "--set", "autoscaling.enabled=true").out.splitlines()

    # 3 alerts, a dashboard, the registry's group and version
    summary = planned.index(f"plan: {26 + len(STATIC_FILES)} change(s), 0 unchanged")
    assert deployed[: summary + 1] == planned
    executed = [
        line.split(maxsplit=2)
        for line in deployed[summary + 1 :]
        if not line.startswith(" ") and "=" not in line
    ]
    # "+ create    kind    name  (reason)": names may hold spaces (a Lambda permission's does)
    shown = [
        [*line.split(maxsplit=3)[1:3], line.split(maxsplit=3)[3].split("  (")[0]]
        for line in planned[:summary]
        if not line.startswith(("estimated cost: ", " "))  # the cost block above the actions
    ]
    assert executed == shown


def _failing_executor(monkeypatch) -> None:
    from deployment.errors import DeploymentError
    from deployment.executor import Executor

    def fail(self, actions):
        raise DeploymentError("the endpoint failed to create", where="endpoint")

    monkeypatch.setattr(Executor, "run", fail)


def test_a_failed_deploy_says_what_still_bills_by_the_hour(run, tmp_path, monkeypatch):
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    _failing_executor(monkeypatch)
    assert run("deploy").code == 1
    # Nothing was made: no endpoint bills by the hour, whatever the config's instance type costs.
    assert read_github_output(outputs.read_text())["billed"] == "nothing by the hour: no endpoint was created"


def test_a_failed_update_of_a_standing_endpoint_says_it_still_bills(run, tmp_path, monkeypatch):
    assert run("deploy").code == 0
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    _failing_executor(monkeypatch)
    assert run("deploy", "--set", "data_capture.sampling_percent=50").code == 1
    assert read_github_output(outputs.read_text())["billed"].startswith("about $0.115/hour (1 x ml.m5.large")


def test_monitor_now_publishes_no_plan_count(run, account, clock, tmp_path, monkeypatch):
    from tests.moto.deployment.test_monitor import JOB, JOB_ARN, execution

    assert run("deploy").code == 0
    outputs = tmp_path / "github-output"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    account.executions["pose-dev-monitor-now"] = [[execution("Completed", ProcessingJobArn=JOB_ARN)]]
    account.exit_messages[JOB] = "Completed: no violations"
    assert run("monitor", "--now").code == 0
    published = read_github_output(outputs.read_text())
    assert "plan_changes" not in published and published["monitoring_status"] == "Completed"
