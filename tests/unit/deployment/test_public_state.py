"""Desired state of the API: a reproducible Lambda zip, its role, the CORS origins, throttling."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import subprocess
import sys
import zipfile

import pytest

from deployment.lambda_package import (
    DROP_FOLDER_HANDLER,
    HANDLER,
    INFERENCE,
    PACKAGE,
    build_zip,
    code_sha256,
    handler_zip,
    package_sources,
)
from deployment.resources.placeholders import Variable
from tests.unit.deployment.builders import desired


def test_the_zip_holds_only_the_proxy_package_with_fixed_time_and_mode():
    archive = zipfile.ZipFile(io.BytesIO(handler_zip()))
    proxy = [
        "__init__.py",
        "approved.py",
        "drop_folder.py",
        "handler.py",
        "model_files.py",
        "model_upload.py",
        "refusals.py",
        "s3_events.py",
    ]
    # The registry's upload function lists the keypoint names from inference/keypoints.py (pure Python).
    expected = {f"inference/{name}": INFERENCE / name for name in ("__init__.py", "keypoints.py")}
    expected |= {f"proxy/{name}": PACKAGE / name for name in proxy}

    assert [(entry.filename, entry.date_time, entry.external_attr >> 16) for entry in archive.infolist()] == [
        (name, (1980, 1, 1, 0, 0, 0), 0o100644) for name in sorted(expected)
    ]
    assert {name: archive.read(name) for name in archive.namelist()} == {
        name: path.read_bytes() for name, path in expected.items()
    }


def test_the_same_source_gives_the_same_bytes_and_lambdas_code_sha256():
    sources = package_sources()

    assert build_zip(sources) == build_zip(dict(reversed(sources.items()))) == handler_zip()
    assert code_sha256(handler_zip()) == base64.b64encode(hashlib.sha256(handler_zip()).digest()).decode()
    changed = {**sources, "proxy/handler.py": sources["proxy/handler.py"] + b"\n"}
    assert code_sha256(build_zip(changed)) != code_sha256(handler_zip())


@pytest.mark.parametrize("handler", [HANDLER, DROP_FOLDER_HANDLER])
def test_the_handler_string_names_a_function_the_zip_alone_provides(tmp_path, handler):
    """As Lambda loads it: the zip's root on sys.path, nothing of this project, the runtime's boto3."""
    bundle = tmp_path / "function.zip"
    bundle.write_bytes(handler_zip())
    module, _, function = handler.rpartition(".")
    check = (
        f"import importlib, sys; sys.path.insert(0, {str(bundle)!r}); "
        f"module = importlib.import_module({module!r}); "
        f"assert module.__file__.startswith({str(bundle)!r}), module.__file__; "
        f"assert callable(module.{function})"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", check], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_function_calls_this_deployments_endpoint_with_the_lambda_limits_of_an_http_api():
    function = desired().api.function

    assert (function.runtime, function.handler, function.timeout_seconds, function.memory_mb) == (
        "python3.12",
        "proxy.handler.handler",
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

    # Sorted, once each; then the distribution's domain, known once it exists.
    assert cors.allow_origins == ("http://localhost:8080", "https://b.example", Variable("web.origin"))
    assert cors.page_origin_pending
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
