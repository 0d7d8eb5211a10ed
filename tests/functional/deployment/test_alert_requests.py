"""The alerts' and the dashboard's requests, each checked by botocore against the service model."""

from __future__ import annotations

import json

import pytest

from deployment.aws.alarms import Alarms
from deployment.aws.dashboards import Dashboards
from deployment.aws.keys import Keys
from deployment.aws.notifications import Notifications
from deployment.config import parse_config
from deployment.deployer import Deployer
from deployment.errors import DeploymentError
from deployment.resources import REGISTRY
from deployment.resources.alert_subscription import PENDING, Subscription
from deployment.resources.base import Kind
from tests.unit.deployment.builders import desired

ACCOUNT = "123456789012"
TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
TAG_LIST = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]
TOPIC = f"arn:aws:sns:us-east-1:{ACCOUNT}:pose-dev-monitor-alerts"
WITH_ALERTS = {
    "project": {"tags": {"owner": "ml-team"}},
    "alerts": {"emails": ["oncall@example.com"]},
    "monitoring": {"max_error_percent": 2.5},
}
STATE = desired(WITH_ALERTS)


def test_an_alert_on_a_ratio_is_metric_math_over_the_endpoints_metrics(stubbed):
    cloudwatch, stubber = stubbed("cloudwatch")
    (rate,) = [alert for alert in STATE.standalone[Kind.ALERT] if alert.name.endswith("error-rate")]
    endpoint = [{"Name": "EndpointName", "Value": "pose-dev"}, {"Name": "VariantName", "Value": "AllTraffic"}]

    def stat(metric_id: str, metric: str) -> dict:
        return {
            "Id": metric_id,
            "MetricStat": {
                "Metric": {"Namespace": "AWS/SageMaker", "MetricName": metric, "Dimensions": endpoint},
                "Period": 300,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }

    stubber.add_response(
        "put_metric_alarm",
        {},
        {
            "AlarmName": "pose-dev-monitor-error-rate",
            "AlarmDescription": "More than 2.5% of pose-dev's answers are 5XX",
            "Metrics": [
                stat("errors", "Invocation5XXErrors"),
                stat("invocations", "Invocations"),
                {
                    "Id": "alert",
                    "Expression": "IF(invocations > 0, 100 * FILL(errors, 0) / invocations, 0)",
                    "ReturnData": True,
                },
            ],
            "EvaluationPeriods": 3,
            "DatapointsToAlarm": 2,
            "Threshold": 2.5,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "ActionsEnabled": True,
            "AlarmActions": [TOPIC],
            "OKActions": [],
            "Tags": TAG_LIST,
        },
    )

    Alarms(cloudwatch).put_alert(rate, TAGS)

    stubber.assert_no_pending_responses()


def test_the_monitors_violations_are_watched_under_both_namespaces_aws_documents():
    (violations,) = [alert for alert in STATE.standalone[Kind.ALERT] if alert.name.endswith("violations")]

    assert {metric.namespace for metric in violations.metrics} == {
        "aws/sagemaker/Endpoints/data-metrics",
        "/aws/sagemaker/Endpoint/data-metrics",
    }
    assert violations.expression == "MAX([FILL(v1, 0), FILL(v2, 0)])"
    assert (violations.period_seconds, violations.evaluation_periods, violations.datapoints_to_alarm) == (
        3600,
        2,
        1,
    )


def test_the_topic_is_created_encrypted_with_the_stages_key_and_tagged(stubbed):
    sns, stubber = stubbed("sns")
    (topic,) = STATE.standalone[Kind.ALERT_TOPIC]
    stubber.add_response(
        "create_topic",
        {"TopicArn": TOPIC},
        {
            "Name": "pose-dev-monitor-alerts",
            "Attributes": {"KmsMasterKeyId": "alias/pose-dev-monitor-alerts"},
            "Tags": TAG_LIST,
        },
    )

    Notifications(sns).create_topic(topic, TAGS)

    stubber.assert_no_pending_responses()


def test_pending_and_confirmed_subscriptions_are_read_over_every_page(stubbed):
    sns, stubber = stubbed("sns")
    confirmed = f"{TOPIC}:0b7e0f0e-1111-2222-3333-444455556666"
    stubber.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [{"SubscriptionArn": PENDING, "Protocol": "email", "Endpoint": "b@example.com"}],
            "NextToken": "next",
        },
        {"TopicArn": TOPIC},
    )
    stubber.add_response(
        "list_subscriptions_by_topic",
        {
            "Subscriptions": [
                {"SubscriptionArn": confirmed, "Protocol": "email", "Endpoint": "a@example.com"},
                {"SubscriptionArn": f"{TOPIC}:x", "Protocol": "sqs", "Endpoint": "arn:aws:sqs:us-east-1:1:q"},
            ]
        },
        {"TopicArn": TOPIC, "NextToken": "next"},
    )

    found = Notifications(sns).subscriptions(TOPIC)

    assert [(s.email, s.pending) for s in found] == [("a@example.com", False), ("b@example.com", True)]
    handler = REGISTRY[Kind.ALERT_SUBSCRIPTION]
    assert [handler.removable(s) for s in found] == [True, False]  # SNS cannot remove a pending one


def test_a_subscription_asks_for_its_arn_so_a_confirmed_one_can_be_told_apart(stubbed):
    sns, stubber = stubbed("sns")
    stubber.add_response(
        "subscribe",
        {"SubscriptionArn": PENDING},
        {
            "TopicArn": TOPIC,
            "Protocol": "email",
            "Endpoint": "oncall@example.com",
            "ReturnSubscriptionArn": True,
        },
    )

    Notifications(sns).subscribe(Subscription(TOPIC, "oncall@example.com"))

    stubber.assert_no_pending_responses()


def test_a_key_scheduled_for_deletion_counts_as_gone(stubbed):
    kms, stubber = stubbed("kms")
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    metadata = {"KeyId": arn.rsplit("/", 1)[1], "Arn": arn, "KeyState": "PendingDeletion"}
    stubber.add_response(
        "describe_key", {"KeyMetadata": metadata}, {"KeyId": "alias/pose-dev-monitor-alerts"}
    )

    assert Keys(kms).read("alias/pose-dev-monitor-alerts") is None


def test_the_key_is_deleted_by_its_alias_first_then_after_kmss_shortest_wait(stubbed):
    kms, stubber = stubbed("kms")
    (key,) = STATE.standalone[Kind.ALERT_KEY]
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stubber.add_response("delete_alias", {}, {"AliasName": "alias/pose-dev-monitor-alerts"})
    stubber.add_response(
        "schedule_key_deletion",
        {"KeyId": arn, "PendingWindowInDays": 7},
        {"KeyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "PendingWindowInDays": 7},
    )

    Keys(kms).delete(type(key)(key.alias, key.description, key.policy, arn), 7)

    stubber.assert_no_pending_responses()


def test_a_dashboard_cloudwatch_finds_fault_with_is_a_failure_naming_it(stubbed):
    cloudwatch, stubber = stubbed("cloudwatch")
    (dashboard,) = STATE.standalone[Kind.DASHBOARD]
    stubber.add_response(
        "put_dashboard",
        {"DashboardValidationMessages": [{"DataPath": "/widgets/0", "Message": "Should have a region"}]},
        {"DashboardName": dashboard.name, "DashboardBody": dashboard.body},
    )

    with pytest.raises(DeploymentError, match=r"pose-dev-monitor-us-east-1: .*Should have a region"):
        Dashboards(cloudwatch).put(dashboard)


def test_the_dashboard_graphs_the_endpoint_the_monitor_and_every_alarm():
    (dashboard,) = STATE.standalone[Kind.DASHBOARD]
    widgets = json.loads(dashboard.body)["widgets"]

    titles = [w["properties"]["title"] for w in widgets]
    assert titles == [
        "Invocations per minute",
        "Latency (microseconds)",
        "Errors per minute",
        "CPU (summed over cores) and memory, %",
        "Monitor: inference time from captured answers (ms)",
        "Monitor: person rate and mean keypoint score",
        "Alarms",
    ]
    alarms = widgets[-1]["properties"]["alarms"]
    assert [arn.rsplit(":", 1)[1] for arn in alarms] == [
        "pose-dev-invocation-5xx",
        "pose-dev-model-latency",
        "pose-dev-monitor-5xx",
        "pose-dev-monitor-latency",
        "pose-dev-monitor-violations",
        "pose-dev-monitor-error-rate",
    ]


def test_deploy_and_status_say_which_addresses_have_not_confirmed(monkeypatch):
    class Stand:
        """Only what `alerts()` reads."""

        class notifications:
            @staticmethod
            def subscriptions(topic):
                return (
                    Subscription(topic, "a@example.com", f"{topic}:1"),
                    Subscription(topic, "b@example.com", PENDING),
                )

        class alarms:
            @staticmethod
            def read_alerts(prefix):
                return ()

    deployer = Deployer(parse_config(WITH_ALERTS))
    monkeypatch.setattr(deployer, "connect", lambda: (Stand, STATE.names))

    assert deployer.alerts() == ((), ("b@example.com",))
