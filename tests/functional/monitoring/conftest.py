"""The deployment tests' Stubber clients: every GetMetricData request is validated against botocore's model."""

from tests.functional.deployment.conftest import aws_session, stubbed  # noqa: F401 - fixtures
