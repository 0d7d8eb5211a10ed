"""The monitoring image on "SageMaker" (its processing-job description mounted at /opt/ml/config) reads
the endpoint's metrics with the boto3 it ships, from a moto server on 127.0.0.1 standing in for CloudWatch."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto.server import ThreadedMotoServer

from tests.conftest import free_port
from tests.e2e.test_monitoring_container import ENDPOINT, dataset, sagemaker_environment
from tests.images.engine import Engine
from tests.images.test_monitoring_image import INPUT, RESULTS

__all__ = ["dataset"]
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
REGION = "eu-west-1"
START = datetime(2026, 11, 22, 19, tzinfo=UTC)


@pytest.fixture
def cloudwatch() -> Iterator[str]:
    """A moto server with 30 minutes of the endpoint's CPU (150 %) and memory (70 %)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    client = boto3.client(
        "cloudwatch",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    dimensions = [{"Name": "EndpointName", "Value": ENDPOINT}, {"Name": "VariantName", "Value": "AllTraffic"}]
    for name, value in (("CPUUtilization", 150.0), ("MemoryUtilization", 70.0)):
        data = [
            {
                "MetricName": name,
                "Dimensions": dimensions,
                "Timestamp": START + timedelta(minutes=m),
                "Value": value,
            }
            for m in range(30)
        ]
        client.put_metric_data(Namespace="/aws/sagemaker/Endpoints", MetricData=data)
    try:
        yield url
    finally:
        server.stop()


def test_the_image_reads_cloudwatch_with_its_own_boto3(
    engine: Engine, monitoring_image, dataset, tmp_path, cloudwatch
):
    results, output, config = tmp_path / "resultdata", tmp_path / "opt-ml-output", tmp_path / "config"
    for folder in (results, output, config):
        folder.mkdir()
    arn = f"arn:aws:sagemaker:{REGION}:123456789012:processing-job/model-monitoring-1"
    (config / "processingjobconfig.json").write_text(json.dumps({"ProcessingJobArn": arn, "Environment": {}}))
    environment = sagemaker_environment(dataset, tmp_path, dataset_source=INPUT, output_path=RESULTS)
    environment |= CREDENTIALS | {"AWS_ENDPOINT_URL": cloudwatch, "MAX_MEMORY_PERCENT": "60"}
    args = ["run", "--rm", "--network", "host", "--volume", f"{dataset}:{INPUT}:ro"]
    args += ["--volume", f"{results}:{RESULTS}", "--volume", f"{output}:/opt/ml/output"]
    args += ["--volume", f"{config}:/opt/ml/config:ro"]
    for name, value in environment.items():
        args += ["--env", f"{name}={value}"]
    completed = engine.run(*args, monitoring_image, check=False, timeout=300)
    assert completed.returncode == 0, completed.stderr
    section = json.loads((results / "statistics.json").read_text())["endpoint_resources"]
    assert section["source"] == "CloudWatch" and section["problems"] == []
    assert section["cpu_percent_per_core"] == {"mean": 75.0, "max": 75.0}
    assert section["metrics"]["MemoryUtilization"]["periods_with_data"] == 30
    violations = json.loads((results / "constraint_violations.json").read_text())["violations"]
    assert [v["feature_name"] for v in violations] == ["memory_utilization_percent"]
    assert (
        (output / "message")
        .read_text()
        .startswith("CompletedWithViolations: Average memory utilization 70.0%")
    )
