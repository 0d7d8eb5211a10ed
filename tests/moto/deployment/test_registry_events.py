"""The registry's event flows against moto: the approval rule and its Lambda (on the stage named by
registry.deploy_on_approval only), the upload folder's Lambda and notification; made, unchanged on
a second deploy, repaired, removed by destroy."""

from __future__ import annotations

import json

from tests.moto.deployment.conftest import ACCOUNT, REGION

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
APPROVAL = (*QUICK, "--set", "registry.deploy_on_approval=dev")
UPLOAD = (*QUICK, "--set", "registry.upload_prefix=uploads")
BOTH = (*APPROVAL, "--set", "registry.upload_prefix=uploads", "--set", "batch.drop_folder.enabled=true")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"
DEPLOYER, UPLOADER = "pose-dev-registry-deploy", "pose-dev-registry-upload"


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def functions(console) -> list[str]:
    return sorted(f["FunctionName"] for f in console.client("lambda").list_functions()["Functions"])


def role_policy(console, name: str) -> dict:
    iam = console.client("iam")
    (policy_name,) = iam.list_role_policies(RoleName=name)["PolicyNames"]
    return iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]


def test_the_approval_rule_targets_a_least_privilege_function_allowed_for_eventbridge(run, console):
    result = run("deploy", *APPROVAL)

    assert result.code == 0, result.err
    events = console.client("events")
    rule = events.describe_rule(Name=DEPLOYER)
    assert json.loads(rule["EventPattern"]) == {
        "source": ["aws.sagemaker"],
        "detail-type": ["SageMaker Model Package State Change"],
        "detail": {"ModelPackageGroupName": ["pose"], "ModelApprovalStatus": ["Approved"]},
    }
    (target,) = events.list_targets_by_rule(Rule=DEPLOYER)["Targets"]
    assert target["Arn"] == f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{DEPLOYER}"
    tags = {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=rule["Arn"])["Tags"]}
    assert tags["pose:deployment"] == "pose-dev"
    (statement,) = json.loads(console.client("lambda").get_policy(FunctionName=DEPLOYER)["Policy"])[
        "Statement"
    ]
    assert statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]
    function = console.client("lambda").get_function(FunctionName=DEPLOYER)["Configuration"]
    assert (function["Handler"], function["Timeout"]) == ("proxy.approved.handler", 900)
    grants = {s["Sid"]: s for s in role_policy(console, DEPLOYER)["Statement"]}
    assert (
        grants["UpdateTheEndpoint"]["Resource"] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/pose-dev"
    )
    assert grants["PassTheExecutionRole"]["Resource"].endswith(":role/pose-dev-sagemaker-execution")


def test_only_the_named_stage_gets_the_rule(run, console):
    assert run("deploy", *QUICK, "--set", "registry.deploy_on_approval=prod").code == 0

    assert console.client("events").list_rules()["Rules"] == []
    assert DEPLOYER not in functions(console)


def test_a_second_deploy_changes_nothing(run, account):
    assert run("deploy", *BOTH).code == 0
    mark = account.mark()

    result = run("deploy", *BOTH)

    assert (result.code, mutating(account.since(mark))) == (0, [])


def test_a_rule_changed_by_hand_is_repaired(run, account, console):
    assert run("deploy", *APPROVAL).code == 0
    events = console.client("events")
    arn = events.describe_rule(Name=DEPLOYER)["Arn"]
    events.remove_targets(Rule=DEPLOYER, Ids=["deploy-approved-version"])
    events.untag_resource(ResourceARN=arn, TagKeys=["pose:deployment"])
    events.disable_rule(Name=DEPLOYER)
    mark = account.mark()

    assert run("deploy", *APPROVAL).code == 0

    assert mutating(account.since(mark)) == [
        ("eventbridge", "PutRule"),
        ("eventbridge", "TagResource"),
        ("eventbridge", "PutTargets"),
    ]
    assert events.describe_rule(Name=DEPLOYER)["State"] == "ENABLED"
    assert len(events.list_targets_by_rule(Rule=DEPLOYER)["Targets"]) == 1


def test_the_upload_folder_is_notified_beside_the_drop_folder(run, console):
    assert run("deploy", *BOTH).code == 0

    found = console.client("s3").get_bucket_notification_configuration(Bucket=BUCKET)
    prefixes = {
        entry["Id"]: entry["Filter"]["Key"]["FilterRules"][0]["Value"]
        for entry in found["LambdaFunctionConfigurations"]
    }
    assert prefixes == {"pose-dev-predict-drop-folder": "pose-dev/inbox/", UPLOADER: "pose-dev/uploads/"}
    function = console.client("lambda").get_function(FunctionName=UPLOADER)["Configuration"]
    assert function["Environment"]["Variables"]["REJECTED_PREFIX"] == "pose-dev/uploads-rejected/"
    grants = {s["Sid"]: s for s in role_policy(console, UPLOADER)["Statement"]}
    assert grants["TakeUploads"]["Resource"] == f"arn:aws:s3:::{BUCKET}/pose-dev/uploads/*"


def test_switching_off_and_destroy_remove_every_part(run, console):
    assert run("deploy", *BOTH).code == 0

    assert run("deploy", *QUICK).code == 0
    assert console.client("events").list_rules()["Rules"] == []
    assert not {DEPLOYER, UPLOADER} & set(functions(console))
    assert run("deploy", *BOTH).code == 0
    assert run("destroy", *BOTH).code == 0
    roles = {r["RoleName"] for r in console.client("iam").list_roles()["Roles"]}
    assert not {DEPLOYER, UPLOADER} & roles
    assert console.client("events").list_rules()["Rules"] == []
