"""Desired state of the API: a reproducible Lambda zip, its role, the CORS origins, throttling."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import zipfile

from deployment.lambda_package import HANDLER_SOURCE, build_zip, code_sha256, handler_zip
from tests.unit.deployment.builders import desired


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


def test_cors_allows_the_configured_origins_and_waits_for_the_pages_never_any():
    origins = ["https://b.example", "http://localhost:8080", "https://b.example"]
    cors = desired({"api": {"extra_allowed_origins": origins}}).api.api.cors

    assert cors.allow_origins == ("http://localhost:8080", "https://b.example")  # sorted, once each
    assert cors.page_origin_pending  # the distribution's domain: known once it exists
    assert (cors.allow_methods, cors.allow_headers) == (("OPTIONS", "POST"), ("content-type",))


def test_without_the_page_the_api_allows_only_the_configured_origins_or_none():
    only_api = desired(
        {"webapp": {"enabled": False}, "api": {"extra_allowed_origins": ["https://a.example"]}}
    )
    no_browser = desired({"webapp": {"enabled": False}})

    assert (only_api.api.api.cors.allow_origins, only_api.api.api.cors.page_origin_pending) == (
        ("https://a.example",),
        False,
    )
    assert no_browser.api.api.cors is None


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
