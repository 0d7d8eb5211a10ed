"""Names are the state: stable for resources updated in place, content-addressed for immutable ones."""

from __future__ import annotations

import pytest

from deployment.naming import Names, artifact_key, content_hash

NAMES = Names("pose-pr-42", "123456789012", "eu-west-1")


def test_stable_names_for_resources_updated_in_place():
    assert (
        NAMES.endpoint,
        NAMES.monitoring_schedule,
        NAMES.execution_role,
        NAMES.error_alarm,
        NAMES.latency_alarm,
        NAMES.default_bucket(),
    ) == (
        "pose-pr-42",
        "pose-pr-42-monitor",
        "pose-pr-42-sagemaker-execution",
        "pose-pr-42-invocation-5xx",
        "pose-pr-42-model-latency",
        "pose-pr-42-123456789012-eu-west-1",
    )


def test_content_hash_ignores_key_order_and_changes_with_any_value():
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1, "b": [1, 2]}) != content_hash({"a": 1, "b": [2, 1]})
    assert len(content_hash("x")) == 8


def test_immutable_resources_are_named_by_their_definition():
    model = NAMES.model({"image": "x@sha256:1"})

    assert model == NAMES.model({"image": "x@sha256:1"})
    assert model != NAMES.model({"image": "x@sha256:2"})
    assert model.startswith("pose-pr-42-model-") and len(model) == len("pose-pr-42-model-") + 8
    assert NAMES.endpoint_config({"image": "x@sha256:1"}).startswith("pose-pr-42-config-")


@pytest.mark.parametrize(
    ("name", "owned"),
    [
        ("pose-pr-42-model-0123abcd", True),
        ("pose-pr-42-config-0123abcd", True),
        # Another stage whose prefix starts with ours must not be cleaned up by us.
        ("pose-pr-421-model-0123abcd", False),
        ("pose-pr-42-model-0123abcd-copy", False),
        ("pose-pr-42-model-0123ABCD", False),
        ("pose-pr-42", False),
        ("other-pr-42-model-0123abcd", False),
    ],
)
def test_owns_only_names_this_deployment_made(name: str, owned: bool):
    assert NAMES.owns(name) is owned


def test_a_name_over_sagemakers_limit_is_refused():
    long_names = Names("p" * 50, "123456789012", "us-east-1")

    with pytest.raises(ValueError, match="longer than SageMaker's 63 characters"):
        long_names.endpoint_config({"x": 1})


def test_the_longest_prefix_config_allows_fits_every_name_limit():
    longest = Names("p" * 20 + "-" + "s" * 16, "123456789012", "us-east-1")

    assert len(longest.endpoint_config({"x": 1})) <= 63
    assert len(longest.monitoring_schedule + "-now") <= 63
    assert len(longest.execution_role) <= 64  # IAM's limit
    assert len(longest.default_bucket()) <= 63  # S3's limit


def test_artifact_key_is_content_addressed():
    assert artifact_key("pose-dev/models", "f" * 64) == "pose-dev/models/ffffffffffffffff/model.tar.gz"


def test_the_public_side_has_stable_names_within_every_limit():
    longest = Names("p" * 20 + "-" + "s" * 16, "123456789012", "ap-southeast-2")

    assert (NAMES.function, NAMES.function_role, NAMES.http_api, NAMES.function_log_group) == (
        "pose-pr-42-predict",
        "pose-pr-42-predict-lambda",
        "pose-pr-42-api",
        "/aws/lambda/pose-pr-42-predict",
    )
    assert NAMES.default_web_bucket() == "pose-pr-42-123456789012-eu-west-1-web"
    assert len(longest.function) <= 64 and len(longest.function_role) <= 64


def test_another_stages_default_bucket_can_never_be_this_stages_web_bucket():
    # "{prefix}-web-..." would collide with a stage named "<stage>-web"; a suffix cannot.
    other = Names("pose-pr-42-web", "123456789012", "eu-west-1")

    assert other.default_bucket() != NAMES.default_web_bucket()
    assert not NAMES.default_web_bucket().removesuffix("-web")[-1].isalpha()


def test_arns_the_lambdas_permissions_name():
    assert Names("Pose-PR-7", "123456789012", "us-east-1").endpoint_arn() == (
        "arn:aws:sagemaker:us-east-1:123456789012:endpoint/pose-pr-7"  # SageMaker lower-cases ARNs
    )
    assert (
        NAMES.api_source_arn("a1b2c3") == "arn:aws:execute-api:eu-west-1:123456789012:a1b2c3/*/POST/predict"
    )
    assert NAMES.function_arn == "arn:aws:lambda:eu-west-1:123456789012:function:pose-pr-42-predict"
