"""A Lambda that an AWS service calls on an event: its own least-privilege role, its log group, the
function, the one permission that lets that service invoke it, and what sends the events (its
trigger: a rule, a bucket notification).

The drop folder (drop_folder.py) and the registry's two event kinds (approval.py, model_upload.py)
are each one of these, as one kind: its parts are read back, planned and made together. `create`
and `update` make each part right in the order each needs the one before (role, log group,
function, permission, trigger), so a part deleted or changed by hand, or missing after an
interrupted deploy, is made right by the next deploy; `delete` removes the trigger first, so no
event reaches a function being removed.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from deployment.lambda_package import code_sha256, handler_zip
from deployment.policies import LAMBDA, canonical
from deployment.resources.base import Action, Run, Standalone
from deployment.resources.function import Function, wait_for_function
from deployment.resources.lambda_permission import Permission
from deployment.resources.log_group import LogGroup
from deployment.resources.role import Role, boundary_arn

if TYPE_CHECKING:
    from deployment.aws import Aws
    from deployment.config import Config
    from deployment.naming import Names
    from deployment.remote import Lookup

RUNTIME = "python3.12"
S3_EVENTS = ("s3:ObjectCreated:*",)

Trigger = TypeVar("Trigger")


@dataclass(frozen=True)
class FunctionSpec:
    """What differs between the event functions: the rest is built the same way."""

    name: str
    handler: str
    timeout_seconds: int
    memory_mb: int
    environment: tuple[tuple[str, str], ...]
    policy: dict  # the role's inline policy, without its log statement (added here)


@dataclass(frozen=True)
class Invoker:
    """Who may invoke the function: one service, from one resource only, by one statement."""

    principal: str
    source_arn: str
    statement_id: str


@dataclass(frozen=True)
class EventFunction(Generic[Trigger]):
    """One kind's parts, flat so that a plan names the ones that differ."""

    name: str  # the function's and its role's
    role: Role | None
    log_group: LogGroup | None
    function: Function | None
    permission: Permission | None
    trigger: Trigger | None


@dataclass(frozen=True)
class Notification:
    """A bucket's event notification for one prefix, one entry (by id) beside the bucket's others."""

    bucket: str
    notification_id: str
    function_arn: str
    prefix: str
    events: tuple[str, ...] = S3_EVENTS


Notified = EventFunction[Notification]  # a function and the bucket notification that invokes it


def event_function(
    config: Config, names: Names, spec: FunctionSpec, invoker: Invoker, trigger: Trigger
) -> EventFunction[Trigger]:
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
    permission = Permission(
        spec.name, invoker.source_arn, invoker.statement_id, invoker.principal, names.account_id
    )
    group = LogGroup(log_group, config.api.log_retention_days)
    return EventFunction(spec.name, role, group, function, permission, trigger)


def function_arn(names: Names, name: str) -> str:
    return f"arn:aws:lambda:{names.region}:{names.account_id}:function:{name}"


def notified_by_bucket(config: Config, names: Names, spec: FunctionSpec, prefix: str) -> Notified:
    """`spec`'s function, invoked by S3 for each object created under `prefix` in the stage's bucket."""
    bucket = names.bucket(config.s3.bucket)
    invoker = Invoker("s3.amazonaws.com", f"arn:aws:s3:::{bucket}", BucketNotified.statement)
    notification = Notification(bucket, spec.name, function_arn(names, spec.name), prefix)
    return event_function(config, names, spec, invoker, notification)


class EventFunctionResource(Standalone, Generic[Trigger]):
    """The verbs of a kind that is one event function: a kind names its function and statement and
    says how its trigger is read, made right and removed."""

    statement: ClassVar[str]  # the invoke permission's statement id

    def function_name(self, names: Names) -> str:
        raise NotImplementedError

    def read_trigger(self, aws: Aws, lookup: Lookup, name: str) -> Trigger | None:
        raise NotImplementedError

    def converge_trigger(self, run: Run, wanted: Trigger) -> None:
        raise NotImplementedError

    def delete_trigger(self, run: Run, found: Trigger) -> None:
        raise NotImplementedError

    def read(self, aws: Aws, lookup: Lookup) -> tuple[EventFunction[Trigger], ...]:
        """Its parts as they are; none at all is none (destroy also finds a half-made one)."""
        name = self.function_name(lookup.names)
        function = aws.functions.read(name)
        found = EventFunction(
            name,
            aws.identity.read_role(name, LAMBDA),
            aws.functions.read_log_group(f"/aws/lambda/{name}"),
            function,
            aws.functions.read_permission(name, self.statement) if function else None,
            self.read_trigger(aws, lookup, name),
        )
        parts = (found.role, found.log_group, found.function, found.trigger)
        return (found,) if any(part is not None for part in parts) else ()

    def create(self, run: Run, action: Action) -> None:
        wanted: EventFunction[Trigger] = action.target
        _converge_parts(run, wanted)
        self.converge_trigger(run, wanted.trigger)

    update = create

    def delete(self, run: Run, action: Action) -> None:
        found: EventFunction[Trigger] = action.target
        aws = run.aws
        if found.trigger is not None:  # first: no event reaches a function being removed
            self.delete_trigger(run, found.trigger)
        if found.function:
            aws.functions.delete(found.name)  # its permission goes with it
        if found.log_group:
            aws.functions.delete_log_group(found.log_group.name)
        if found.role:
            aws.identity.delete_role(found.role.name)


class BucketNotified(EventFunctionResource[Notification]):
    """An event function that S3 calls for each object created under a prefix of the stage's bucket."""

    statement = "invoke-from-s3"

    def read_trigger(self, aws: Aws, lookup: Lookup, name: str) -> Notification | None:
        return aws.storage.read_notification(lookup.bucket, name) if lookup.bucket_exists else None

    def converge_trigger(self, run: Run, wanted: Notification) -> None:
        storage = run.aws.storage
        if storage.read_notification(wanted.bucket, wanted.notification_id) != wanted:
            storage.put_notification(wanted)

    def delete_trigger(self, run: Run, found: Notification) -> None:
        run.aws.storage.remove_notification(found.bucket, found.notification_id)


def _converge_parts(run: Run, wanted: EventFunction) -> None:
    """Role, log group, function and permission made, or changed to what is wanted."""
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
    # Its settings, compared as function_actions compares the API's (the code apart).
    if replace(function, code_sha256=wanted.code_sha256) != wanted:
        wait_for_function(run, wanted.name)
        aws.functions.update_configuration(wanted)
    wait_for_function(run, wanted.name)
