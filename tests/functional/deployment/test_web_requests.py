"""CloudFront and S3 requests for the web page, exact to the parameter.

moto drops parts of a distribution's configuration and ignores IfMatch and ExpectedBucketOwner;
the Stubber checks every request against botocore's model and against what is written here by hand.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from botocore.stub import ANY

from deployment.aws.cdn import Cdn
from deployment.aws.website import Website
from deployment.errors import DeploymentError
from deployment.naming import Names
from deployment.resources.web_bucket import BucketPolicy, WebBucket
from deployment.resources.web_files import WebFile
from tests.unit.deployment.builders import desired

ACCOUNT = "123456789012"
NAMES = Names("pose-dev", ACCOUNT, "us-east-1")
TAGS = (("owner", "ml-team"), ("pose:deployment", "pose-dev"))
TAG_LIST = [{"Key": "owner", "Value": "ml-team"}, {"Key": "pose:deployment", "Value": "pose-dev"}]
BUCKET = f"pose-dev-{ACCOUNT}-us-east-1-web"
STATE = desired({"project": {"tags": {"owner": "ml-team"}}})
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
ID = "E2QWRUHEXAMPLE"
ARN = f"arn:aws:cloudfront::{ACCOUNT}:distribution/{ID}"
DOMAIN = "d111111abcdef8.cloudfront.net"
OAC_ID = "E1OACEXAMPLE"
COMMENT = "pose-dev-web: the pose-estimation web page"
OAC_CONFIG = {
    "Name": "pose-dev-web",
    "Description": f"CloudFront reads {BUCKET} for pose-dev-web",
    "SigningProtocol": "sigv4",
    "SigningBehavior": "always",
    "OriginAccessControlOriginType": "s3",
}
ORIGIN = {
    "Id": "web-bucket",
    "DomainName": f"{BUCKET}.s3.us-east-1.amazonaws.com",
    "OriginPath": "",
    "S3OriginConfig": {"OriginAccessIdentity": ""},
    "OriginAccessControlId": OAC_ID,
}
GET_HEAD = {"Quantity": 2, "Items": ["GET", "HEAD"]}
# The whole configuration of a new distribution, as CloudFront's API reference spells it.
CONFIG = {
    "CallerReference": "pose-dev-web",
    "Comment": COMMENT,
    "Enabled": True,
    "DefaultRootObject": "index.html",
    "Origins": {"Quantity": 1, "Items": [ORIGIN]},
    "DefaultCacheBehavior": {
        "TargetOriginId": "web-bucket",
        "ViewerProtocolPolicy": "redirect-to-https",
        "AllowedMethods": {**GET_HEAD, "CachedMethods": GET_HEAD},
        "Compress": True,
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6",  # Managed-CachingOptimized
        "ResponseHeadersPolicyId": "67f7725c-6f97-4210-82d7-5512b31e9d03",  # Managed-SecurityHeadersPolicy
    },
    "PriceClass": "PriceClass_100",
    "HttpVersion": "http2and3",
    "IsIPV6Enabled": True,
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
}
WANTED = replace(STATE.web.distribution, access_control_id=OAC_ID)


def answer(config: dict, status: str = "Deployed") -> dict:
    """GetDistribution's answer (also CreateDistributionWithTags' and UpdateDistribution's)."""
    return {
        "Distribution": {
            "Id": ID,
            "ARN": ARN,
            "Status": status,
            "LastModifiedTime": NOW,
            "InProgressInvalidationBatches": 0,
            "DomainName": DOMAIN,
            "DistributionConfig": config,
        },
        "ETag": "E2",
    }


def summary(distribution_id: str, comment: str) -> dict:
    return {
        "Id": distribution_id,
        "ARN": f"arn:aws:cloudfront::{ACCOUNT}:distribution/{distribution_id}",
        "Status": "Deployed",
        "LastModifiedTime": NOW,
        "DomainName": DOMAIN,
        "Aliases": {"Quantity": 0},
        "Origins": CONFIG["Origins"],
        "DefaultCacheBehavior": CONFIG["DefaultCacheBehavior"],
        "CacheBehaviors": {"Quantity": 0},
        "CustomErrorResponses": {"Quantity": 0},
        "Comment": comment,
        "PriceClass": "PriceClass_100",
        "Enabled": True,
        "ViewerCertificate": {"CloudFrontDefaultCertificate": True},
        "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}},
        "WebACLId": "",
        "HttpVersion": "http2and3",
        "IsIPV6Enabled": True,
        "Staging": False,
    }


def listing(*summaries: dict) -> dict:
    return {
        "DistributionList": {
            "Marker": "",
            "MaxItems": 100,
            "IsTruncated": False,
            "Quantity": len(summaries),
            "Items": list(summaries),
        }
    }


@pytest.fixture
def cdn(stubbed):
    client, stubber = stubbed("cloudfront")
    yield Cdn(client), stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def s3(stubbed):
    client, stubber = stubbed("s3")
    yield Website(client, "us-east-1"), stubber
    stubber.assert_no_pending_responses()


def test_a_new_distribution_is_created_with_its_tags_in_one_request(cdn):
    cloudfront, stubber = cdn
    stubber.add_response(
        "create_distribution_with_tags",
        {
            **answer(CONFIG, "InProgress"),
            "Location": f"https://cloudfront.amazonaws.com/2020-05-31/distribution/{ID}",
        },
        {"DistributionConfigWithTags": {"DistributionConfig": CONFIG, "Tags": {"Items": TAG_LIST}}},
    )

    created = cloudfront.create(WANTED, TAGS)

    assert created == replace(WANTED, distribution_id=ID, arn=ARN, domain_name=DOMAIN, status="InProgress")
    assert (created.url, created.etag, created.reference) == (f"https://{DOMAIN}/", "E2", "pose-dev-web")


def test_a_distribution_a_lost_run_created_is_found_by_its_reference_and_adopted(cdn):
    cloudfront, stubber = cdn
    request = {"DistributionConfigWithTags": {"DistributionConfig": CONFIG, "Tags": {"Items": TAG_LIST}}}
    stubber.add_client_error(
        "create_distribution_with_tags", "DistributionAlreadyExists", "taken", 409, request
    )
    stubber.add_response(
        "list_distributions", listing(summary("EOTHER", "theirs"), summary(ID, "edited")), {}
    )
    theirs = {**CONFIG, "CallerReference": "someone-else"}
    stubber.add_response(
        "get_distribution_config", {"DistributionConfig": theirs, "ETag": "X"}, {"Id": "EOTHER"}
    )
    edited = {**CONFIG, "Comment": "edited by hand"}
    stubber.add_response("get_distribution_config", {"DistributionConfig": edited, "ETag": "E1"}, {"Id": ID})
    stubber.add_response("get_distribution", answer(edited), {"Id": ID})
    stubber.add_response("list_tags_for_resource", {"Tags": {"Items": []}}, {"Resource": ARN})
    stubber.add_response("tag_resource", {}, {"Resource": ARN, "Tags": {"Items": TAG_LIST}})
    stubber.add_response("get_distribution_config", {"DistributionConfig": edited, "ETag": "E1"}, {"Id": ID})
    stubber.add_response(
        "update_distribution",
        answer(CONFIG, "InProgress"),
        {"Id": ID, "IfMatch": "E1", "DistributionConfig": CONFIG},
    )

    adopted = cloudfront.create(WANTED, TAGS)

    assert (adopted.distribution_id, adopted.comment, adopted.status) == (ID, COMMENT, "InProgress")


def test_a_reference_only_a_deleted_distribution_held_moves_on_to_the_next_one(cdn):
    cloudfront, stubber = cdn
    request = {"DistributionConfigWithTags": {"DistributionConfig": CONFIG, "Tags": {"Items": TAG_LIST}}}
    stubber.add_client_error(
        "create_distribution_with_tags", "DistributionAlreadyExists", "taken", 409, request
    )
    stubber.add_response("list_distributions", listing(), {})
    second = {**CONFIG, "CallerReference": "pose-dev-web-2"}
    stubber.add_response(
        "create_distribution_with_tags",
        answer(second, "InProgress"),
        {"DistributionConfigWithTags": {"DistributionConfig": second, "Tags": {"Items": TAG_LIST}}},
    )

    assert cloudfront.create(WANTED, TAGS).reference == "pose-dev-web-2"


def test_ours_is_the_distribution_with_our_comment_and_our_tag(cdn):
    cloudfront, stubber = cdn
    stubber.add_response(
        "list_distributions",
        listing(summary("EUNRELATED", "a blog"), summary("ESTAGE2", COMMENT), summary(ID, COMMENT)),
        {},
    )
    other_stage = [{"Key": "pose:deployment", "Value": "pose-other"}]
    stubber.add_response(
        "list_tags_for_resource",
        {"Tags": {"Items": other_stage}},
        {"Resource": f"arn:aws:cloudfront::{ACCOUNT}:distribution/ESTAGE2"},
    )
    stubber.add_response("list_tags_for_resource", {"Tags": {"Items": TAG_LIST}}, {"Resource": ARN})
    stubber.add_response("get_distribution", answer(CONFIG), {"Id": ID})

    found, tags = cloudfront.find(COMMENT, "pose-dev")

    assert found == replace(
        WANTED, distribution_id=ID, arn=ARN, domain_name=DOMAIN, status="Deployed", etag="E2"
    )
    assert tags == TAGS


def test_an_update_sets_our_settings_on_the_current_version_and_keeps_an_origin_added_by_hand(cdn):
    cloudfront, stubber = cdn
    extra = {
        "Id": "logs",
        "DomainName": "logs.example.com",
        "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"},
    }
    current = {
        **CONFIG,
        "Enabled": False,
        "Origins": {"Quantity": 2, "Items": [{**ORIGIN, "OriginAccessControlId": ""}, extra]},
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    }
    stubber.add_response("get_distribution_config", {"DistributionConfig": current, "ETag": "E7"}, {"Id": ID})
    wanted = {**current, **{key: value for key, value in CONFIG.items() if key != "CallerReference"}}
    wanted["Origins"] = {"Quantity": 2, "Items": [ORIGIN, extra]}
    stubber.add_response(
        "update_distribution",
        answer(wanted, "InProgress"),
        {"Id": ID, "IfMatch": "E7", "DistributionConfig": wanted},
    )

    updated = cloudfront.update(replace(WANTED, distribution_id=ID))

    assert (updated.enabled, updated.access_control_id, updated.status) == (True, OAC_ID, "InProgress")


def test_a_delete_disables_first_then_names_the_version_it_deletes(cdn):
    cloudfront, stubber = cdn
    stubber.add_response("get_distribution_config", {"DistributionConfig": CONFIG, "ETag": "E2"}, {"Id": ID})
    disabled = {**CONFIG, "Enabled": False}
    stubber.add_response(
        "update_distribution",
        answer(disabled, "InProgress"),
        {"Id": ID, "IfMatch": "E2", "DistributionConfig": disabled},
    )
    stubber.add_response("delete_distribution", {}, {"Id": ID, "IfMatch": "E3"})

    off = cloudfront.disable(ID)
    cloudfront.delete(replace(off, status="Deployed", etag="E3"))

    assert (off.enabled, off.status) == (False, "InProgress")


def test_a_distribution_deleted_meanwhile_reads_as_none(cdn):
    cloudfront, stubber = cdn
    stubber.add_client_error("get_distribution", "NoSuchDistribution", "gone", 404, {"Id": ID})

    assert cloudfront.read(ID) is None


def test_tags_are_set_to_exactly_the_engines(cdn):
    cloudfront, stubber = cdn
    by_hand = [{"Key": "pose:deployment", "Value": "pose-dev"}, {"Key": "temp", "Value": "x"}]
    stubber.add_response("list_tags_for_resource", {"Tags": {"Items": by_hand}}, {"Resource": ARN})
    stubber.add_response("untag_resource", {}, {"Resource": ARN, "TagKeys": {"Items": ["temp"]}})
    stubber.add_response("tag_resource", {}, {"Resource": ARN, "Tags": {"Items": TAG_LIST}})

    cloudfront.set_tags(ARN, TAGS)


def test_changed_paths_are_invalidated_under_the_reference_of_the_change(cdn):
    cloudfront, stubber = cdn
    batch = {"Paths": {"Quantity": 2, "Items": ["/", "/index.html"]}, "CallerReference": "pose-dev-web-0123"}
    created = {"Id": "I2J0I21PCUYOIK", "Status": "InProgress", "CreateTime": NOW, "InvalidationBatch": batch}
    stubber.add_response(
        "create_invalidation", {"Invalidation": created}, {"DistributionId": ID, "InvalidationBatch": batch}
    )
    stubber.add_response(
        "get_invalidation",
        {"Invalidation": {**created, "Status": "Completed"}},
        {"DistributionId": ID, "Id": "I2J0I21PCUYOIK"},
    )

    invalidation_id = cloudfront.invalidate(ID, ("/", "/index.html"), "pose-dev-web-0123")

    assert cloudfront.invalidation_status(ID, invalidation_id) == "Completed"


def test_the_access_control_signs_every_request_with_sigv4(cdn):
    cloudfront, stubber = cdn
    stubber.add_response(
        "create_origin_access_control",
        {"OriginAccessControl": {"Id": OAC_ID, "OriginAccessControlConfig": OAC_CONFIG}, "ETag": "E1"},
        {"OriginAccessControlConfig": OAC_CONFIG},
    )
    stubber.add_response(
        "list_origin_access_controls",
        {
            "OriginAccessControlList": {
                "Marker": "",
                "MaxItems": 100,
                "IsTruncated": False,
                "Quantity": 1,
                "Items": [{"Id": OAC_ID, **OAC_CONFIG}],
            }
        },
        {},
    )

    assert cloudfront.create_access_control(STATE.web.access_control) == OAC_ID
    assert cloudfront.find_access_control("pose-dev-web") == replace(
        STATE.web.access_control, control_id=OAC_ID
    )


def test_an_access_control_a_lost_run_created_is_taken_over(cdn):
    cloudfront, stubber = cdn
    stubber.add_client_error(
        "create_origin_access_control",
        "OriginAccessControlAlreadyExists",
        "exists",
        409,
        {"OriginAccessControlConfig": OAC_CONFIG},
    )
    found = {**OAC_CONFIG, "Description": "old", "Id": OAC_ID}
    oac_list = {"Marker": "", "MaxItems": 100, "IsTruncated": False, "Quantity": 1, "Items": [found]}
    stubber.add_response("list_origin_access_controls", {"OriginAccessControlList": oac_list}, {})
    stubber.add_response(
        "get_origin_access_control", {"OriginAccessControl": {"Id": OAC_ID}, "ETag": "E5"}, {"Id": OAC_ID}
    )
    stubber.add_response(
        "update_origin_access_control",
        {},
        {"Id": OAC_ID, "IfMatch": "E5", "OriginAccessControlConfig": OAC_CONFIG},
    )
    stubber.add_response(
        "get_origin_access_control", {"OriginAccessControl": {"Id": OAC_ID}, "ETag": "E6"}, {"Id": OAC_ID}
    )
    stubber.add_response("delete_origin_access_control", {}, {"Id": OAC_ID, "IfMatch": "E6"})

    assert cloudfront.create_access_control(STATE.web.access_control) == OAC_ID
    cloudfront.delete_access_control(OAC_ID)


def test_a_new_web_bucket_is_tagged_first_then_made_private_and_encrypted(s3):
    website, stubber = s3
    stubber.add_response("create_bucket", {}, {"Bucket": BUCKET})
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": BUCKET, "Tagging": {"TagSet": TAG_LIST}})
    private = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": BUCKET, "PublicAccessBlockConfiguration": private}
    )
    sse_s3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    stubber.add_response(
        "put_bucket_encryption", {}, {"Bucket": BUCKET, "ServerSideEncryptionConfiguration": sse_s3}
    )

    website.create_bucket(STATE.web.bucket, TAGS)


def test_a_repaired_bucket_also_loses_the_website_endpoint_of_earlier_versions(stubbed):
    client, stubber = stubbed("s3", "eu-west-1")
    bucket = replace(STATE.web.bucket, tags=TAGS)
    stubber.add_response("put_bucket_tagging", {}, {"Bucket": BUCKET, "Tagging": {"TagSet": TAG_LIST}})
    stubber.add_response(
        "put_public_access_block", {}, {"Bucket": BUCKET, "PublicAccessBlockConfiguration": ANY}
    )
    stubber.add_response(
        "put_bucket_encryption", {}, {"Bucket": BUCKET, "ServerSideEncryptionConfiguration": ANY}
    )
    stubber.add_response("delete_bucket_website", {}, {"Bucket": BUCKET})

    Website(client, "eu-west-1").configure_bucket(bucket)
    stubber.assert_no_pending_responses()


def test_only_our_bucket_has_its_settings_read(s3):
    website, stubber = s3
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT})
    stubber.add_response("get_bucket_tagging", {"TagSet": TAG_LIST}, {"Bucket": BUCKET})
    public = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), False
    )
    stubber.add_response(
        "get_public_access_block", {"PublicAccessBlockConfiguration": public}, {"Bucket": BUCKET}
    )
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}
    stubber.add_response(
        "get_bucket_encryption", {"ServerSideEncryptionConfiguration": kms}, {"Bucket": BUCKET}
    )
    stubber.add_response(
        "get_bucket_website", {"IndexDocument": {"Suffix": "index.html"}}, {"Bucket": BUCKET}
    )
    stubber.add_response("head_bucket", {}, {"Bucket": "theirs-web", "ExpectedBucketOwner": ACCOUNT})
    stubber.add_response(
        "get_bucket_tagging", {"TagSet": [{"Key": "pose:deployment", "Value": "x"}]}, {"Bucket": "theirs-web"}
    )

    assert website.read_bucket(BUCKET, NAMES) == (
        WebBucket(BUCKET, (False,) * 4, "aws:kms", True, TAGS),
        True,
    )
    assert website.read_bucket("theirs-web", NAMES)[1] is False


def untagged(stubber, contents: list[dict]) -> None:
    stubber.add_response("head_bucket", {}, {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT})
    stubber.add_client_error("get_bucket_tagging", "NoSuchTagSet", "none", 404, {"Bucket": BUCKET})
    listed = {"Contents": contents, "IsTruncated": False} if contents else {"IsTruncated": False}
    stubber.add_response("list_objects_v2", listed, {"Bucket": BUCKET, "MaxKeys": 1})


def test_an_empty_untagged_bucket_is_ours_and_one_holding_objects_is_not(s3):
    website, stubber = s3
    untagged(stubber, [])  # what a deploy stopped right after CreateBucket leaves
    stubber.add_client_error(
        "get_public_access_block", "NoSuchPublicAccessBlockConfiguration", "none", 404, {"Bucket": BUCKET}
    )
    sse_s3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
    stubber.add_response(
        "get_bucket_encryption", {"ServerSideEncryptionConfiguration": sse_s3}, {"Bucket": BUCKET}
    )
    stubber.add_client_error(
        "get_bucket_website", "NoSuchWebsiteConfiguration", "none", 404, {"Bucket": BUCKET}
    )
    untagged(stubber, [{"Key": "photo.jpg"}])

    assert website.read_bucket(BUCKET, NAMES) == (WebBucket(BUCKET, (False,) * 4, "AES256", False, ()), True)
    assert website.read_bucket(BUCKET, NAMES)[1] is False


def test_a_bucket_name_another_account_holds_is_an_error_naming_the_setting(s3):
    website, stubber = s3
    stubber.add_client_error(
        "head_bucket", "403", "Forbidden", 403, {"Bucket": BUCKET, "ExpectedBucketOwner": ACCOUNT}
    )

    with pytest.raises(DeploymentError, match="belongs to another account") as raised:
        website.read_bucket(BUCKET, NAMES)

    assert raised.value.hint == "bucket names are global; set webapp.bucket to a name you own"


def test_the_policy_is_written_and_read_back_in_one_spelling(s3):
    website, stubber = s3
    document = json.dumps({"Version": "2012-10-17", "Statement": []}, sort_keys=True, separators=(",", ":"))
    stubber.add_response("put_bucket_policy", {}, {"Bucket": BUCKET, "Policy": document})
    stubber.add_response(
        "get_bucket_policy", {"Policy": '{"Statement": [], "Version": "2012-10-17"}'}, {"Bucket": BUCKET}
    )

    website.put_policy(BucketPolicy(BUCKET, document))

    assert website.read_policy(BUCKET) == BucketPolicy(BUCKET, document)


def test_an_asset_is_uploaded_with_a_sha256_s3_verifies_and_keeps(s3):
    website, stubber = s3
    script = next(file for file in STATE.web.files if file.key == "static/app.js")
    digest = hashlib.sha256(Path(script.path).read_bytes()).digest()
    stubber.add_response(
        "put_object",
        {},
        {
            "Bucket": BUCKET,
            "Key": "static/app.js",
            "Body": ANY,
            "ContentType": "text/javascript; charset=utf-8",
            "CacheControl": "public, max-age=300",
            "ChecksumAlgorithm": "SHA256",
            "ChecksumSHA256": base64.b64encode(digest).decode(),
        },
    )

    website.put_file(script)


def test_objects_are_read_back_by_the_checksum_s3_holds_not_by_their_metadata(s3):
    website, stubber = s3
    sha256 = "ab" * 32
    contents = [{"Key": "index.html"}, {"Key": "static/app.js"}, {"Key": "static/big.js"}]
    stubber.add_response("list_objects_v2", {"Contents": contents, "IsTruncated": False}, {"Bucket": BUCKET})
    stubber.add_response(
        "head_object",
        {
            "ContentType": "text/html; charset=utf-8",
            "CacheControl": "no-cache",
            "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha256)).decode(),
        },
        {"Bucket": BUCKET, "Key": "index.html", "ChecksumMode": "ENABLED"},
    )
    stubber.add_response(
        "head_object",
        {"ContentType": "text/javascript", "CacheControl": "x", "Metadata": {"sha256": sha256}},  # a claim
        {"Bucket": BUCKET, "Key": "static/app.js", "ChecksumMode": "ENABLED"},
    )
    stubber.add_response(
        "head_object",
        {
            "ContentType": "text/javascript",
            "CacheControl": "x",
            "ChecksumSHA256": "q83vEjRWeJA=-3",
        },  # multipart
        {"Bucket": BUCKET, "Key": "static/big.js", "ChecksumMode": "ENABLED"},
    )

    files, page = website.read_objects(BUCKET)

    assert page.sha256 == sha256
    assert files == (
        WebFile(BUCKET, "static/app.js", "text/javascript", "x", ""),
        WebFile(BUCKET, "static/big.js", "text/javascript", "x", ""),
    )
