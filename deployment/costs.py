"""What a deployed stage costs while it stands, for the pull-request comment and `validate`.

Prices are not known offline; the table holds the one instance type config.yml defaults to, at
AWS's on-demand real-time inference price in us-east-1. Other types point to the pricing page.
"""

from __future__ import annotations

from deployment.config import Config

PRICING_PAGE = "https://aws.amazon.com/sagemaker/pricing/"
# USD per instance-hour, SageMaker real-time inference, us-east-1, on demand.
HOURLY_USD = {"ml.m5.large": 0.115}


def hourly_cost(config: Config) -> str:
    """One line: what the endpoint bills per hour, and what else runs on a schedule."""
    endpoint = config.endpoint
    if endpoint.serverless:
        cost = "a serverless endpoint: billed per request, nothing while idle"
    elif endpoint.instance_type in HOURLY_USD:
        price = HOURLY_USD[endpoint.instance_type] * endpoint.instance_count
        cost = (
            f"about ${price:.3f}/hour ({endpoint.instance_count} x {endpoint.instance_type}, "
            "on-demand in us-east-1)"
        )
    else:
        cost = f"{endpoint.instance_count} x {endpoint.instance_type} per hour: see {PRICING_PAGE}"
    if config.monitoring.enabled:
        cost += f", plus a monitoring job on {config.monitoring.instance_type} for a few minutes each run"
    return cost
