"""Desired state of the web page: a private bucket, CloudFront over HTTPS in front of it, the files."""

from __future__ import annotations

import pytest

from deployment.config import Model
from deployment.errors import ConfigError
from deployment.resources.access_control import AccessControl
from deployment.resources.distribution import Distribution
from deployment.resources.placeholders import Variable
from deployment.resources.web_bucket import WebBucket, bucket_policy
from deployment.web_state import page_model_name
from deployment.website import static_files
from tests.unit.deployment.builders import desired
from webapp.render import STATIC

WEB_BUCKET = "pose-dev-123456789012-us-east-1-web"


def test_the_bucket_is_private_encrypted_and_no_website():
    assert desired().web.bucket == WebBucket(
        WEB_BUCKET, (True, True, True, True), "AES256", website=False, tags=()
    )  # the engine's tags are added by the planner


def test_the_distribution_serves_the_bucket_over_https_through_a_signing_access_control():
    web = desired().web

    assert web.access_control == AccessControl(
        "pose-dev-web", f"CloudFront reads {WEB_BUCKET} for pose-dev-web", "sigv4", "always", "s3"
    )
    assert web.distribution == Distribution(
        comment="pose-dev-web: the pose-estimation web page",
        origin_domain=f"{WEB_BUCKET}.s3.us-east-1.amazonaws.com",  # the REST endpoint, not the website's
        access_control_id=Variable("web.access_control_id"),  # its id: from the account, or from this run
        default_root_object="index.html",
        viewer_protocol_policy="redirect-to-https",
        allowed_methods=("GET", "HEAD"),
        cache_policy_id="658327ea-f89d-4fab-a63d-7e88639e58f6",  # CachingOptimized
        response_headers_policy_id="67f7725c-6f97-4210-82d7-5512b31e9d03",  # SecurityHeadersPolicy
        compress=True,
        price_class="PriceClass_100",
        http_version="http2and3",
        ipv6=True,
        default_certificate=True,
        enabled=True,
    )
    assert web.distribution.reference == "pose-dev-web"  # CallerReference, from the stage


def test_only_the_distribution_may_read_and_only_over_tls():
    arn = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHEXAMPLE"

    allow, deny = bucket_policy("b-web", arn)["Statement"]

    assert allow == {
        "Sid": "ReadByThePagesDistribution",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::b-web/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": arn}},
    }
    assert (deny["Effect"], deny["Principal"], deny["Action"], deny["Condition"]) == (
        "Deny",
        "*",
        "s3:*",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert deny["Resource"] == ["arn:aws:s3:::b-web", "arn:aws:s3:::b-web/*"]


def test_a_bucket_of_your_own_is_the_origin_in_its_region():
    web = desired({"webapp": {"bucket": "pose-demo-page"}, "project": {"region": "eu-central-1"}}).web

    assert web.bucket.name == web.page.bucket == "pose-demo-page"
    assert web.distribution.origin_domain == "pose-demo-page.s3.eu-central-1.amazonaws.com"


@pytest.mark.parametrize("region", ["cn-north-1", "us-gov-west-1"])
def test_a_region_without_cloudfronts_default_certificate_is_refused_for_the_page(region: str):
    with pytest.raises(ConfigError) as raised:
        desired({"project": {"region": region}})

    assert raised.value.where == "webapp.enabled"
    assert desired({"project": {"region": region}, "webapp": {"enabled": False}}).web is None


def test_every_static_file_is_published_under_static_with_its_type():
    files = desired().web.files

    assert [file.key for file in files] == [key for key, _ in static_files()]
    assert {file.key for file in files} == {f"static/{p.name}" for p in STATIC.iterdir() if p.is_file()}
    assert all(file.cache_control == "public, max-age=300" for file in files)
    assert all(not file.content_type.startswith("application/octet-stream") for file in files)


def test_the_page_is_never_cached_and_its_checksum_waits_for_the_apis_url():
    page = desired().web.page

    assert (page.key, page.content_type, page.cache_control, page.sha256) == (
        "index.html",
        "text/html; charset=utf-8",
        "no-cache",
        "",
    )


@pytest.mark.parametrize(
    ("model", "shown"),
    [
        (Model(name="movenet-thunder"), "movenet-thunder"),
        (Model(path="models/my_pose.tflite", family="movenet"), "my_pose"),
        (Model(url="https://example.com/m/pose_v2.tflite?x=1", sha256="0" * 64, family="movenet"), "pose_v2"),
    ],
)
def test_the_page_shows_the_models_name(model: Model, shown: str):
    assert page_model_name(model) == shown


def test_the_price_class_is_configurable_among_cloudfronts_three():
    assert (
        desired({"webapp": {"price_class": "PriceClass_All"}}).web.distribution.price_class
        == "PriceClass_All"
    )
    with pytest.raises(ConfigError) as raised:
        desired({"webapp": {"price_class": "PriceClass_Cheap"}})

    assert str(raised.value).startswith("config: webapp.price_class: Input should be 'PriceClass_100'")
