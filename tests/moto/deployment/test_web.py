"""The web page through the CLI against moto: private bucket, CloudFront over HTTPS, repair, crashes."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

import deployment.aws.website
from deployment.naming import PROJECT_TAG
from deployment.website import static_files
from tests.moto.deployment.conftest import ACCOUNT, REGION
from tests.moto.deployment.inventory import tagged_resources

NO_MONITORING = ("--set", "monitoring.enabled=false")
WEB_BUCKET = f"pose-dev-{ACCOUNT}-{REGION}-web"
TAGS = {"owner": "ml-team", PROJECT_TAG: "pose-dev"}
PRIVATE = dict.fromkeys(
    ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
)


def mutating(calls) -> list[tuple[str, str]]:
    return [(call.service, call.operation) for call in calls if call.mutates]


def outputs(result) -> dict[str, str]:
    return dict(line.split("=", 1) for line in result.out.splitlines() if "=" in line and " " not in line)


def distribution(console) -> dict:
    cloudfront = console.client("cloudfront")
    (summary,) = cloudfront.list_distributions()["DistributionList"]["Items"]
    return cloudfront.get_distribution(Id=summary["Id"])["Distribution"]


def test_the_page_is_served_over_https_by_a_distribution_signing_its_requests_to_the_bucket(run, console):
    result = run("deploy", *NO_MONITORING)

    assert result.code == 0, result.err
    found = distribution(console)
    assert outputs(result)["web_url"] == f"https://{found['DomainName']}/"
    config = found["DistributionConfig"]
    (origin,) = config["Origins"]["Items"]
    assert origin["DomainName"] == f"{WEB_BUCKET}.s3.{REGION}.amazonaws.com"  # REST, not the website endpoint
    cloudfront = console.client("cloudfront")
    control = cloudfront.get_origin_access_control(Id=origin["OriginAccessControlId"])["OriginAccessControl"]
    assert control["OriginAccessControlConfig"] | {"Description": ""} == {
        "Name": "pose-dev-web",
        "Description": "",
        "SigningProtocol": "sigv4",
        "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3",
    }
    behavior = config["DefaultCacheBehavior"]
    assert (behavior["ViewerProtocolPolicy"], config["DefaultRootObject"], config["Enabled"]) == (
        "redirect-to-https",
        "index.html",
        True,
    )
    assert (config["PriceClass"], config["HttpVersion"], config["CallerReference"]) == (
        "PriceClass_100",
        "http2and3",
        "pose-dev-web",
    )
    assert tagged_resources(console)[("distribution", config["Comment"])] == TAGS


def test_the_web_bucket_is_private_encrypted_tagged_and_readable_by_the_distribution_alone(run, console):
    assert run("deploy", *NO_MONITORING).code == 0
    s3 = console.client("s3")

    assert s3.get_public_access_block(Bucket=WEB_BUCKET)["PublicAccessBlockConfiguration"] == PRIVATE
    (rule,) = s3.get_bucket_encryption(Bucket=WEB_BUCKET)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert {tag["Key"]: tag["Value"] for tag in s3.get_bucket_tagging(Bucket=WEB_BUCKET)["TagSet"]} == TAGS
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchWebsiteConfiguration"):
        s3.get_bucket_website(Bucket=WEB_BUCKET)
    allow, deny = json.loads(s3.get_bucket_policy(Bucket=WEB_BUCKET)["Policy"])["Statement"]
    assert (allow["Effect"], allow["Principal"], allow["Action"]) == (
        "Allow",
        {"Service": "cloudfront.amazonaws.com"},
        "s3:GetObject",
    )
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": distribution(console)["ARN"]}}
    assert (deny["Effect"], deny["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


def test_every_asset_is_published_with_its_type_a_short_cache_and_a_checksum_s3_verified(run, console):
    assert run("deploy", *NO_MONITORING).code == 0
    s3 = console.client("s3")

    for key, path in static_files():
        found = s3.head_object(Bucket=WEB_BUCKET, Key=key, ChecksumMode="ENABLED")
        digest = base64.b64encode(hashlib.sha256(path.read_bytes()).digest()).decode()
        assert (found["ChecksumSHA256"], found["CacheControl"]) == (digest, "public, max-age=300"), key
    page = s3.get_object(Bucket=WEB_BUCKET, Key="index.html")
    assert (page["ContentType"], page["CacheControl"]) == ("text/html; charset=utf-8", "no-cache")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=WEB_BUCKET)["Contents"]}
    assert keys == {"index.html", *(key for key, _ in static_files())}


def test_an_asset_rewritten_in_place_with_its_old_metadata_is_uploaded_again(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    s3 = console.client("s3")
    old = s3.head_object(Bucket=WEB_BUCKET, Key="static/app.js")
    s3.put_object(
        Bucket=WEB_BUCKET,
        Key="static/app.js",
        Body=b"alert('altered')",
        ContentType=old["ContentType"],
        CacheControl=old["CacheControl"],
        Metadata={"sha256": hashlib.sha256(dict(static_files())["static/app.js"].read_bytes()).hexdigest()},
    )

    planned = run("plan", *NO_MONITORING)
    mark = account.mark()
    assert run("deploy", *NO_MONITORING).code == 0

    assert (
        f"~ update    web-file             s3://{WEB_BUCKET}/static/app.js  (changed: sha256)" in planned.out
    )
    assert [(c.operation, c.params.get("Key")) for c in account.since(mark) if c.mutates] == [
        ("PutObject", "static/app.js"),
        ("CreateInvalidation", None),
    ]
    (invalidation,) = account.requests("CreateInvalidation")
    assert invalidation["InvalidationBatch"]["Paths"] == {"Quantity": 1, "Items": ["/static/*"]}
    body = s3.get_object(Bucket=WEB_BUCKET, Key="static/app.js")["Body"].read()
    assert body == dict(static_files())["static/app.js"].read_bytes()


def test_bucket_settings_changed_by_hand_are_read_back_and_repaired(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    s3 = console.client("s3")
    s3.put_public_access_block(
        Bucket=WEB_BUCKET, PublicAccessBlockConfiguration=dict.fromkeys(PRIVATE, False)
    )
    public = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{WEB_BUCKET}/*",
    }
    s3.put_bucket_policy(
        Bucket=WEB_BUCKET, Policy=json.dumps({"Version": "2012-10-17", "Statement": [public]})
    )
    s3.put_bucket_website(Bucket=WEB_BUCKET, WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}})
    s3.delete_bucket_encryption(Bucket=WEB_BUCKET)
    s3.put_bucket_tagging(Bucket=WEB_BUCKET, Tagging={"TagSet": [{"Key": PROJECT_TAG, "Value": "pose-dev"}]})
    mark = account.mark()

    assert run("deploy", *NO_MONITORING).code == 0

    assert mutating(account.since(mark)) == [
        ("s3", "PutBucketTagging"),
        ("s3", "PutPublicAccessBlock"),
        ("s3", "PutBucketEncryption"),
        ("s3", "DeleteBucketWebsite"),
        ("s3", "PutBucketPolicy"),
    ]
    assert s3.get_public_access_block(Bucket=WEB_BUCKET)["PublicAccessBlockConfiguration"] == PRIVATE
    statements = json.loads(s3.get_bucket_policy(Bucket=WEB_BUCKET)["Policy"])["Statement"]
    assert all(s["Principal"] != "*" for s in statements if s["Effect"] == "Allow")
    assert run("plan", *NO_MONITORING).out.splitlines()[-1] == "plan: no changes"


def test_a_distribution_changed_by_hand_is_set_back_on_the_same_distribution(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    cloudfront = console.client("cloudfront")
    found = distribution(console)
    current = cloudfront.get_distribution_config(Id=found["Id"])
    config = current["DistributionConfig"]
    config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] = "allow-all"
    config["PriceClass"] = "PriceClass_All"
    cloudfront.update_distribution(Id=found["Id"], IfMatch=current["ETag"], DistributionConfig=config)
    cloudfront.tag_resource(Resource=found["ARN"], Tags={"Items": [{"Key": "temp", "Value": "x"}]})
    mark = account.mark()

    assert run("deploy", *NO_MONITORING).code == 0

    assert mutating(account.since(mark)) == [
        ("cloudfront", "UpdateDistribution"),
        ("cloudfront", "UntagResource"),
        ("cloudfront", "TagResource"),
    ]
    config = distribution(console)["DistributionConfig"]
    assert (config["DefaultCacheBehavior"]["ViewerProtocolPolicy"], config["PriceClass"]) == (
        "redirect-to-https",
        "PriceClass_100",
    )
    assert run("plan", *NO_MONITORING).out.splitlines()[-1] == "plan: no changes"


def test_a_distribution_whose_tag_was_removed_is_found_by_its_reference_not_duplicated(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    cloudfront = console.client("cloudfront")
    found = distribution(console)
    cloudfront.untag_resource(Resource=found["ARN"], TagKeys={"Items": [PROJECT_TAG]})

    result = run("deploy", *NO_MONITORING)

    assert result.code == 0, result.err
    assert distribution(console)["Id"] == found["Id"]  # still one, the same
    assert outputs(result)["web_url"] == f"https://{found['DomainName']}/"
    assert run("plan", *NO_MONITORING).out.splitlines()[-1] == "plan: no changes"


class Killed(BaseException):
    """The deploy's process ends here (a cancelled CI job): nothing after this call runs."""


def test_a_deploy_killed_right_after_create_bucket_converges_and_destroy_removes_the_bucket(
    run, console, monkeypatch
):
    def killed(self, bucket) -> None:
        raise Killed

    with monkeypatch.context() as crash:
        crash.setattr(deployment.aws.website.Website, "_configure", killed)
        with pytest.raises(Killed):
            run("deploy", *NO_MONITORING)
    s3 = console.client("s3")
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket=WEB_BUCKET)  # CreateBucket happened, nothing after it

    planned = run("plan", *NO_MONITORING)
    deployed = run("deploy", *NO_MONITORING)

    assert deployed.code == 0, deployed.err
    assert "~ update    web-bucket           " in planned.out and "(empty and untagged" in planned.out
    assert s3.get_public_access_block(Bucket=WEB_BUCKET)["PublicAccessBlockConfiguration"] == PRIVATE
    assert run("plan", *NO_MONITORING).out.splitlines()[-1] == "plan: no changes"
    assert run("destroy", *NO_MONITORING).code == 0
    assert s3.list_buckets()["Buckets"] == []


def test_a_bucket_left_by_a_deploy_killed_before_anything_else_is_removed_by_destroy(run, console):
    console.client("s3").create_bucket(Bucket=WEB_BUCKET)  # all a killed first deploy made

    result = run("destroy", *NO_MONITORING)

    assert (result.code, result.out.splitlines()[-1]) == (0, "destroyed pose-dev: 1 resources removed")
    assert console.client("s3").list_buckets()["Buckets"] == []


def test_destroy_resumes_a_distribution_a_killed_destroy_had_disabled(run, account, console):
    assert run("deploy", *NO_MONITORING).code == 0
    cloudfront = console.client("cloudfront")
    found = distribution(console)
    current = cloudfront.get_distribution_config(Id=found["Id"])
    disabled = {**current["DistributionConfig"], "Enabled": False}
    cloudfront.update_distribution(Id=found["Id"], IfMatch=current["ETag"], DistributionConfig=disabled)
    mark = account.mark()

    result = run("destroy", *NO_MONITORING)

    assert result.code == 0, result.err
    cloudfront_calls = [call.operation for call in account.since(mark) if call.service == "cloudfront"]
    assert "UpdateDistribution" not in cloudfront_calls and "DeleteDistribution" in cloudfront_calls
    assert cloudfront.list_distributions()["DistributionList"]["Quantity"] == 0


def test_a_web_bucket_name_someone_else_uses_is_refused_and_left_untouched(run, console):
    s3 = console.client("s3")
    s3.create_bucket(Bucket="their-page")
    s3.put_object(Bucket="their-page", Key="index.html", Body=b"theirs")

    result = run("deploy", *NO_MONITORING, "--set", "webapp.bucket=their-page")

    assert result.code == 1
    assert result.err == (
        "error: s3://their-page: the bucket exists but is not this deployment's (another deployment's tag, "
        "or objects in it); the engine sets a web bucket's policy and deletes what webapp/static does not "
        "ship, so it only uses a bucket it created or an empty, untagged one "
        "(hint: set webapp.bucket to a new name)\n"
    )
    with pytest.raises(s3.exceptions.ClientError, match="NoSuchBucketPolicy"):
        s3.get_bucket_policy(Bucket="their-page")
    assert s3.get_object(Bucket="their-page", Key="index.html")["Body"].read() == b"theirs"
