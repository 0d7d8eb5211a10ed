"""config.yml's schema: the shipped file validates, and every mistake names its key path and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from deployment.config import HOURLY, Config, apply_override, load_config, parse_config
from deployment.errors import ConfigError
from tests.conftest import REPO

SHIPPED = REPO / "config.yml"


def test_the_shipped_config_validates_and_matches_the_schema_defaults_it_documents():
    config = load_config(SHIPPED)

    # The file says "the defaults shown here are what you get": only the example tag differs.
    assert config.model_copy(update={"project": config.project.model_copy(update={"tags": {}})}) == Config()
    assert config.project.tags == {"owner": "ml-team"}
    assert config.monitoring.schedule == HOURLY
    assert config.prefix == "pose-dev"


def test_an_empty_file_means_every_default(tmp_path: Path):
    empty = tmp_path / "config.yml"
    empty.write_text("# nothing set\n")

    assert load_config(empty) == Config()


# (document, the key path the message starts with, words that say what is allowed)
INVALID = {
    "unknown top-level key": ({"projekt": {}}, "projekt", "allowed here: project, model, endpoint"),
    "unknown nested key": (
        {"project": {"nam": "x"}},
        "project.nam",
        "allowed here: name, stage, region, tags",
    ),
    "unknown key in an optional section": (
        {"endpoint": {"serverless": {"memory": 2048}}, "data_capture": {"enabled": False}},
        "endpoint.serverless.memory",
        "allowed here: memory_mb, max_concurrency",
    ),
    "section is not a mapping": ({"project": "dev"}, "project", "valid dictionary"),
    "wrong type": ({"endpoint": {"instance_count": "two"}}, "endpoint.instance_count", "valid integer"),
    "wrong boolean": ({"monitoring": {"enabled": "maybe"}}, "monitoring.enabled", "valid boolean"),
    "tag value not a string": ({"project": {"tags": {"team": 7}}}, "project.tags.team", "valid string"),
    "no instances": (
        {"endpoint": {"instance_count": 0}},
        "endpoint.instance_count",
        "greater than or equal to 1",
    ),
    "instance type": (
        {"endpoint": {"instance_type": "m5.large"}},
        "endpoint.instance_type",
        "'m5.large' is not a SageMaker hosting (real-time endpoint) instance type; closest: ml.m5.large",
    ),
    "stage with capitals": ({"project": {"stage": "PR_42"}}, "project.stage", "pattern"),
    "inf1 instances": (
        {"endpoint": {"instance_type": "ml.inf1.xlarge"}},
        "endpoint.instance_type",
        "guardrails (blue/green updates with auto-rollback) are not available on Inf1",
    ),
    "region": (
        {"project": {"region": "Virginia"}},
        "project.region",
        "'Virginia' is not a region where SageMaker is available",
    ),
    "serverless with data capture": (
        {"endpoint": {"serverless": {}}},
        "endpoint.serverless",
        "does not support data capture on serverless endpoints; set data_capture.enabled: false",
    ),
    "serverless with monitoring": (
        {"endpoint": {"serverless": {}}, "data_capture": {"enabled": False}},
        "endpoint.serverless",
        "set monitoring.enabled: false",
    ),
    "serverless with autoscaling": (
        {
            "endpoint": {"serverless": {}},
            "data_capture": {"enabled": False},
            "monitoring": {"enabled": False},
            "autoscaling": {"enabled": True},
        },
        "endpoint.serverless",
        "disable autoscaling",
    ),
    "serverless memory": (
        {"endpoint": {"serverless": {"memory_mb": 1000}}, "data_capture": {"enabled": False}},
        "endpoint.serverless.memory_mb",
        "1024, 2048, 3072, 4096, 5120 or 6144",
    ),
    "sampling above 100": (
        {"data_capture": {"sampling_percent": 101}},
        "data_capture.sampling_percent",
        "less than or equal to 100",
    ),
    "sampling below 0": (
        {"data_capture": {"sampling_percent": -1}},
        "data_capture.sampling_percent",
        "greater than or equal to 0",
    ),
    "capture of nothing": (
        {"data_capture": {"capture_input": False, "capture_output": False}, "monitoring": {"enabled": False}},
        "data_capture",
        "the input, the output, or both",
    ),
    "monitoring without captured output": (
        {"data_capture": {"capture_output": False}},
        "monitoring.enabled",
        "enable data_capture output",
    ),
    "retention of zero days": (
        {"data_capture": {"retention_days": 0}},
        "data_capture.retention_days",
        "greater than or equal to 1",
    ),
    "schedule every 30 minutes": (
        {"monitoring": {"schedule": "cron(0/30 * ? * * *)"}},
        "monitoring.schedule",
        "not an hourly-or-rarer schedule; use 'hourly', 'daily'",
    ),
    "schedule as a rate": (
        {"monitoring": {"schedule": "rate(5 minutes)"}},
        "monitoring.schedule",
        "not an hourly-or-rarer schedule",
    ),
    "schedule at minute 30": (
        {"monitoring": {"schedule": "cron(30 * ? * * *)"}},
        "monitoring.schedule",
        "cron(0 H ? * * *)",
    ),
    "hourly run longer than an hour": (
        {"monitoring": {"max_runtime_seconds": 3601}},
        "monitoring",
        "max_runtime_seconds is 3601; an hourly schedule allows 3600",
    ),
    "*/1 is hourly too": (
        {"monitoring": {"schedule": "cron(0 */1 ? * * *)", "max_runtime_seconds": 3601}},
        "monitoring",
        "an hourly schedule allows 3600",
    ),
    "threshold of zero": (
        {"monitoring": {"threshold_seconds": 0}},
        "monitoring.threshold_seconds",
        "greater than 0",
    ),
    "update strategy": (
        {"update": {"strategy": "blue"}},
        "update.strategy",
        "'all_at_once', 'canary' or 'linear'",
    ),
    "canary step of 100 percent": ({"update": {"step_percent": 100}}, "update.step_percent", "less than"),
    "wait over an hour": (
        {"update": {"wait_seconds": 3601}},
        "update.wait_seconds",
        "less than or equal to 3600",
    ),
    "update timeout below ten minutes": (
        {"update": {"max_execution_timeout_seconds": 599}},
        "update.max_execution_timeout_seconds",
        "greater than or equal to 600",
    ),
    "autoscaling bounds": (
        {"autoscaling": {"min_instances": 3, "max_instances": 2}},
        "autoscaling",
        "max_instances (2) is below min_instances (3)",
    ),
    "capture prefix with a trailing slash": (
        {"s3": {"capture_prefix": "data-capture/"}},
        "s3.capture_prefix",
        "no leading, trailing or double '/'",
    ),
    "bucket name": (
        {"s3": {"bucket": "My_Bucket"}},
        "s3.bucket",
        "'My_Bucket' is not an S3 bucket name: use 3 to 63 lowercase letters, digits, '.' and '-'",
    ),
    "model path without family": (
        {"model": {"path": "models/mine.tflite"}},
        "model",
        "needs family: movenet or blazepose",
    ),
    "model url without sha256": (
        {"model": {"url": "https://example.com/mine.tflite", "family": "movenet"}},
        "model",
        "needs its sha256",
    ),
    "model path and url": (
        {"model": {"path": "a.tflite", "url": "https://example.com/b.tflite", "family": "movenet"}},
        "model",
        "either path or url, not both",
    ),
    "default bucket name too long": (
        {"project": {"name": "p" * 20, "stage": "s" * 16, "region": "ap-southeast-2"}},
        "s3.bucket",
        "has 65 characters, over S3's 63; shorten project.name or project.stage, or set s3.bucket",
    ),
    "role arn": (
        {"iam": {"execution_role_arn": "arn:aws:iam::123:role/short-account"}},
        "iam.execution_role_arn",
        "is not an IAM role ARN: arn:aws:iam::<12-digit account>:role/[path/]name",
    ),
    "unknown key in api": (
        {"api": {"throttle": 5}},
        "api.throttle",
        "allowed here: enabled, throttle_rate_limit, throttle_burst_limit, extra_allowed_origins",
    ),
    "web page without the api": (
        {"api": {"enabled": False}},
        "webapp.enabled",
        "the web page calls the API; set api.enabled: true or webapp.enabled: false",
    ),
    "any origin": (
        {"api": {"extra_allowed_origins": ["*"]}},
        "api.extra_allowed_origins.0",
        "'*' is not an origin; write scheme and host",
    ),
    "origin with a path": (
        {"api": {"extra_allowed_origins": ["https://example.com/app"]}},
        "api.extra_allowed_origins.0",
        "no path, no trailing '/'",
    ),
    "origin with a trailing slash": (
        {"api": {"extra_allowed_origins": ["http://localhost:8080/"]}},
        "api.extra_allowed_origins.0",
        "is not an origin",
    ),
    "origin without a scheme": (
        {"api": {"extra_allowed_origins": ["localhost:8080"]}},
        "api.extra_allowed_origins.0",
        "is not an origin",
    ),
    "throttle rate of zero": (
        {"api": {"throttle_rate_limit": 0}},
        "api.throttle_rate_limit",
        "greater than 0",
    ),
    "throttle burst of zero": (
        {"api": {"throttle_burst_limit": 0}},
        "api.throttle_burst_limit",
        "greater than or equal to 1",
    ),
    "log retention CloudWatch does not offer": (
        {"api": {"log_retention_days": 10}},
        "api.log_retention_days",
        "Input should be 1, 3, 5, 7, 14, 30",
    ),
    "unknown key in webapp": (
        {"webapp": {"index": "x"}},
        "webapp.index",
        "allowed here: enabled, bucket, price_class",
    ),
    "web bucket name": ({"webapp": {"bucket": "My_Page"}}, "webapp.bucket", "is not an S3 bucket name"),
    "default web bucket name too long": (
        {"project": {"name": "p" * 20, "stage": "s" * 14, "region": "ap-southeast-2"}},
        "webapp.bucket",
        "has 67 characters, over S3's 63; shorten project.name or project.stage, or set webapp.bucket",
    ),
}


@pytest.mark.parametrize(("document", "key_path", "allowed"), INVALID.values(), ids=INVALID.keys())
def test_every_invalid_config_names_the_key_path_and_what_is_allowed(document, key_path, allowed):
    with pytest.raises(ConfigError) as raised:
        parse_config(document, source="config.yml")

    message = str(raised.value)
    assert message.startswith(f"config.yml: {key_path}: "), message
    assert allowed in message
    assert "\n" not in message
    assert raised.value.exit_code == 2


def test_several_mistakes_are_reported_together():
    with pytest.raises(ConfigError) as raised:
        parse_config({"endpoint": {"instance_count": 0, "typo": 1}})

    assert "endpoint.instance_count: " in str(raised.value)
    assert "endpoint.typo: unknown key" in str(raised.value)


@pytest.mark.parametrize(
    ("spelling", "expression"),
    [
        ("hourly", HOURLY),
        ("cron(0 */1 ? * * *)", HOURLY),
        ("daily", "cron(0 0 ? * * *)"),
        ("cron(0 */6 ? * * *)", "cron(0 */6 ? * * *)"),
        ("cron(0 23 ? * * *)", "cron(0 23 ? * * *)"),
    ],
)
def test_schedules_of_at_most_hourly_are_accepted_in_one_spelling(spelling: str, expression: str):
    assert parse_config({"monitoring": {"schedule": spelling}}).monitoring.schedule == expression


def test_a_daily_schedule_may_run_longer_than_an_hour():
    config = parse_config({"monitoring": {"schedule": "daily", "max_runtime_seconds": 7200}})

    assert config.monitoring.max_runtime_seconds == 7200


def test_a_long_prefix_is_fine_with_buckets_of_your_own():
    config = parse_config(
        {
            "project": {"name": "p" * 20, "stage": "s" * 16, "region": "ap-southeast-2"},
            "s3": {"bucket": "mine"},
            "webapp": {"bucket": "my-page"},
        }
    )

    assert (config.s3.bucket, config.webapp.bucket) == ("mine", "my-page")


def test_a_long_prefix_needs_no_web_bucket_without_the_web_page():
    config = parse_config(
        {
            "project": {"name": "p" * 20, "stage": "s" * 16, "region": "ap-southeast-2"},
            "s3": {"bucket": "mine"},
            "webapp": {"enabled": False},
        }
    )

    assert config.webapp.bucket is None


def test_the_api_and_the_page_are_on_by_default_and_the_api_can_stand_alone():
    config = parse_config({"webapp": {"enabled": False}, "api": {"throttle_rate_limit": 2.5}})

    assert (Config().api.enabled, Config().webapp.enabled) == (True, True)
    assert (config.api.enabled, config.api.throttle_rate_limit, config.api.extra_allowed_origins) == (
        True,
        2.5,
        [],
    )


@pytest.mark.parametrize(
    "origin", ["http://localhost:8080", "https://pose.example.com", "http://127.0.0.1:5173"]
)
def test_extra_origins_are_scheme_host_and_port(origin: str):
    assert parse_config({"api": {"extra_allowed_origins": [origin]}}).api.extra_allowed_origins == [origin]


def test_serverless_is_valid_without_capture_and_monitoring():
    config = parse_config(
        {
            "endpoint": {"serverless": {"memory_mb": 4096}},
            "data_capture": {"enabled": False},
            "monitoring": {"enabled": False},
        }
    )

    assert config.endpoint.serverless.memory_mb == 4096


def test_overrides_are_repeatable_parsed_as_yaml_and_win_over_the_file(tmp_path: Path):
    path = tmp_path / "config.yml"
    path.write_text("endpoint:\n  instance_count: 1\n")

    config = load_config(
        path,
        [
            "endpoint.instance_count=3",
            "monitoring.threshold_seconds=0.5",
            "monitoring.enabled=false",
            "data_capture.kms_key_id=null",
            "project.tags.team=vision",
            "project.stage=pr-42",
        ],
    )

    assert config.endpoint.instance_count == 3
    assert config.monitoring.threshold_seconds == 0.5
    assert config.monitoring.enabled is False
    assert config.data_capture.kms_key_id is None
    assert config.project.tags == {"team": "vision"}
    assert config.prefix == "pose-pr-42"


def test_an_override_is_validated_like_the_file(tmp_path: Path):
    path = tmp_path / "config.yml"
    path.write_text("{}\n")

    with pytest.raises(ConfigError, match=r"data_capture\.sampling_percent: Input should be less than"):
        load_config(path, ["data_capture.sampling_percent=150"])


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            "endpoint.instance_count",
            "--set: --set 'endpoint.instance_count' must look like section.key=value",
        ),
        ("endpoint..instance_count=2", "must look like section.key=value"),
        ("=2", "must look like section.key=value"),
        ("project.name.first=x", "project.name.first: name is not a section"),
        ("project.tags=[unclosed", "project.tags: the value '[unclosed' is not valid YAML"),
    ],
)
def test_malformed_overrides_are_config_errors(override: str, message: str):
    document = {"project": {"name": "pose"}}

    with pytest.raises(ConfigError) as raised:
        apply_override(document, override)

    assert message in str(raised.value)


def test_an_empty_override_value_is_the_empty_string():
    document: dict = {}

    apply_override(document, "s3.bucket=")

    assert document == {"s3": {"bucket": ""}}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("project: [\n", "not valid YAML: while parsing a flow node"),
        ("- a list\n", "the top level must be a mapping of sections"),
    ],
)
def test_an_unreadable_file_is_one_line_config_error(tmp_path: Path, text: str, message: str):
    path = tmp_path / "config.yml"
    path.write_text(text)

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value).startswith(f"{path}: {message}")
    assert "\n" not in str(raised.value)


def test_a_missing_file_says_so(tmp_path: Path):
    with pytest.raises(ConfigError, match=r"missing\.yml: cannot read the config file \(No such file"):
        load_config(tmp_path / "missing.yml")
