"""`batch`'s arguments: every bad one refused naming its flag, before any AWS call."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deployment.batch import batch_job, transform_instance_types
from deployment.config import parse_config
from deployment.errors import ConfigError
from tests.unit.deployment.builders import desired

NOW = datetime(2026, 12, 2, 12, 30, 5, tzinfo=UTC)
FOLDER = "s3://pose-dev-123456789012-us-east-1/pose-dev/"


def job(document: dict | None = None, input_uri: str = f"{FOLDER}in", **arguments):
    config = parse_config(document or {})
    options = {"output_uri": None, "instances": 1, "instance_type": None, **arguments}
    return batch_job(
        config, desired(document).names, "pose-dev-model-1234abcd", input_uri, now=NOW, **options
    )


def test_a_job_reads_the_prefix_and_writes_beside_it_one_request_per_core():
    made = job(instance_type="ml.c5.2xlarge", instances=3)

    assert (made.name, made.input_uri, made.output_uri) == (
        "pose-dev-model-batch-261202123005",
        f"{FOLDER}in/",
        f"{FOLDER}batch-output/261202123005/",
    )
    assert (made.instance_type, made.instance_count, made.max_concurrent) == ("ml.c5.2xlarge", 3, 8)


@pytest.mark.parametrize(
    ("arguments", "where", "message"),
    [
        ({"input_uri": "photos/"}, "INPUT", "is not an S3 prefix"),
        ({"input_uri": "s3://Bad_Bucket/x/"}, "INPUT", "is not an S3 prefix"),
        ({"input_uri": f"{FOLDER}../other/"}, "INPUT", "is not an S3 prefix"),
        ({"input_uri": "s3://another-bucket/photos/"}, "INPUT", "outside s3://pose-dev-"),
        ({"output_uri": "s3://another-bucket/out/"}, "--output", "outside s3://pose-dev-"),
        ({"output_uri": f"{FOLDER}in/out/"}, "--output", "must not be inside the input"),
        ({"instances": 0}, "--instances", "0 is not between 1 and 100"),
        (
            {"instance_type": "ml.m5.lrage"},
            "--instance-type",
            "is not an instance type Batch Transform runs on",
        ),
    ],
)
def test_bad_arguments_are_refused_naming_the_flag(arguments, where, message):
    with pytest.raises(ConfigError, match=message) as raised:
        job(**arguments)
    assert raised.value.where == where


def test_a_role_of_your_own_may_read_any_prefix():
    own = {"iam": {"execution_role_arn": "arn:aws:iam::123456789012:role/theirs"}}
    assert job(own, input_uri="s3://another-bucket/photos").input_uri == "s3://another-bucket/photos/"


def test_a_serverless_stage_runs_batch_on_a_general_purpose_instance():
    serverless = {
        "endpoint": {"serverless": {}},
        "data_capture": {"enabled": False},
        "monitoring": {"enabled": False},
    }
    assert job(serverless).instance_type == "ml.m5.large"
    assert "ml.m5.large" in transform_instance_types()
