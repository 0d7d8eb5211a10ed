"""Alerts and the dashboard against moto: an encrypted topic, email subscriptions, alarms that
notify it, one dashboard; created once, unchanged on a second deploy, repaired, destroyed."""

from __future__ import annotations

import json

from tests.moto.deployment.conftest import ACCOUNT, REGION

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false")
ALERTS = (
    *QUICK,
    "--set",
    "alerts.emails=[oncall@example.com, lead@example.com]",
    "--set",
    "monitoring.max_memory_percent=85",
    "--set",
    "monitoring.max_cpu_percent_per_core=75",
    "--set",
    "monitoring.max_error_percent=2",
)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:pose-dev-monitor-alerts"
ALIAS = "alias/pose-dev-monitor-alerts"
DASHBOARD = f"pose-dev-monitor-{REGION}"


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def alarms(console) -> dict[str, dict]:
    found = console.client("cloudwatch").describe_alarms(AlarmNamePrefix="pose-dev-monitor-")["MetricAlarms"]
    return {alarm["AlarmName"]: alarm for alarm in found}


def test_alerts_reach_an_encrypted_topic_its_subscribers_and_a_dashboard(run, console):
    result = run("deploy", *ALERTS)

    assert result.code == 0, result.err
    sns, kms = console.client("sns"), console.client("kms")
    attributes = sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]
    assert attributes["KmsMasterKeyId"] == ALIAS
    key = kms.describe_key(KeyId=ALIAS)["KeyMetadata"]
    policy = json.loads(kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"])
    cloudwatch = next(
        s for s in policy["Statement"] if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    )
    assert set(cloudwatch["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}
    subscribed = sns.list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    assert sorted((s["Protocol"], s["Endpoint"]) for s in subscribed) == [
        ("email", "lead@example.com"),
        ("email", "oncall@example.com"),
    ]
    found = alarms(console)
    assert sorted(found) == [
        "pose-dev-monitor-5xx",
        "pose-dev-monitor-cpu",
        "pose-dev-monitor-error-rate",
        "pose-dev-monitor-latency",
        "pose-dev-monitor-memory",
        "pose-dev-monitor-violations",
    ]
    assert all(alarm["AlarmActions"] == [TOPIC] for alarm in found.values())
    cpu = {query["Id"]: query for query in found["pose-dev-monitor-cpu"]["Metrics"]}
    assert cpu["alert"]["Expression"] == "cpu / 2"  # ml.m5.large: CPUUtilization summed over 2 vCPUs
    assert found["pose-dev-monitor-cpu"]["Threshold"] == 75
    body = json.loads(console.client("cloudwatch").get_dashboard(DashboardName=DASHBOARD)["DashboardBody"])
    alarm_widget = next(w for w in body["widgets"] if w["type"] == "alarm")
    assert len(alarm_widget["properties"]["alarms"]) == 8  # 2 rollback alarms and the 6 alerts
    assert (
        f"dashboard_url=https://{REGION}.console.aws.amazon.com/cloudwatch/home?region={REGION}"
        f"#dashboards/dashboard/{DASHBOARD}" in result.out.splitlines()
    )


def test_a_second_deploy_changes_nothing(run, account):
    assert run("deploy", *ALERTS).code == 0
    mark = account.mark()

    result = run("deploy", *ALERTS)

    assert result.code == 0, result.err
    assert mutating(account.since(mark)) == []
    assert "plan: no changes" in result.out


def test_an_email_removed_is_unsubscribed_and_a_topic_of_your_own_is_notified_too(run, account, console):
    assert run("deploy", *ALERTS).code == 0
    theirs = console.client("sns").create_topic(Name="team-paging")["TopicArn"]
    mark = account.mark()

    changed = ("--set", "alerts.emails=[oncall@example.com]", "--set", f"alerts.topic_arn={theirs}")
    assert run("deploy", *ALERTS, *changed).code == 0

    calls = mutating(account.since(mark))
    assert ("sns", "Unsubscribe") in calls
    assert calls.count(("cloudwatch", "PutMetricAlarm")) == 6  # every alert notifies both topics
    subscribed = console.client("sns").list_subscriptions_by_topic(TopicArn=TOPIC)["Subscriptions"]
    assert [s["Endpoint"] for s in subscribed] == ["oncall@example.com"]
    assert all(alarm["AlarmActions"] == [TOPIC, theirs] for alarm in alarms(console).values())


def test_alerts_changed_by_hand_are_restored(run, account, console):
    assert run("deploy", *ALERTS).code == 0
    cloudwatch, sns = console.client("cloudwatch"), console.client("sns")
    cloudwatch.delete_alarms(AlarmNames=["pose-dev-monitor-memory"])
    cloudwatch.put_dashboard(DashboardName=DASHBOARD, DashboardBody=json.dumps({"widgets": []}))
    sns.set_topic_attributes(TopicArn=TOPIC, AttributeName="KmsMasterKeyId", AttributeValue="")
    mark = account.mark()

    assert run("deploy", *ALERTS).code == 0

    assert sorted(mutating(account.since(mark))) == [
        ("cloudwatch", "PutDashboard"),
        ("cloudwatch", "PutMetricAlarm"),
        ("sns", "SetTopicAttributes"),
    ]
    assert "pose-dev-monitor-memory" in alarms(console)
    assert sns.get_topic_attributes(TopicArn=TOPIC)["Attributes"]["KmsMasterKeyId"] == ALIAS


def test_status_shows_each_alert_and_destroy_removes_them_all(run, console):
    assert run("deploy", *ALERTS).code == 0
    console.client("cloudwatch").set_alarm_state(
        AlarmName="pose-dev-monitor-cpu", StateValue="ALARM", StateReason="a test"
    )

    status = run("status", *ALERTS)
    destroyed = run("destroy", *ALERTS)

    assert "alarm pose-dev-monitor-cpu: ALARM" in status.out.splitlines()
    assert "alarm pose-dev-monitor-memory: OK" in status.out.splitlines()
    assert destroyed.code == 0, destroyed.err
    assert alarms(console) == {}
    assert console.client("sns").list_topics()["Topics"] == []
    assert console.client("cloudwatch").list_dashboards()["DashboardEntries"] == []
    kms = console.client("kms")
    assert [a["AliasName"] for a in kms.list_aliases()["Aliases"] if a["AliasName"] == ALIAS] == []
    (key,) = kms.list_keys()["Keys"]
    assert kms.describe_key(KeyId=key["KeyId"])["KeyMetadata"]["KeyState"] == "PendingDeletion"


def test_without_alerts_configured_there_is_no_topic_or_key_but_the_alarms_and_dashboard_stand(run, console):
    assert run("deploy", *QUICK).code == 0

    assert console.client("sns").list_topics()["Topics"] == []
    assert console.client("kms").list_keys()["Keys"] == []
    found = alarms(console)
    assert sorted(found) == [
        "pose-dev-monitor-5xx",
        "pose-dev-monitor-latency",
        "pose-dev-monitor-violations",
    ]
    assert all(alarm["AlarmActions"] == [] for alarm in found.values())
    assert console.client("cloudwatch").get_dashboard(DashboardName=DASHBOARD)["DashboardName"] == DASHBOARD
