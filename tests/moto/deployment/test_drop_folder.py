"""The drop folder against moto: role, log group, function, S3's permission and the bucket's
notification, made together, unchanged on a second deploy, repaired, removed with the rest."""

from __future__ import annotations

import json

from tests.moto.deployment.conftest import ACCOUNT, REGION

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
ON = (*QUICK, "--set", "batch.drop_folder.enabled=true")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"
NAME = "pose-dev-predict-drop-folder"


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def notifications(console) -> list[dict]:
    found = console.client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    return found.get("LambdaFunctionConfigurations", [])


def test_the_drop_folder_wires_the_inbox_to_a_least_privilege_function(run, console):
    result = run("deploy", *ON)

    assert result.code == 0, result.err
    function = console.client("lambda").get_function(FunctionName=NAME)["Configuration"]
    assert function["Handler"] == "proxy.drop_folder.handler"
    assert function["Environment"]["Variables"] == {
        "ENDPOINT_NAME": "pose-dev",
        "INPUT_PREFIX": "pose-dev/inbox/",
        "RESULT_PREFIX": "pose-dev/outbox/",
        "FAILED_PREFIX": "pose-dev/failed/",
    }
    (statement,) = json.loads(console.client("lambda").get_policy(FunctionName=NAME)["Policy"])["Statement"]
    assert statement["Principal"] == {"Service": "s3.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == f"arn:aws:s3:::{BUCKET}"
    assert statement["Condition"]["StringEquals"]["AWS:SourceAccount"] == ACCOUNT
    (notification,) = notifications(console)
    assert notification["LambdaFunctionArn"].endswith(f":function:{NAME}")
    rules = notification["Filter"]["Key"]["FilterRules"]
    assert [(rule["Name"].lower(), rule["Value"]) for rule in rules] == [("prefix", "pose-dev/inbox/")]
    iam = console.client("iam")
    policy = json.loads(
        json.dumps(
            iam.get_role_policy(
                RoleName=NAME, PolicyName=iam.list_role_policies(RoleName=NAME)["PolicyNames"][0]
            )["PolicyDocument"]
        )
    )
    grants = {s["Sid"]: s for s in policy["Statement"]}
    assert grants["ReadTheInbox"]["Resource"] == f"arn:aws:s3:::{BUCKET}/pose-dev/inbox/*"
    assert grants["InvokeTheEndpoint"]["Action"] == "sagemaker:InvokeEndpoint"
    assert console.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{NAME}")["logGroups"]


def test_a_second_deploy_changes_nothing(run, account):
    assert run("deploy", *ON).code == 0
    mark = account.mark()

    result = run("deploy", *ON)

    assert (result.code, mutating(account.since(mark))) == (0, [])


def test_a_notification_removed_by_hand_is_restored_and_others_are_kept(run, account, console):
    assert run("deploy", *ON).code == 0
    s3 = console.client("s3")
    others = {"TopicConfigurations": []}
    s3.put_bucket_notification_configuration(Bucket=BUCKET, NotificationConfiguration=others)
    mark = account.mark()

    assert run("deploy", *ON).code == 0

    assert mutating(account.since(mark)) == [("s3", "PutBucketNotificationConfiguration")]
    assert [n["Id"] for n in notifications(console)] == [NAME]


def test_switching_it_off_or_destroying_removes_every_part(run, console):
    assert run("deploy", *ON).code == 0

    assert run("deploy", *QUICK).code == 0
    assert notifications(console) == []
    functions = [f["FunctionName"] for f in console.client("lambda").list_functions()["Functions"]]
    assert NAME not in functions
    assert run("deploy", *ON).code == 0
    assert run("destroy", *ON).code == 0
    assert [r["RoleName"] for r in console.client("iam").list_roles()["Roles"] if r["RoleName"] == NAME] == []
