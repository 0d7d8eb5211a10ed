"""Desired state of the public side: a reproducible Lambda zip, the CORS origins, the page's files and URLs."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

import pytest

from deployment.api_state import page_model_name
from deployment.config import Model
from deployment.lambda_package import HANDLER_SOURCE, build_zip, code_sha256, handler_zip
from deployment.website import origin_of, page_source_sha256, static_files, website_url
from tests.unit.deployment.builders import desired
from webapp.render import STATIC

WEB_ORIGIN = "http://pose-dev-123456789012-us-east-1-web.s3-website-us-east-1.amazonaws.com"


def test_the_zip_holds_only_the_handler_with_fixed_time_and_mode():
    archive = zipfile.ZipFile(io.BytesIO(handler_zip()))

    (entry,) = archive.infolist()
    assert (entry.filename, entry.date_time, entry.external_attr >> 16) == (
        "lambda_proxy.py",
        (1980, 1, 1, 0, 0, 0),
        0o100644,
    )
    assert archive.read(entry) == HANDLER_SOURCE.read_bytes()


def test_the_same_source_gives_the_same_bytes_and_lambdas_code_sha256():
    source = HANDLER_SOURCE.read_bytes()

    assert build_zip(source) == build_zip(source) == handler_zip()
    assert code_sha256(handler_zip()) == base64.b64encode(hashlib.sha256(handler_zip()).digest()).decode()
    assert code_sha256(build_zip(source + b"\n")) != code_sha256(handler_zip())


def test_the_function_calls_this_deployments_endpoint_with_the_lambda_limits_of_an_http_api():
    function = desired().api.function

    assert (function.runtime, function.handler, function.timeout_seconds, function.memory_mb) == (
        "python3.12",
        "lambda_proxy.handler",
        29,
        256,
    )
    assert function.environment == (("ENDPOINT_NAME", "pose-dev"),)
    assert function.code_sha256 == code_sha256(function.zip_file)


def test_the_lambda_role_may_invoke_only_this_endpoint_and_write_only_its_logs():
    role = desired().api.role

    statements = json.loads(role.policy)["Statement"]
    assert [(s["Action"], s["Resource"]) for s in statements] == [
        ("sagemaker:InvokeEndpoint", "arn:aws:sagemaker:us-east-1:123456789012:endpoint/pose-dev"),
        (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/pose-dev-predict:*",
        ),
    ]
    assert role.service == "lambda.amazonaws.com"


def test_cors_allows_the_pages_origin_and_the_configured_ones_never_any():
    cors = desired({"api": {"extra_allowed_origins": ["http://localhost:8080", WEB_ORIGIN]}}).api.api.cors

    assert cors.allow_origins == ("http://localhost:8080", WEB_ORIGIN)  # sorted, once each
    assert (cors.allow_methods, cors.allow_headers) == (("OPTIONS", "POST"), ("content-type",))


def test_the_page_of_a_bucket_of_your_own_allows_that_buckets_origin():
    state = desired({"webapp": {"bucket": "pose-demo.example.com"}, "project": {"region": "eu-central-1"}})

    assert state.api.api.cors.allow_origins == (
        "http://pose-demo.example.com.s3-website.eu-central-1.amazonaws.com",
    )
    assert state.web.bucket.name == state.web.page.bucket == "pose-demo.example.com"


def test_the_stage_is_throttled_as_configured():
    stage = desired({"api": {"throttle_rate_limit": 3, "throttle_burst_limit": 6}}).api.stage

    assert (stage.name, stage.auto_deploy, stage.throttle_rate_limit, stage.throttle_burst_limit) == (
        "$default",
        True,
        3.0,
        6,
    )


def test_the_public_side_can_be_switched_off():
    state = desired({"api": {"enabled": False}, "webapp": {"enabled": False}})

    assert (state.api, state.web) == (None, None)


@pytest.mark.parametrize(
    ("region", "url"),
    [
        ("us-east-1", "http://b.s3-website-us-east-1.amazonaws.com"),
        ("eu-west-1", "http://b.s3-website-eu-west-1.amazonaws.com"),
        ("ap-southeast-2", "http://b.s3-website-ap-southeast-2.amazonaws.com"),
        ("us-east-2", "http://b.s3-website.us-east-2.amazonaws.com"),
        ("eu-central-1", "http://b.s3-website.eu-central-1.amazonaws.com"),
        ("ap-south-2", "http://b.s3-website.ap-south-2.amazonaws.com"),
        ("cn-northwest-1", "http://b.s3-website.cn-northwest-1.amazonaws.com.cn"),
    ],
)
def test_website_endpoints_use_a_dash_in_older_regions_and_a_dot_in_the_rest(region: str, url: str):
    assert website_url("b", region) == url


def test_an_origin_is_scheme_and_host():
    assert origin_of("http://b.s3-website-us-east-1.amazonaws.com/index.html") == (
        "http://b.s3-website-us-east-1.amazonaws.com"
    )


def test_every_static_file_is_published_under_static_with_its_type():
    files = desired().web.files

    assert [file.key for file in files] == [key for key, _ in static_files()]
    assert {file.key for file in files} == {f"static/{p.name}" for p in STATIC.iterdir() if p.is_file()}
    assert all(file.cache_control == "public, max-age=300" for file in files)
    assert all(not file.content_type.startswith("application/octet-stream") for file in files)


def test_the_page_is_never_cached_and_is_rendered_again_when_its_sources_change():
    page = desired().web.page

    assert (page.key, page.content_type, page.cache_control) == (
        "index.html",
        "text/html; charset=utf-8",
        "no-cache",
    )
    assert page.source_sha256 == page_source_sha256("blazepose-full") != page_source_sha256("movenet-thunder")


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
