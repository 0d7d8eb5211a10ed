"""AWS's own rules in config.yml: names, tags, keys, hosts and bounds AWS would refuse later, refused now.

Each case is a value that an attacker-style review found accepted (or crashing) before; each must
fail with one line that starts with its key path and says what is allowed.
"""

from __future__ import annotations

import pytest

from deployment.config import parse_config
from deployment.errors import ConfigError

UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::123456789012:role/pose-execution"


def refusal(document: dict) -> str:
    with pytest.raises(ConfigError) as raised:
        parse_config(document, source="config.yml")
    message = str(raised.value)
    assert "\n" not in message and raised.value.exit_code == 2
    return message


def bucket(name: str) -> dict:
    return {"s3": {"bucket": name}}


def tags(**entries: str) -> dict:
    return {"project": {"tags": entries}}


def environment(entries: dict) -> dict:
    return {"endpoint": {"environment": entries}}


# (document, the key path the message starts with, words that say what is allowed)
REFUSED = {
    # Numbers: finite, strict, bounded.
    "infinite threshold": (
        {"monitoring": {"threshold_seconds": float("inf")}},
        "monitoring.threshold_seconds",
        "finite number",
    ),
    "nan threshold": (
        {"monitoring": {"threshold_seconds": float("nan")}},
        "monitoring.threshold_seconds",
        "finite number",
    ),
    "threshold past the invocation timeout": (
        {"monitoring": {"threshold_seconds": 1e30}},
        "monitoring.threshold_seconds",
        "less than or equal to 60",
    ),
    "infinite p99 threshold": (
        {"monitoring": {"p99_threshold_seconds": float("-inf")}},
        "monitoring.p99_threshold_seconds",
        "finite number",
    ),
    "infinite throttle rate": (
        {"api": {"throttle_rate_limit": float("inf")}},
        "api.throttle_rate_limit",
        "finite number",
    ),
    "5xx rollback nobody could reach": (
        {"update": {"rollback_on_5xx": 10**7}},
        "update.rollback_on_5xx",
        "less than or equal to 600000",
    ),
    "latency rollback past the invocation timeout": (
        {"update": {"rollback_on_latency_ms": 60_001}},
        "update.rollback_on_latency_ms",
        "less than or equal to 60000",
    ),
    "too many minimum instances": (
        {"autoscaling": {"min_instances": 101, "max_instances": 101}},
        "autoscaling.min_instances",
        "less than or equal to 100",
    ),
    "too many maximum instances": (
        {"autoscaling": {"max_instances": 10**9}},
        "autoscaling.max_instances",
        "less than or equal to 100",
    ),
    "scaling target nobody could reach": (
        {"autoscaling": {"target_invocations_per_instance": 600_001}},
        "autoscaling.target_invocations_per_instance",
        "less than or equal to 600000",
    ),
    "local monitor interval past a week": (
        {"local": {"monitor_interval_seconds": 10**20}},
        "local.monitor_interval_seconds",
        "less than or equal to 604800",
    ),
    "boolean instance count": (
        {"endpoint": {"instance_count": True}},
        "endpoint.instance_count",
        "valid integer",
    ),
    "text instance count": (
        {"endpoint": {"instance_count": "2"}},
        "endpoint.instance_count",
        "valid integer",
    ),
    "fractional instance count": (
        {"endpoint": {"instance_count": 2.0}},
        "endpoint.instance_count",
        "valid integer",
    ),
    "number as a boolean": ({"monitoring": {"enabled": 1}}, "monitoring.enabled", "valid boolean"),
    "text as a number": (
        {"monitoring": {"threshold_seconds": "1"}},
        "monitoring.threshold_seconds",
        "valid number",
    ),
    "boolean log retention (true == 1)": (
        {"api": {"log_retention_days": True}},
        "api.log_retention_days",
        "valid integer",
    ),
    "number as text": ({"project": {"stage": 42}}, "project.stage", "valid string"),
    # The model catalog.
    "model not in the catalog": (
        {"model": {"name": "no-such-model"}},
        "model.name",
        "'no-such-model' is not a catalog model; use one of blazepose-heavy, blazepose-full, blazepose-lite, movenet-thunder, movenet-lightning",
    ),
    "model path that is no .tflite": (
        {"model": {"path": "models/pose.onnx", "family": "movenet"}},
        "model.path",
        "not a path to a .tflite file",
    ),
    "model url that is not http(s)": (
        {"model": {"url": "ftp://example.com/m.tflite", "family": "movenet", "sha256": "0" * 64}},
        "model.url",
        "not an http(s) URL",
    ),
    # Instance types, from botocore's enums.
    "instance family that does not exist": (
        {"endpoint": {"instance_type": "ml.notreal.huge"}},
        "endpoint.instance_type",
        "'ml.notreal.huge' is not a SageMaker hosting (real-time endpoint) instance type",
    ),
    "instance size that does not exist": (
        {"endpoint": {"instance_type": "ml.p99.48xlarge"}},
        "endpoint.instance_type",
        "closest: ml.p5.48xlarge",
    ),
    "a hosting-only type for monitoring": (
        {"monitoring": {"instance_type": "ml.t2.medium"}},
        "monitoring.instance_type",
        "not a SageMaker processing (monitoring job) instance type; closest: ml.t3.medium",
    ),
    "a processing-only type for hosting": (
        {"endpoint": {"instance_type": "ml.m8i.large"}},
        "endpoint.instance_type",
        "deployment/instance_types.py",
    ),
    # Regions, from botocore's endpoint data.
    "region that does not exist": (
        {"project": {"region": "us-east-9"}},
        "project.region",
        "not a region where SageMaker is available (per botocore); closest: us-east-2, us-east-1",
    ),
    "region with a full-width digit": (
        {"project": {"region": "us-east-１"}},
        "project.region",
        "not a region where SageMaker",
    ),
    "schedule with a full-width digit": (
        {"monitoring": {"schedule": "cron(0 １ ? * * *)"}},
        "monitoring.schedule",
        "not an hourly-or-rarer schedule",
    ),
    "schedule with a trailing newline": (
        {"monitoring": {"schedule": "cron(0 * ? * * *)\n"}},
        "monitoring.schedule",
        "not an hourly-or-rarer schedule",
    ),
    "role in another partition than the region": (
        {"iam": {"execution_role_arn": "arn:aws-cn:iam::123456789012:role/pose"}},
        "iam.execution_role_arn",
        "the role is in the aws-cn partition, but project.region us-east-1 is in aws",
    ),
    "KMS key of another region": (
        {"data_capture": {"kms_key_id": f"arn:aws:kms:eu-west-1:123456789012:key/{UUID}"}},
        "data_capture.kms_key_id",
        "the key is in eu-west-1 (aws), but S3 and SageMaker use KMS keys of their own region, "
        "project.region us-east-1 (aws)",
    ),
    "KMS key of another partition": (
        {"data_capture": {"kms_key_id": f"arn:aws-cn:kms:us-east-1:123456789012:key/{UUID}"}},
        "data_capture.kms_key_id",
        "the key is in us-east-1 (aws-cn)",
    ),
    # S3 bucket names (general purpose buckets).
    "bucket formatted as an IP address": (bucket("192.168.1.1"), "s3.bucket", "formatted as an IP address"),
    "bucket with adjacent periods": (bucket("a..b"), "s3.bucket", "no two adjacent periods"),
    "bucket too short": (bucket("ab"), "s3.bucket", "use 3 to 63 lowercase letters"),
    "bucket too long": (bucket("a" * 64), "s3.bucket", "use 3 to 63 lowercase letters"),
    "bucket ending in a hyphen": (bucket("abc-"), "s3.bucket", "beginning and ending with a letter or digit"),
    "empty bucket": (bucket(""), "s3.bucket", "use 3 to 63"),
    "default bucket with a reserved prefix": (
        {"project": {"name": "sthree"}},
        "s3.bucket",
        "the default name sthree-dev-<account id>-us-east-1 is not a bucket name S3 accepts "
        "(S3 reserves the prefixes xn--, sthree-, amzn-s3-demo-); change project.name, or set s3.bucket",
    ),
    # Tags.
    "tag with the aws: prefix": (tags(**{"aws:team": "x"}), "project.tags", "the aws: prefix is reserved"),
    "tag with the AWS: prefix": (tags(**{"AWS:team": "x"}), "project.tags", "the aws: prefix is reserved"),
    "tag overriding the engine's": (
        tags(**{"pose:deployment": "spoofed"}),
        "project.tags",
        "the pose: prefix is the engine's own (pose:deployment, pose:monitoring-schedule)",
    ),
    "tag in the engine's prefix": (tags(**{"Pose:Anything": "x"}), "project.tags", "the engine's own"),
    "tag key too long": (tags(**{"k" * 129: "x"}), "project.tags", "has 129 characters; AWS allows 1 to 128"),
    "tag value too long": (tags(team="v" * 257), "project.tags", "the value of 'team' has 257 characters"),
    "tag key with #": (
        tags(**{"cost#center": "x"}),
        "project.tags",
        "letters, digits, spaces and _ . : / = + - @",
    ),
    "tag value with a newline": (tags(team="a\nb"), "project.tags", "may hold only letters"),
    "empty tag key": (tags(**{"": "x"}), "project.tags", "has 0 characters"),
    "tags past AWS's 50 with the engine's 2": (
        tags(**{f"t{number}": "x" for number in range(49)}),
        "project.tags",
        "49 tags; AWS allows 50 per resource and the engine adds 2",
    ),
    # S3 prefixes.
    "prefix climbing out": ({"s3": {"model_prefix": "a/../b"}}, "s3.model_prefix", "'.' or '..' part"),
    "prefix of one dot": ({"s3": {"reports_prefix": "."}}, "s3.reports_prefix", "'.' or '..' part"),
    "prefix with a space": (
        {"s3": {"capture_prefix": "data capture"}},
        "s3.capture_prefix",
        "safe S3 prefix",
    ),
    "prefix with a percent": ({"s3": {"model_prefix": "a%20b"}}, "s3.model_prefix", "safe S3 prefix"),
    "prefix too long": ({"s3": {"model_prefix": "m" * 201}}, "s3.model_prefix", "at most 200"),
    # The inference container's environment.
    "empty variable name": (
        environment({"": "x"}),
        "endpoint.environment",
        "not an environment variable name",
    ),
    "variable name with =": (environment({"A=B": "x"}), "endpoint.environment", "letters, digits and '_'"),
    "tracking passes the container refuses": (
        environment({"POSE_TRACKING_PASSES": "4"}),
        "endpoint.environment",
        "POSE_TRACKING_PASSES: must be 1, 2 or 3, got '4'",
    ),
    "max people the container refuses": (
        environment({"POSE_MAX_PEOPLE": "0"}),
        "endpoint.environment",
        "POSE_MAX_PEOPLE: must be an integer from 1 to 20, got '0'",
    ),
    "a models memory cap the container refuses": (
        environment({"POSE_MODELS_MEMORY_MB": "lots"}),
        "endpoint.environment",
        "POSE_MODELS_MEMORY_MB: must be a whole number of MiB of at least 1, got 'lots'",
    ),
    "variable name with a digit first": (environment({"1A": "x"}), "endpoint.environment", "not starting"),
    "too many variables": (
        environment({f"V{number}": "x" for number in range(101)}),
        "endpoint.environment",
        "101 variables; SageMaker allows 100",
    ),
    "variable value over 1024 bytes": (
        environment({"V": "é" * 513}),
        "endpoint.environment",
        "1024 bytes per name and value",
    ),
    "variables over 32 KB together": (
        environment({f"V{number}": "x" * 1000 for number in range(40)}),
        "endpoint.environment",
        "SageMaker allows 32768",
    ),
    "variable value with NUL": (environment({"V": "a\0b"}), "endpoint.environment", "NUL"),
    # KMS keys and IAM roles.
    "KMS key that is none": (
        {"data_capture": {"kms_key_id": "not-a-key"}},
        "data_capture.kms_key_id",
        "not a KMS key: give a key id (a UUID, or mrk-<32 hex> for a multi-Region key), a key ARN, an alias",
    ),
    "empty KMS key": ({"data_capture": {"kms_key_id": ""}}, "data_capture.kms_key_id", "not a KMS key"),
    "KMS ARN of no key": (
        {"data_capture": {"kms_key_id": "arn:aws:kms:us-east-1:123456789012:key/x"}},
        "data_capture.kms_key_id",
        "not a KMS key",
    ),
    "role name with a space": (
        {"iam": {"execution_role_arn": "arn:aws:iam::123456789012:role/my role"}},
        "iam.execution_role_arn",
        "not an IAM role ARN",
    ),
    "role account with full-width digits": (
        {"iam": {"execution_role_arn": "arn:aws:iam::１２３４５６７８９０１２:role/pose"}},
        "iam.execution_role_arn",
        "<12-digit account>",
    ),
    "role without a name": (
        {"iam": {"execution_role_arn": "arn:aws:iam::123456789012:role/"}},
        "iam.execution_role_arn",
        "not an IAM role ARN",
    ),
    # Hosts and origins.
    "origin with port 99999": (
        {"api": {"extra_allowed_origins": ["http://localhost:99999"]}},
        "api.extra_allowed_origins.0",
        "the port must be 1 to 65535",
    ),
    "origin with port 0": (
        {"api": {"extra_allowed_origins": ["https://example.com", "http://localhost:0"]}},
        "api.extra_allowed_origins.1",
        "the port must be 1 to 65535",
    ),
    "origin with a huge port": (
        {"api": {"extra_allowed_origins": ["http://localhost:" + "9" * 5000]}},
        "api.extra_allowed_origins.0",
        "the port must be 1 to 65535",
    ),
    "origin with its default port": (
        {"api": {"extra_allowed_origins": ["https://example.com:443"]}},
        "api.extra_allowed_origins.0",
        "browsers send this origin without its default port; write https://example.com",
    ),
    "origin with an underscore host": (
        {"api": {"extra_allowed_origins": ["http://not_a_host"]}},
        "api.extra_allowed_origins.0",
        "is not a DNS host name or an IP address",
    ),
    "origin with no IPv4 address": (
        {"api": {"extra_allowed_origins": ["http://999.1.1.1:8080"]}},
        "api.extra_allowed_origins.0",
        "'999.1.1.1' is not an IPv4 address",
    ),
    "origin with no IPv6 address": (
        {"api": {"extra_allowed_origins": ["http://[1:2:3]:8080"]}},
        "api.extra_allowed_origins.0",
        "[1:2:3] is not an IPv6 address",
    ),
    "local host with spaces": (
        {"local": {"host": "not a host"}},
        "local.host",
        "is not a DNS host name or an IP address",
    ),
    "local host IPv6": ({"local": {"host": "::1"}}, "local.host", "listen on an IPv4 address or a host name"),
    "empty local host": ({"local": {"host": ""}}, "local.host", "not a DNS host name"),
}


@pytest.mark.parametrize(("document", "key_path", "allowed"), REFUSED.values(), ids=REFUSED.keys())
def test_values_aws_would_refuse_are_refused_with_the_key_path(document, key_path, allowed):
    message = refusal(document)

    assert message.startswith(f"config.yml: {key_path}"), message
    assert allowed in message, message


@pytest.mark.parametrize(
    "name",
    ["xn--abc", "sthree-abc", "amzn-s3-demo-abc", "abc-s3alias", "abc--ol-s3", "abc.mrap", "abc--x-s3"],
)
@pytest.mark.parametrize("section", ["s3", "webapp"])
def test_reserved_bucket_names_are_refused_for_both_buckets(section: str, name: str):
    message = refusal({section: {"bucket": name}})

    assert message.startswith(f"config.yml: {section}.bucket: '{name}' is not an S3 bucket name: S3 reserves")


def test_a_table_bucket_suffix_is_reserved_too():
    assert "--table-s3" in refusal({"webapp": {"bucket": "abc--table-s3"}})


@pytest.mark.parametrize(
    "document",
    [
        {"monitoring": {"threshold_seconds": 1, "p99_threshold_seconds": 60}},
        {"endpoint": {"instance_type": "ml.p6-b200.48xlarge"}},
        {"endpoint": {"instance_type": "ml.g5.xlarge"}, "monitoring": {"instance_type": "ml.m7i-flex.large"}},
        {"s3": {"bucket": "team.bucket-1"}, "webapp": {"bucket": "my-page.example.com"}},
        {"project": {"tags": {"Team Name": "Vision + co", "Équipe": "vision", "k": ""}}},
        {"project": {"tags": {f"t{number}": "x" for number in range(48)}}},
        {"s3": {"model_prefix": "team/models(v2)", "capture_prefix": "capture!", "reports_prefix": "r*"}},
        {"endpoint": {"environment": {"SAGEMAKER_MODEL_SERVER_WORKERS": "2", "_X": "a b=c"}}},
        {"data_capture": {"kms_key_id": UUID}},
        {"data_capture": {"kms_key_id": "mrk-" + "0123456789abcdef" * 2}},
        {"data_capture": {"kms_key_id": f"arn:aws:kms:us-east-1:123456789012:key/{UUID}"}},
        {"data_capture": {"kms_key_id": "alias/pose/capture_key-1"}},
        {"data_capture": {"kms_key_id": "arn:aws:kms:us-east-1:123456789012:alias/pose"}},
        {
            "iam": {
                "execution_role_arn": "arn:aws:iam::123456789012:role/service-role/team/Pose+Exec=1,a.b@c_d-e"
            }
        },
        {
            "project": {"region": "cn-north-1"},
            "iam": {"execution_role_arn": ROLE.replace(":aws:", ":aws-cn:")},
        },
        {"project": {"region": "us-gov-west-1"}},
        {"project": {"region": "eu-west-1"}, "data_capture": {"kms_key_id": "alias/aws/s3"}},
        {
            "api": {
                "extra_allowed_origins": ["http://[::1]:8080", "https://a-b.example.co.uk", "http://10.0.0.1"]
            }
        },
        {"local": {"host": "localhost"}},
        {"local": {"host": "0.0.0.0"}},
        {"update": {"rollback_on_5xx": 600_000, "rollback_on_latency_ms": 60_000}},
        {"autoscaling": {"min_instances": 100, "max_instances": 100}},
        {"local": {"monitor_interval_seconds": 7 * 24 * 3600}},
    ],
)
def test_values_within_the_rules_are_accepted(document: dict):
    assert parse_config(document)


def test_a_float_field_takes_a_whole_number_and_keeps_it_a_float():
    threshold = parse_config({"monitoring": {"threshold_seconds": 1}}).monitoring.threshold_seconds

    assert (threshold, type(threshold)) == (1.0, float)


def test_hundreds_of_mistakes_still_make_one_readable_line():
    message = refusal({"api": {"extra_allowed_origins": [7] * 500}})

    assert message.count("Input should be a valid string") == 5
    assert message.endswith("; and 495 more")
