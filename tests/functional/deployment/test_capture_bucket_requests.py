"""The capture bucket, every service's tag calls and finding the API by name: exact to the parameter."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from deployment.aws.http_api import HttpApis
from deployment.aws.storage import Storage
from deployment.aws.tagging import Tagging
from deployment.errors import DeploymentError
from deployment.naming import Names
from deployment.resources import REGISTRY
from deployment.resources.base import Kind
from deployment.resources.bucket import LEGACY_EXPIRY_RULE, Encryption, ExpiryRule, StageRules
from deployment.resources.tags import ResourceTags, TagChange
from tests.unit.deployment.builders import desired

ACCOUNT = "123456789012"
STATE = desired({"project": {"tags": {"owner": "ml-team"}}})
BUCKET = STATE.bucket
NAME = BUCKET.name
TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
TAG_LIST = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]
PRIVATE = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)
TLS_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [f"arn:aws:s3:::{NAME}", f"arn:aws:s3:::{NAME}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    ],
}
OUR_RULE = {
    "ID": "expire-captures pose-dev/data-capture/",
    "Filter": {"Prefix": "pose-dev/data-capture/"},
    "Status": "Enabled",
    "Expiration": {"Days": 30},
    "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
}
TEAM_RULE = {"ID": "team-logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled", "Expiration": {"Days": 3}}
OTHER_STAGE = {**OUR_RULE, "ID": LEGACY_EXPIRY_RULE, "Filter": {"Prefix": "pose-pr-7/data-capture/"}}


@pytest.fixture
def s3(stubbed):
    client, stubber = stubbed("s3")
    yield Storage(client, "us-east-1"), stubber
    stubber.assert_no_pending_responses()


def no(stubber, operation: str, code: str) -> None:
    stubber.add_client_error(operation, code, http_status_code=404)


def test_a_new_bucket_is_tagged_first_then_private_encrypted_tls_only_and_expiring(s3):
    storage, stubber = s3
    stubber.add_response("create_bucket", {}, {"Bucket": NAME})
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": NAME, "Tagging": {"TagSet": TAG_LIST}})
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": NAME, "PublicAccessBlockConfiguration": PRIVATE}
    )
    stubber.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": NAME,
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        },
    )
    stubber.add_response("put_bucket_policy", {}, {"Bucket": NAME, "Policy": BUCKET.policy})
    no(stubber, "get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration")
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {"Bucket": NAME, "LifecycleConfiguration": {"Rules": [OUR_RULE]}},
    )

    storage.create_bucket(BUCKET, TAGS)

    assert json.loads(BUCKET.policy) == TLS_ONLY


def test_a_create_retried_outside_us_east_1_carries_on_and_uses_the_kms_key(stubbed):
    client, stubber = stubbed("s3", "eu-west-1")
    key = "alias/pose-captures"
    bucket = desired({"project": {"region": "eu-west-1"}, "data_capture": {"kms_key_id": key}}).bucket
    stubber.add_client_error("create_bucket", "BucketAlreadyOwnedByYou", http_status_code=409)
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": bucket.name, "Tagging": {"TagSet": TAG_LIST}})
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": bucket.name, "PublicAccessBlockConfiguration": PRIVATE}
    )
    stubber.add_response(
        "put_bucket_encryption",
        {},
        {
            "Bucket": bucket.name,
            "ServerSideEncryptionConfiguration": {
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}
                ]
            },
        },
    )
    stubber.add_response("put_bucket_policy", {}, {"Bucket": bucket.name, "Policy": bucket.policy})
    stubber.add_response(
        "get_bucket_lifecycle_configuration", {"Rules": [TEAM_RULE]}, {"Bucket": bucket.name}
    )
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {"Bucket": bucket.name, "LifecycleConfiguration": {"Rules": [TEAM_RULE, OUR_RULE]}},
    )

    Storage(client, "eu-west-1").create_bucket(bucket, TAGS)

    stubber.assert_no_pending_responses()


def expect_settings(
    stubber, encryption: dict | None, pab: dict | None, policy: str | None, rules: list
) -> None:
    if encryption:
        stubber.add_response(
            "get_bucket_encryption",
            {
                "ServerSideEncryptionConfiguration": {
                    "Rules": [{"ApplyServerSideEncryptionByDefault": encryption}]
                }
            },
            {"Bucket": NAME},
        )
    else:
        no(stubber, "get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError")
    if pab:
        stubber.add_response(
            "get_public_access_block", {"PublicAccessBlockConfiguration": pab}, {"Bucket": NAME}
        )
    else:
        no(stubber, "get_public_access_block", "NoSuchPublicAccessBlockConfiguration")
    if policy:
        stubber.add_response("get_bucket_policy", {"Policy": policy}, {"Bucket": NAME})
    else:
        no(stubber, "get_bucket_policy", "NoSuchBucketPolicy")


def expect_rules(stubber, bucket: str, rules: list, holding: list[int]) -> None:
    stubber.add_response("get_bucket_lifecycle_configuration", {"Rules": rules}, {"Bucket": bucket})
    for prefix, count in holding:
        stubber.add_response(
            "list_objects_v2", {"KeyCount": count}, {"Bucket": bucket, "Prefix": prefix, "MaxKeys": 1}
        )


def test_our_bucket_is_read_back_setting_by_setting_with_its_tags(s3):
    storage, stubber = s3
    stubber.add_response("head_bucket", {}, {"Bucket": NAME, "ExpectedBucketOwner": ACCOUNT})
    stubber.add_response("get_bucket_tagging", {"TagSet": TAG_LIST}, {"Bucket": NAME})
    old = {**OUR_RULE, "ID": "expire-captures pose-dev/old/", "Filter": {"Prefix": "pose-dev/old/"}}
    expect_rules(
        stubber,
        NAME,
        [TEAM_RULE, OUR_RULE, OTHER_STAGE, old],
        [("pose-dev/data-capture/", 1), ("pose-dev/old/", 0)],
    )
    expect_settings(stubber, {"SSEAlgorithm": "AES256"}, PRIVATE, json.dumps(TLS_ONLY, indent=2), [])

    found = storage.read_bucket(NAME, STATE.names)

    old_rule = ExpiryRule("expire-captures pose-dev/old/", "pose-dev/old/", 30, True, 1, holds_objects=False)
    assert found == (
        BUCKET.__class__(
            NAME, Encryption("AES256"), (True,) * 4, BUCKET.policy, (*BUCKET.expiry_rules, old_rule)
        ),
        True,
        ResourceTags("bucket", NAME, TAGS, NAME),
    )
    assert found[0].expiry_rules[1].holds_objects is False


def test_the_default_bucket_stripped_by_hand_is_still_ours(s3):
    storage, stubber = s3
    stubber.add_response("head_bucket", {}, {"Bucket": NAME, "ExpectedBucketOwner": ACCOUNT})
    no(stubber, "get_bucket_tagging", "NoSuchTagSet")
    expect_rules(stubber, NAME, [], [])
    expect_settings(stubber, None, None, None, [])

    bucket, ours, tags = storage.read_bucket(NAME, STATE.names)

    assert (bucket.encryption, bucket.access_block, bucket.policy, bucket.expiry_rules) == (
        None,
        (False,) * 4,
        "",
        (),
    )
    assert (ours, tags) == (True, ResourceTags("bucket", NAME, (), NAME))


@pytest.mark.parametrize(
    ("block", "policy_public", "acl_uri", "exposure"),
    [
        ({**PRIVATE, "RestrictPublicBuckets": False}, True, None, "its bucket policy allows public access"),
        (
            {**PRIVATE, "IgnorePublicAcls": False},
            False,
            "http://acs.amazonaws.com/groups/global/AllUsers",
            "its ACL grants access to all users",
        ),
        (None, False, None, ""),
    ],
)
def test_a_bucket_of_someone_elses_is_checked_for_public_access_only(
    s3, block, policy_public, acl_uri, exposure
):
    storage, stubber = s3
    stubber.add_response("head_bucket", {}, {"Bucket": "team-bucket"})  # maybe another account's
    stubber.add_response(
        "get_bucket_tagging",
        {"TagSet": [{"Key": "pose:deployment", "Value": "pose-pr-7"}]},
        {"Bucket": "team-bucket"},
    )
    expect_rules(stubber, "team-bucket", [OTHER_STAGE], [])
    if block:
        stubber.add_response(
            "get_public_access_block", {"PublicAccessBlockConfiguration": block}, {"Bucket": "team-bucket"}
        )
    else:
        stubber.add_client_error(
            "get_public_access_block", "NoSuchPublicAccessBlockConfiguration", http_status_code=404
        )
    if not (block or {}).get("RestrictPublicBuckets"):
        stubber.add_response(
            "get_bucket_policy_status",
            {"PolicyStatus": {"IsPublic": policy_public}},
            {"Bucket": "team-bucket"},
        )
    if not (block or {}).get("IgnorePublicAcls"):
        grants = [{"Grantee": {"Type": "Group", "URI": acl_uri}, "Permission": "READ"}] if acl_uri else []
        stubber.add_response("get_bucket_acl", {"Grants": grants}, {"Bucket": "team-bucket"})

    bucket, ours, tags = storage.read_bucket("team-bucket", STATE.names)

    assert (bucket.exposure, bucket.expiry_rules, ours, tags) == (exposure, (), False, None)


def test_a_bucket_another_account_holds_says_how_to_fix_it(s3):
    storage, stubber = s3
    stubber.add_client_error("head_bucket", "403", "Forbidden", http_status_code=403)

    with pytest.raises(DeploymentError) as raised:
        storage.read_bucket(NAME, STATE.names)

    assert (raised.value.where, raised.value.hint) == (
        f"s3://{NAME}",
        "bucket names are global; set s3.bucket to a name you own",
    )


def test_a_stages_rules_replace_only_its_own_and_keep_every_other(s3):
    storage, stubber = s3
    mine_before = {**OUR_RULE, "ID": LEGACY_EXPIRY_RULE}
    stubber.add_response(
        "get_bucket_lifecycle_configuration",
        {"Rules": [TEAM_RULE, mine_before, OTHER_STAGE]},
        {"Bucket": "team-bucket"},
    )
    stubber.add_response(
        "put_bucket_lifecycle_configuration",
        {},
        {"Bucket": "team-bucket", "LifecycleConfiguration": {"Rules": [TEAM_RULE, OTHER_STAGE, OUR_RULE]}},
    )

    storage.put_stage_rules(StageRules("team-bucket", "pose-dev", BUCKET.expiry_rules))


def test_the_last_rule_removed_removes_the_lifecycle_configuration(s3):
    storage, stubber = s3
    stubber.add_response(
        "get_bucket_lifecycle_configuration", {"Rules": [OUR_RULE]}, {"Bucket": "team-bucket"}
    )
    stubber.add_response("delete_bucket_lifecycle", {}, {"Bucket": "team-bucket"})

    storage.put_stage_rules(StageRules("team-bucket", "pose-dev", ()))


@pytest.mark.parametrize(
    ("rules", "listing", "shared"),
    [
        ([OUR_RULE], {"CommonPrefixes": [{"Prefix": "pose-dev/"}]}, False),
        ([OUR_RULE, OTHER_STAGE], {"CommonPrefixes": [{"Prefix": "pose-dev/"}]}, True),
        ([OUR_RULE], {"CommonPrefixes": [{"Prefix": "pose-dev/"}, {"Prefix": "team/"}]}, True),
        ([], {"Contents": [{"Key": "notes.txt"}]}, True),
        ([], {}, False),
    ],
)
def test_a_bucket_holding_anything_but_this_stages_folder_and_rules_is_shared(s3, rules, listing, shared):
    storage, stubber = s3
    stubber.add_response("get_bucket_lifecycle_configuration", {"Rules": rules}, {"Bucket": NAME})
    stubber.add_response("list_objects_v2", listing, {"Bucket": NAME, "Delimiter": "/", "MaxKeys": 2})

    assert storage.shared_with_others(NAME, "pose-dev") is shared


# Tags: one change per resource kind, each service's own spelling.


class Arns:
    """The ARN each kind's handler says its tags are reached by."""

    def __init__(self, names: Names) -> None:
        self.names = names

    def of(self, kind: str, name: str, api_id: str = "") -> str:
        return REGISTRY[Kind(kind)].tag_arn(self.names.region, self.names.account_id, name, api_id)


def read(api: Tagging, kind: str, name: str, arn: str):
    return api.read(Kind(kind), REGISTRY[Kind(kind)].tag_service, name, arn)


ARNS = Arns(STATE.names)
ADD, REMOVE = (("owner", "platform"),), ("team",)


@pytest.fixture
def tagging(stubbed):
    clients = {}
    for service in ("s3", "iam", "sagemaker", "cloudwatch", "lambda", "logs", "apigatewayv2", "sns", "kms"):
        clients[service] = stubbed(service)
    yield Tagging(*(client for client, _ in clients.values())), {
        name: stub for name, (_, stub) in clients.items()
    }
    for _, stubber in clients.values():
        stubber.assert_no_pending_responses()


def change(kind: str, name: str, api_id: str = "") -> TagChange:
    after = (("owner", "platform"), ("pose:deployment", "pose-dev"))
    service = REGISTRY[Kind(kind)].tag_service
    return TagChange(Kind(kind), name, ARNS.of(kind, name, api_id), ADD, REMOVE, after, service)


@pytest.mark.parametrize(
    ("kind", "name", "service", "calls"),
    [
        (
            "role",
            "pose-dev-predict-lambda",
            "iam",
            [
                (
                    "tag_role",
                    {"RoleName": "pose-dev-predict-lambda", "Tags": [{"Key": "owner", "Value": "platform"}]},
                ),
                ("untag_role", {"RoleName": "pose-dev-predict-lambda", "TagKeys": ["team"]}),
            ],
        ),
        (
            "model",
            "pose-dev-model-0123abcd",
            "sagemaker",
            [
                (
                    "add_tags",
                    {
                        "ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/pose-dev-model-0123abcd",
                        "Tags": [{"Key": "owner", "Value": "platform"}],
                    },
                ),
                (
                    "delete_tags",
                    {
                        "ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:model/pose-dev-model-0123abcd",
                        "TagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "monitoring-schedule",
            "pose-dev-monitor",
            "sagemaker",
            [
                (
                    "add_tags",
                    {
                        "ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:monitoring-schedule/pose-dev-monitor",
                        "Tags": [{"Key": "owner", "Value": "platform"}],
                    },
                ),
                (
                    "delete_tags",
                    {
                        "ResourceArn": f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:monitoring-schedule/pose-dev-monitor",
                        "TagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "alarm",
            "pose-dev-model-latency",
            "cloudwatch",
            [
                (
                    "tag_resource",
                    {
                        "ResourceARN": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:pose-dev-model-latency",
                        "Tags": [{"Key": "owner", "Value": "platform"}],
                    },
                ),
                (
                    "untag_resource",
                    {
                        "ResourceARN": f"arn:aws:cloudwatch:us-east-1:{ACCOUNT}:alarm:pose-dev-model-latency",
                        "TagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "function",
            "pose-dev-predict",
            "lambda",
            [
                (
                    "tag_resource",
                    {
                        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pose-dev-predict",
                        "Tags": {"owner": "platform"},
                    },
                ),
                (
                    "untag_resource",
                    {
                        "Resource": f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:pose-dev-predict",
                        "TagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "log-group",
            "/aws/lambda/pose-dev-predict",
            "logs",
            [
                (
                    "tag_resource",
                    {
                        "resourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/pose-dev-predict",
                        "tags": {"owner": "platform"},
                    },
                ),
                (
                    "untag_resource",
                    {
                        "resourceArn": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/pose-dev-predict",
                        "tagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "api-stage",
            "pose-dev-api stage $default",
            "apigatewayv2",
            [
                (
                    "tag_resource",
                    {
                        "ResourceArn": "arn:aws:apigateway:us-east-1::/apis/a1b2c3/stages/$default",
                        "Tags": {"owner": "platform"},
                    },
                ),
                (
                    "untag_resource",
                    {
                        "ResourceArn": "arn:aws:apigateway:us-east-1::/apis/a1b2c3/stages/$default",
                        "TagKeys": ["team"],
                    },
                ),
            ],
        ),
        (
            "bucket",
            NAME,
            "s3",
            [
                (
                    "put_bucket_tagging",
                    {
                        "Bucket": NAME,
                        "Tagging": {
                            "TagSet": [
                                {"Key": "owner", "Value": "platform"},
                                {"Key": "pose:deployment", "Value": "pose-dev"},
                            ]
                        },
                    },
                ),
            ],
        ),
    ],
)
def test_a_tag_change_sets_then_removes_in_each_services_spelling(tagging, kind, name, service, calls):
    api, stubbers = tagging
    for operation, params in calls:
        stubbers[service].add_response(operation, {}, params)

    api.change(change(kind, name, "a1b2c3"))


def test_tags_are_read_back_sorted_whatever_the_services_shape(tagging):
    api, stubbers = tagging
    arn = ARNS.of("endpoint", "pose-dev")
    stubbers["sagemaker"].add_response(
        "list_tags", {"Tags": [{"Key": "z", "Value": "1"}, {"Key": "a", "Value": "2"}]}, {"ResourceArn": arn}
    )
    stubbers["logs"].add_response(
        "list_tags_for_resource", {"tags": {"z": "1", "a": "2"}}, {"resourceArn": ARNS.of("log-group", "/g")}
    )

    assert read(api, "endpoint", "pose-dev", arn) == ResourceTags(
        "endpoint", "pose-dev", (("a", "2"), ("z", "1")), arn
    )
    assert read(api, "log-group", "/g", ARNS.of("log-group", "/g")).tags == (("a", "2"), ("z", "1"))


def test_an_apis_tags_and_its_stages_are_read_with_them(tagging):
    api, stubbers = tagging
    gateway = stubbers["apigatewayv2"]
    found = {
        "ApiId": "a1b2c3",
        "Name": "pose-dev-api",
        "ProtocolType": "HTTP",
        "RouteSelectionExpression": "x",
    }
    gateway.add_response("get_api", {**found, "Tags": {"owner": "ml-team"}}, {"ApiId": "a1b2c3"})
    gateway.add_response(
        "get_stage", {"StageName": "$default", "Tags": {}}, {"ApiId": "a1b2c3", "StageName": "$default"}
    )

    assert read(api, "http-api", "pose-dev-api", ARNS.of("http-api", "pose-dev-api", "a1b2c3")).tags == (
        ("owner", "ml-team"),
    )
    stage = "pose-dev-api stage $default"
    assert read(api, "api-stage", stage, ARNS.of("api-stage", stage, "a1b2c3")).tags == ()


def test_arns_follow_the_partition_of_the_region():
    names = replace(STATE.names, region="cn-north-1")

    assert Arns(names).of("function", "f") == f"arn:aws-cn:lambda:cn-north-1:{ACCOUNT}:function:f"


# The API is found by its name, even with its tags removed by hand.


def test_our_api_is_found_by_name_tagged_first_and_another_deployments_is_not(stubbed):
    client, stubber = stubbed("apigatewayv2")
    api = {"Name": "pose-dev-api", "ProtocolType": "HTTP", "RouteSelectionExpression": "x"}
    items = [
        {**api, "ApiId": "untagged", "ApiEndpoint": "https://untagged", "Tags": {}},
        {
            **api,
            "ApiId": "theirs",
            "ApiEndpoint": "https://theirs",
            "Tags": {"pose:deployment": "pose-other"},
        },
        {**api, "ApiId": "tagged", "ApiEndpoint": "https://tagged", "Tags": {"pose:deployment": "pose-dev"}},
        {**api, "Name": "pose-dev-api-2", "ApiId": "x", "ApiEndpoint": "https://x", "Tags": {}},
    ]
    stubber.add_response("get_apis", {"Items": items}, {})

    found = HttpApis(client).find_all("pose-dev-api", "pose-dev")

    assert [api.api_id for api in found] == ["tagged", "untagged"]
