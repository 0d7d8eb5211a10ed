"""What the monitoring job needs to read the endpoint's metrics: the execution role's permission (under
the boundary) and the schedule's Environment, which changes only when config.yml asks for more."""

from __future__ import annotations

import json

import pytest

from deployment.boundary_policy import boundary_policy
from deployment.config import load_config
from deployment.deploy_policy import Project
from monitoring import config as job_config
from monitoring.contract import ResourceLimits
from tests.conftest import REPO
from tests.unit.deployment.builders import ACCOUNT, desired
from tests.unit.deployment.iam_eval import Request, allowed

GET_METRIC_DATA = Request("cloudwatch:GetMetricData", "*")


def test_the_execution_role_may_read_metrics_and_the_boundary_lets_it():
    role = desired().role
    policy = json.loads(role.policy)
    assert allowed(policy, GET_METRIC_DATA)
    # Exactly one new read: nothing else of CloudWatch's read side (ListMetrics, GetMetricStatistics ...).
    granted = {
        action
        for statement in policy["Statement"]
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        if action.startswith("cloudwatch:")
    }
    assert granted == {"cloudwatch:PutMetricData", "cloudwatch:DescribeAlarms", "cloudwatch:GetMetricData"}
    settings = load_config(REPO / "config.yml", ["project.stage=dev", "project.region=eu-west-1"])
    boundary = boundary_policy(Project.of(settings, ACCOUNT))
    assert allowed(boundary, GET_METRIC_DATA)
    assert not allowed(boundary, Request("cloudwatch:ListMetrics", "*"))


def test_a_default_config_adds_nothing_to_the_schedules_environment():
    assert dict(desired().schedule.environment) == {"THRESHOLD": "1.0"}


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ({"instance_type": "ml.c5.2xlarge"}, {"ENDPOINT_VCPUS": "8"}),
        ({"variant_name": "Blue"}, {"ENDPOINT_VARIANT": "Blue"}),
    ],
)
def test_the_variant_and_vcpus_go_only_when_not_the_defaults(endpoint, expected):
    environment = dict(desired({"endpoint": endpoint}).schedule.environment)
    assert environment == {"THRESHOLD": "1.0", **expected}


def test_the_thresholds_reach_the_job_as_it_reads_them(tmp_path):
    document = {
        "endpoint": {"instance_type": "ml.m5.xlarge"},
        "monitoring": {"max_memory_percent": 85, "max_cpu_percent_per_core": 72.5, "max_error_percent": 1},
    }
    environment = dict(desired(document).schedule.environment)
    assert environment == {
        "THRESHOLD": "1.0",
        "MAX_MEMORY_PERCENT": "85.0",
        "MAX_CPU_PERCENT_PER_CORE": "72.5",
        "MAX_ERROR_PERCENT": "1.0",
        "ENDPOINT_VCPUS": "4",
    }
    loaded = job_config.load({**environment, "MONITORING_JOB_CONFIG": str(tmp_path / "absent.json")})
    assert (loaded.resources.limits, loaded.resources.vcpus) == (ResourceLimits(85.0, 72.5, 1.0), 4)
