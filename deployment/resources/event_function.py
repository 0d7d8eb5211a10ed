"""A Lambda that an AWS service calls on an event: its own least-privilege role, its log group, the
function, and the one permission that lets that service invoke it.

The registry's two event kinds (approval.py, model_upload.py) are each one of these plus what
sends the events (a rule, a bucket notification). Reading back reads each part; `converge` makes
each one right in the order each needs the one before, so a part deleted or changed by hand, or
missing after an interrupted deploy, is made right by the next deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from deployment.lambda_package import code_sha256, handler_zip
from deployment.policies import LAMBDA, canonical
from deployment.resources.base import Run
from deployment.resources.function import Function, wait_for_function
from deployment.resources.lambda_permission import Permission
from deployment.resources.log_group import LogGroup
from deployment.resources.role import Role, boundary_arn

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names

RUNTIME = "python3.12"


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the event functions: the rest is built the same way."""

    name: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    policy: dict  # the role's inline policy, without its log statement (added here)
    invoker: str  # the service principal that may invoke it
    source_arn: str  # ...from this resource only
    statement_id: str


@dataclass(frozen=True)
class FunctionParts:
    role: Role | None
    log_group: LogGroup | None
    function: Function | None
    permission: Permission | None

    def any(self) -> bool:
        return any(part is not None for part in (self.role, self.log_group, self.function))


def function_parts(config: Config, names: Names, spec: FunctionSpec) -> FunctionParts:
    log_group = f"/aws/lambda/{spec.name}"
    logs = {
        "Sid": "WriteItsOwnLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"arn:aws:logs:{names.region}:{names.account_id}:log-group:{log_group}:*",
    }
    policy = {**spec.policy, "Statement": [*spec.policy["Statement"], logs]}
    role = Role(
        spec.name,
        names.role_arn(spec.name),
        canonical(policy),
        service=LAMBDA,
        boundary=boundary_arn(config.project.name, names.account_id),
    )
    zip_file = handler_zip()
    function = Function(
        spec.name,
        role.arn,
        RUNTIME,
        spec.handler,
        spec.timeout_seconds,
        spec.memory_mb,
        tuple(sorted(spec.environment)),
        code_sha256(zip_file),
        zip_file,
    )
    permission = Permission(spec.name, spec.source_arn, spec.statement_id, spec.invoker, names.account_id)
    return FunctionParts(role, LogGroup(log_group, config.api.log_retention_days), function, permission)


def read_parts(aws: Aws, name: str, statement_id: str) -> FunctionParts:
    function = aws.functions.read(name)
    return FunctionParts(
        aws.identity.read_role(name, LAMBDA),
        aws.functions.read_log_group(f"/aws/lambda/{name}"),
        function,
        aws.functions.read_permission(name, statement_id) if function else None,
    )


def converge(run: Run, wanted: FunctionParts) -> None:
    """Each part made, or changed to what is wanted."""
    aws = run.aws
    role = aws.identity.read_role(wanted.role.name, LAMBDA)
    if role is None:
        aws.identity.create_role(wanted.role, run.tags)
    elif role != wanted.role:
        aws.identity.put_policy(wanted.role)
    group = aws.functions.read_log_group(wanted.log_group.name)
    if group is None:
        aws.functions.create_log_group(wanted.log_group, run.tags)
    elif group != wanted.log_group:
        aws.functions.set_retention(wanted.log_group)
    _converge_function(run, wanted.function)
    permission = aws.functions.read_permission(wanted.function.name, wanted.permission.statement_id)
    if permission != wanted.permission:
        if permission is not None:
            aws.functions.remove_permission(permission)
        aws.functions.add_permission(wanted.permission)


def _converge_function(run: Run, wanted: Function) -> None:
    aws = run.aws
    function = aws.functions.read(wanted.name)
    if function is None:
        run.retry_while_role_propagates(lambda: aws.functions.create(wanted, run.tags))
        wait_for_function(run, wanted.name)
        return
    if function.code_sha256 != wanted.code_sha256:
        wait_for_function(run, wanted.name)
        aws.functions.update_code(wanted)
    if replace(function, code_sha256=wanted.code_sha256) != wanted:  # its settings, the code apart
        wait_for_function(run, wanted.name)
        aws.functions.update_configuration(wanted)
    wait_for_function(run, wanted.name)


def delete_parts(aws: Aws, found: FunctionParts) -> None:
    if found.function:
        aws.functions.delete(found.function.name)  # its permission goes with it
    if found.log_group:
        aws.functions.delete_log_group(found.log_group.name)
    if found.role:
        aws.identity.delete_role(found.role.name)
