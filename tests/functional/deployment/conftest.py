"""Real botocore clients whose every request must match a `Stubber` expectation exactly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber


@pytest.fixture(scope="session")
def aws_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[boto3.Session]:
    """One botocore session (its service models load once); no profile or config file is read."""
    empty: Path = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
            patch.delenv(variable, raising=False)
        patch.setenv("AWS_CONFIG_FILE", str(empty / "config"))
        patch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(empty / "credentials"))
        patch.setenv("AWS_ACCESS_KEY_ID", "testing")
        patch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        yield boto3.Session()


@pytest.fixture
def stubbed(aws_session: boto3.Session) -> Iterator[Callable]:
    """`client, stubber = stubbed("sagemaker")`: every request is answered in-process by the Stubber."""
    stubbers: list[Stubber] = []

    def make(service: str, region: str = "us-east-1"):
        client = aws_session.client(service, region_name=region)
        stubber = Stubber(client)
        stubber.activate()
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.deactivate()
