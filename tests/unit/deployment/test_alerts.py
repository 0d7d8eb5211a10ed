"""config.yml's alerts and resource thresholds: what they ask for, and what they refuse."""

from __future__ import annotations

import re

import pytest

from deployment.config import parse_config
from deployment.errors import ConfigError
from deployment.resources.alert import vcpus
from deployment.resources.base import Kind
from inference.settings import MAX_PEOPLE_ENV as MAX_PEOPLE_VARIABLE
from tests.unit.deployment.builders import desired


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"alerts": {"emails": ["oncall"]}}, "alerts.emails.0: 'oncall' is not an email address"),
        (
            {"alerts": {"emails": ["a@b.example", "A@b.example"]}},
            "alerts.emails: A@b.example is listed twice",
        ),
        ({"alerts": {"emails": "a@b.example"}}, "alerts.emails: Input should be a valid list"),
        ({"alerts": {"topic_arn": "arn:aws:sqs:us-east-1:123456789012:q"}}, "is not an SNS topic ARN"),
        (
            {"alerts": {"topic_arn": "arn:aws:sns:us-east-1:123456789012:t.fifo"}},
            "CloudWatch alarms notify standard topics only",
        ),
        (
            {"alerts": {"topic_arn": "arn:aws:sns:eu-west-1:123456789012:t"}},
            "alerts.topic_arn: the topic is in eu-west-1",
        ),
        (
            {"monitoring": {"max_memory_percent": 0}},
            "monitoring.max_memory_percent: Input should be greater than 0",
        ),
        ({"monitoring": {"max_cpu_percent_per_core": 150}}, "less than or equal to 100"),
        (
            {"monitoring": {"max_error_percent": "5"}},
            "monitoring.max_error_percent: Input should be a valid number",
        ),
        (
            {
                "endpoint": {"serverless": {}},
                "data_capture": {"enabled": False},
                "monitoring": {"enabled": False, "max_cpu_percent_per_core": 80},
            },
            "monitoring.max_cpu_percent_per_core: serverless endpoints report no instance CPU or memory",
        ),
        (
            {"model": {"max_people": 3}, "endpoint": {"environment": {"POSE_MAX_PEOPLE": "2"}}},
            "POSE_MAX_PEOPLE is also set by model.max_people",
        ),
        ({"model": {"max_people": 21}}, "model.max_people: Input should be less than or equal to 20"),
    ],
)
def test_bad_alert_settings_are_refused_naming_the_key(document, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse_config(document)


def test_alerts_make_a_key_a_topic_and_a_subscription_per_address_only_when_someone_listens():
    quiet = desired()
    listened = desired({"alerts": {"emails": ["a@example.com", "b@example.com"]}})

    assert (quiet.standalone[Kind.ALERT_KEY], quiet.standalone[Kind.ALERT_TOPIC]) == ((), ())
    assert [s.email for s in listened.standalone[Kind.ALERT_SUBSCRIPTION]] == [
        "a@example.com",
        "b@example.com",
    ]
    (topic,) = listened.standalone[Kind.ALERT_TOPIC]
    assert (topic.name, topic.kms_key) == ("pose-dev-monitor-alerts", "alias/pose-dev-monitor-alerts")
    assert {alert.actions for alert in listened.standalone[Kind.ALERT]} == {(topic.arn,)}
    assert {alert.actions for alert in quiet.standalone[Kind.ALERT]} == {()}


def test_resource_thresholds_add_an_alert_each():
    state = desired(
        {
            "endpoint": {"instance_type": "ml.c5.4xlarge"},
            "monitoring": {"max_memory_percent": 80, "max_cpu_percent_per_core": 70, "max_error_percent": 1},
        }
    )
    alerts = {alert.name.removeprefix("pose-dev-monitor-"): alert for alert in state.standalone[Kind.ALERT]}

    assert sorted(alerts) == ["5xx", "cpu", "error-rate", "latency", "memory", "violations"]
    assert alerts["cpu"].expression == "cpu / 16"  # ml.c5.4xlarge has 16 vCPUs
    assert alerts["latency"].threshold == 1_000_000  # monitoring.threshold_seconds, in microseconds


@pytest.mark.parametrize(
    ("instance_type", "cores"),
    [
        ("ml.t2.medium", 2),
        ("ml.m5.large", 2),
        ("ml.c5.xlarge", 4),
        ("ml.m5.12xlarge", 48),
        ("ml.g4dn.2xlarge", 8),
    ],
)
def test_vcpus_follow_ec2s_size_names(instance_type, cores):
    assert vcpus(instance_type) == cores


def test_max_people_reaches_the_container_only_when_set():
    assert MAX_PEOPLE_VARIABLE not in dict(desired().model.environment)
    assert dict(desired({"model": {"max_people": 3}}).model.environment)[MAX_PEOPLE_VARIABLE] == "3"
