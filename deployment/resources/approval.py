"""Deploy on approval (`registry.deploy_on_approval: STAGE`): approving a version in the model
registry moves that stage's endpoint to it.

An EventBridge rule matches SageMaker's "Model Package State Change" events of this project's group
with `ModelApprovalStatus` Approved and targets a Lambda (`proxy/approved.py`) with a role of its
own. The rule lives with the stage it deploys: it is made, repaired and removed when that stage
deploys or is destroyed, and every other stage has none. It is an event function
(event_function.py) triggered by the rule; the rule's tags are compared, so they are repaired too.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from deployment.naming import deployment_tags
from deployment.resources.alarm import AlarmResource
from deployment.resources.base import Kind, Phase, Run
from deployment.resources.endpoint import Deployment, Endpoint, deployment_config
from deployment.resources.event_function import (
    EventFunction,
    EventFunctionResource,
    FunctionSpec,
    Invoker,
    event_function,
    function_arn,
)

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

HANDLER = "proxy.approved.handler"
STATEMENT = "invoke-from-eventbridge"
TARGET_ID = "deploy-approved-version"
# It waits while the endpoint is busy with an earlier update, up to Lambda's longest run.
TIMEOUT_SECONDS = 900
MEMORY_MB = 128
DETAIL_TYPE = "SageMaker Model Package State Change"


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: str  # JSON, keys sorted
    description: str
    enabled: bool
    targets: tuple[tuple[str, str], ...]  # (id, ARN)
    tags: tuple[tuple[str, str], ...]
    arn: str = field(default="", compare=False)


def name_of(names: Names) -> str:
    """`{stage}-registry-...`: the registry's event functions share one session-policy pattern."""
    return f"{names.prefix}-registry-deploy"


def approval_deploy(config: Config, names: Names) -> EventFunction[Rule]:
    """The function and its rule, both named `name_of(names)`."""
    name = name_of(names)
    rule_arn = f"arn:aws:events:{names.region}:{names.account_id}:rule/{name}"
    spec = FunctionSpec(
        name,
        HANDLER,
        TIMEOUT_SECONDS,
        MEMORY_MB,
        _environment(config, names),
        _policy(config, names),
    )
    pattern = {
        "source": ["aws.sagemaker"],
        "detail-type": [DETAIL_TYPE],
        "detail": {"ModelPackageGroupName": [config.project.name], "ModelApprovalStatus": ["Approved"]},
    }
    rule = Rule(
        name,
        json.dumps(pattern, sort_keys=True),
        f"Deploys each approved version of model group {config.project.name} to {names.endpoint}",
        True,
        ((TARGET_ID, function_arn(names, name)),),
        deployment_tags(config.project.tags, names.prefix),
    )
    return event_function(config, names, spec, Invoker("events.amazonaws.com", rule_arn, STATEMENT), rule)


def _environment(config: Config, names: Names) -> tuple[tuple[str, str], ...]:
    update = config.update
    alarms = tuple(alarm.name for alarm in AlarmResource().desired(config, names))
    deployment = Deployment(
        update.strategy,
        update.step_percent,
        update.wait_seconds,
        update.termination_wait_seconds,
        update.max_execution_timeout_seconds,
        alarms,
    )
    blue_green = deployment_config(Endpoint(names.endpoint, "", deployment))
    return (
        ("DEPLOYMENT_CONFIG", json.dumps(blue_green, sort_keys=True, separators=(",", ":"))),
        ("ENDPOINT_NAME", names.endpoint),
        ("EXECUTION_ROLE_ARN", execution_role(config, names)),
        ("MODEL_GROUP", config.project.name),
        ("NAME_PREFIX", names.prefix),
        ("TAGS", json.dumps(dict(deployment_tags(config.project.tags, names.prefix)), sort_keys=True)),
    )


def execution_role(config: Config, names: Names) -> str:
    return config.iam.execution_role_arn or names.role_arn(names.execution_role)


def _policy(config: Config, names: Names) -> dict:
    """Read the group's versions; make this stage's models and configs; update this endpoint."""
    sagemaker = f"arn:aws:sagemaker:{names.region}:{names.account_id}"
    made = [
        f"{sagemaker}:model/{names.prefix}-model-*",
        f"{sagemaker}:endpoint-config/{names.prefix}-config-*",
    ]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheGroupsVersions",
                "Effect": "Allow",
                "Action": "sagemaker:DescribeModelPackage",
                "Resource": f"{sagemaker}:model-package/{config.project.name}/*",
            },
            {
                "Sid": "ListVersions",
                "Effect": "Allow",
                "Action": "sagemaker:ListModelPackages",
                "Resource": "*",
            },
            {
                "Sid": "NewModelAndConfig",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:CreateModel",
                    "sagemaker:DescribeModel",
                    "sagemaker:CreateEndpointConfig",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:AddTags",
                ],
                "Resource": made,
            },
            {
                "Sid": "UpdateTheEndpoint",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeEndpoint", "sagemaker:UpdateEndpoint"],
                "Resource": names.endpoint_arn(),
            },
            {
                "Sid": "PassTheExecutionRole",
                "Effect": "Allow",
                "Action": "iam:PassRole",
                "Resource": execution_role(config, names),
                "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}},
            },
        ],
    }


class ApprovalDeployResource(EventFunctionResource[Rule]):
    kind = Kind.APPROVAL_DEPLOY
    phase = Phase.AFTER_ENDPOINT  # it updates the endpoint
    statement = STATEMENT

    def desired(self, config: Config, names: Names) -> tuple[EventFunction[Rule], ...]:
        wanted = config.registry.deploy_on_approval
        return (approval_deploy(config, names),) if wanted == config.project.stage else ()

    def function_name(self, names: Names) -> str:
        return name_of(names)

    def read_trigger(self, aws: Aws, lookup: Lookup, name: str) -> Rule | None:
        return aws.events.read_rule(name)

    def converge_trigger(self, run: Run, wanted: Rule) -> None:
        _converge_rule(run, wanted)

    def delete_trigger(self, run: Run, found: Rule) -> None:
        run.aws.events.delete_rule(found.name)


def _converge_rule(run: Run, wanted: Rule) -> None:
    events = run.aws.events
    found = events.read_rule(wanted.name)
    settings = (wanted.pattern, wanted.description, wanted.enabled)
    if found is None or (found.pattern, found.description, found.enabled) != settings:
        arn = events.put_rule(wanted)  # creates it with its tags, or changes it in place
    else:
        arn = found.arn
    if found is not None and found.tags != wanted.tags:  # PutRule tags only a new rule
        stale = tuple(key for key, _ in found.tags if key not in dict(wanted.tags))
        events.tag_rule(arn, wanted.tags, stale)
    if found is None or found.targets != wanted.targets:
        extra = tuple(id_ for id_, _ in (found.targets if found else ()) if id_ not in dict(wanted.targets))
        events.remove_targets(wanted.name, extra)
        events.put_targets(wanted)


RESOURCES = (ApprovalDeployResource(),)
