"""The stubbed sagemaker-runtime client the Lambda handler's tests call through."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from proxy import handler as proxy_handler
from tests.functional.proxy.events import ENDPOINT


@pytest.fixture
def runtime(monkeypatch):
    monkeypatch.setattr(proxy_handler, "ENDPOINT_NAME", ENDPOINT)
    client = boto3.client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()
