"""What the engine manages it reads back and repairs: changed or deleted by hand between deploys."""

from __future__ import annotations

import json

from deployment.naming import MONITORED_BY_TAG, PROJECT_TAG
from tests.moto.deployment.conftest import ACCOUNT, REGION
from tests.moto.deployment.inventory import tagged_resources
from tests.moto.deployment.snapshot import leftovers, settings

QUICK = ("--set", "monitoring.enabled=false", "--set", "webapp.enabled=false")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"
PUBLIC_READ = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{BUCKET}/*",
        }
    ],
}


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def last_line(result) -> str:
    return result.out.splitlines()[-1]


def rules(s3, bucket: str) -> dict[str, dict]:
    return {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]}


def test_a_capture_bucket_opened_up_by_hand_is_restored_in_one_deploy(run, account, console):
    assert run("deploy", *QUICK).code == 0
    clean = settings(console, "pose-dev", account.schedules)
    s3 = console.client("s3")
    s3.delete_public_access_block(Bucket=BUCKET)
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(PUBLIC_READ))
    s3.delete_bucket_encryption(Bucket=BUCKET)
    s3.delete_bucket_tagging(Bucket=BUCKET)

    planned = run("plan", *QUICK).out.splitlines()
    mark = account.mark()
    assert run("deploy", *QUICK).code == 0

    assert [line.split()[2:4] for line in planned if line.startswith("~")] == [
        ["bucket-access-block", BUCKET],
        ["bucket-policy", BUCKET],
        ["bucket-encryption", BUCKET],
        ["tags", "bucket"],
    ]
    assert mutating(account.since(mark)) == [
        ("s3", "PutPublicAccessBlock"),
        ("s3", "PutBucketPolicy"),
        ("s3", "PutBucketEncryption"),
        ("s3", "PutBucketTagging"),
    ]
    assert settings(console, "pose-dev", account.schedules) == clean
    assert last_line(run("plan", *QUICK)) == "plan: no changes"


def test_the_default_bucket_without_its_tags_is_still_found_and_destroyed(run, console):
    assert run("deploy", *QUICK).code == 0
    console.client("s3").delete_bucket_tagging(Bucket=BUCKET)

    result = run("destroy", *QUICK)

    assert result.code == 0, result.err
    assert leftovers(console, "pose-dev", {}) == []


def test_an_api_deleted_by_hand_comes_back_with_its_invoke_permission_in_one_deploy(run, console):
    assert run("deploy", *QUICK).code == 0
    gateway = console.client("apigatewayv2")
    gateway.delete_api(ApiId=gateway.get_apis()["Items"][0]["ApiId"])

    assert run("deploy", *QUICK).code == 0

    (api,) = gateway.get_apis()["Items"]
    policy = json.loads(console.client("lambda").get_policy(FunctionName="pose-dev-predict")["Policy"])
    (statement,) = policy["Statement"]
    assert statement["Condition"]["ArnLike"]["AWS:SourceArn"] == (
        f"arn:aws:execute-api:{REGION}:{ACCOUNT}:{api['ApiId']}/*/POST/predict"
    )
    assert last_line(run("plan", *QUICK)) == "plan: no changes"


def test_an_api_stripped_of_its_tags_is_still_ours_repaired_and_destroyed(run, console):
    assert run("deploy", *QUICK).code == 0
    gateway = console.client("apigatewayv2")
    (api,) = gateway.get_apis()["Items"]
    arn = f"arn:aws:apigateway:{REGION}::/apis/{api['ApiId']}"
    gateway.untag_resource(ResourceArn=arn, TagKeys=list(api["Tags"]))

    assert run("deploy", *QUICK).code == 0
    (again,) = gateway.get_apis()["Items"]  # the same API, not a second one
    assert (again["ApiId"], again["Tags"]) == (api["ApiId"], api["Tags"])

    gateway.untag_resource(ResourceArn=arn, TagKeys=list(api["Tags"]))
    assert run("destroy", *QUICK).code == 0
    assert gateway.get_apis()["Items"] == []


def test_new_project_tags_reach_every_resource_and_a_dropped_key_goes(run, account, console):
    assert run("deploy", "--set", "webapp.enabled=false").code == 0
    functions = console.client("lambda")
    arn = functions.get_function(FunctionName="pose-dev-predict")["Configuration"]["FunctionArn"]
    functions.tag_resource(Resource=arn, Tags={"added-by-hand": "x"})
    retagged = ("--set", "webapp.enabled=false", "--set", "project.tags={team: vision}")

    assert run("deploy", *retagged).code == 0

    inventory = {
        key: tags
        for key, tags in tagged_resources(console).items()
        if key[0] != "bucket" or "web" not in key[1]
    }
    wanted = {"team": "vision", PROJECT_TAG: "pose-dev"}
    assert len(inventory) == 14  # with the three alerts
    for (kind, name), tags in inventory.items():
        assert tags == {
            **wanted,
            **({MONITORED_BY_TAG: "pose-dev-monitor"} if kind == "endpoint" else {}),
        }, name
    schedule_tags = {tag["Key"]: tag["Value"] for tag in account.schedules["pose-dev-monitor"]["tags"]}
    assert schedule_tags == wanted
    stage = console.client("apigatewayv2").get_stages(
        ApiId=console.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    )
    assert stage["Items"][0]["Tags"] == wanted
    assert last_line(run("plan", *retagged)) == "plan: no changes"


def test_a_new_capture_prefix_keeps_expiry_on_the_old_one_until_it_is_empty(run, console):
    assert run("deploy", *QUICK).code == 0
    s3 = console.client("s3")
    s3.put_object(
        Bucket=BUCKET, Key="pose-dev/data-capture/pose-dev/AllTraffic/2026/12/01/10/a.jsonl", Body=b"{}"
    )
    moved = (*QUICK, "--set", "s3.capture_prefix=captures-v2")

    assert run("deploy", *moved).code == 0
    assert {rule["Filter"]["Prefix"]: rule["Expiration"]["Days"] for rule in rules(s3, BUCKET).values()} == {
        "pose-dev/data-capture/": 30,
        "pose-dev/captures-v2/": 30,
    }
    assert last_line(run("plan", *moved)) == "plan: no changes"

    s3.delete_object(Bucket=BUCKET, Key="pose-dev/data-capture/pose-dev/AllTraffic/2026/12/01/10/a.jsonl")
    assert run("deploy", *moved).code == 0
    assert list(rules(s3, BUCKET)) == ["expire-captures pose-dev/captures-v2/"]


def test_stages_sharing_a_bucket_keep_each_others_rules_and_data(run, account, console):
    stage = {
        name: (*QUICK, "--set", "s3.bucket=team-captures", "--set", f"project.stage={name}") for name in "ab"
    }
    assert run("deploy", *stage["a"]).code == 0  # creates team-captures, and owns it
    assert run("deploy", *stage["b"]).code == 0  # uses it: only its rule and folder
    s3 = console.client("s3")
    s3.put_object(Bucket="team-captures", Key="pose-b/data-capture/x.jsonl", Body=b"{}")
    mark = account.mark()

    assert run("deploy", *stage["a"], "--set", "data_capture.retention_days=7").code == 0
    assert run("deploy", *stage["b"]).code == 0

    assert mutating(account.since(mark)) == [("s3", "PutBucketLifecycleConfiguration")]  # a's only
    assert {rule_id: rule["Expiration"]["Days"] for rule_id, rule in rules(s3, "team-captures").items()} == {
        "expire-captures pose-a/data-capture/": 7,
        "expire-captures pose-b/data-capture/": 30,
    }

    assert run("destroy", *stage["a"]).code == 0  # the bucket stays: stage b still uses it
    assert list(rules(s3, "team-captures")) == ["expire-captures pose-b/data-capture/"]
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="team-captures")["Contents"]]
    assert "pose-b/data-capture/x.jsonl" in keys and all(key.startswith("pose-b/") for key in keys)


def test_a_shared_bucket_anyone_can_read_is_refused_before_any_change(run, account, console):
    s3 = console.client("s3")
    s3.create_bucket(Bucket="team-bucket")
    public = {
        **PUBLIC_READ,
        "Statement": [{**PUBLIC_READ["Statement"][0], "Resource": "arn:aws:s3:::team-bucket/*"}],
    }
    s3.put_bucket_policy(Bucket="team-bucket", Policy=json.dumps(public))

    result = run("deploy", *QUICK, "--set", "s3.bucket=team-bucket")

    assert result.code == 1
    assert result.err.startswith(
        "error: s3://team-bucket: the bucket is public (its bucket policy allows public access)"
    )
    assert mutating(account.calls) == []
