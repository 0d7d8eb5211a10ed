"""The drop folder (`batch.drop_folder.enabled`): photos put under `{stage}/inbox/` in the stage's
bucket become results under `{stage}/outbox/` (failures, with the reason, under `{stage}/failed/`).

One kind for its five parts, made and removed together: a least-privilege role, the function's log
group, the function (the `proxy` package's `drop_folder.handler`, the API's zip), S3's permission to
invoke it from this bucket and account, and the bucket's event notification for the input prefix
(kept beside the bucket's other notifications, which are left as they are). Reading it back reads
each part; `create` and `update` both bring every part to what is desired, so a part deleted or
changed by hand, or missing after an interrupted deploy, is made right by the next deploy.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from deployment.lambda_package import DROP_FOLDER_HANDLER, code_sha256, handler_zip
from deployment.policies import LAMBDA, canonical
from deployment.resources.base import Action, Kind, Phase, Run, Standalone
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
TIMEOUT_SECONDS = 120  # a few photos per event, each up to the endpoint's 60 s
MEMORY_MB = 256
STATEMENT = "invoke-from-s3"
EVENTS = ("s3:ObjectCreated:*",)
INBOX, OUTBOX, FAILED = "inbox", "outbox", "failed"


@dataclass(frozen=True)
class Notification:
    bucket: str
    notification_id: str
    function_arn: str
    prefix: str
    events: tuple[str, ...] = EVENTS


@dataclass(frozen=True)
class DropFolder:
    name: str  # the function's
    role: Role | None
    log_group: LogGroup | None
    function: Function | None
    permission: Permission | None
    notification: Notification | None
    prefixes: tuple[str, str, str] = field(default=("", "", ""), compare=False)  # input, results, failed


def drop_folder(config: Config, names: Names) -> DropFolder:
    bucket = names.bucket(config.s3.bucket)
    name = function_name(names)
    inbox, outbox, failed = (f"{names.prefix}/{folder}/" for folder in (INBOX, OUTBOX, FAILED))
    log_group = f"/aws/lambda/{name}"
    arn = f"arn:aws:lambda:{names.region}:{names.account_id}:function:{name}"
    role = Role(
        name,
        names.role_arn(name),
        canonical(_policy(bucket, (inbox, outbox, failed), names, log_group)),
        service=LAMBDA,
        boundary=boundary_arn(config.project.name, names.account_id),
    )
    environment = (
        ("ENDPOINT_NAME", names.endpoint),
        ("FAILED_PREFIX", failed),
        ("INPUT_PREFIX", inbox),
        ("RESULT_PREFIX", outbox),
    )
    zip_file = handler_zip()
    function = Function(
        name,
        role.arn,
        RUNTIME,
        DROP_FOLDER_HANDLER,
        TIMEOUT_SECONDS,
        MEMORY_MB,
        environment,
        code_sha256(zip_file),
        zip_file,
    )
    permission = Permission(name, f"arn:aws:s3:::{bucket}", STATEMENT, "s3.amazonaws.com", names.account_id)
    notification = Notification(bucket, name, arn, inbox)
    group = LogGroup(log_group, config.api.log_retention_days)
    return DropFolder(name, role, group, function, permission, notification, (inbox, outbox, failed))


def function_name(names: Names) -> str:
    """`{stage}-predict-...`: one session-policy pattern covers it and the API's function."""
    return f"{names.function}-drop-folder"


def _policy(bucket: str, prefixes: tuple[str, str, str], names: Names, log_group: str) -> dict:
    """Read the inbox, write the two result folders, invoke this endpoint, write its own log."""
    inbox, outbox, failed = prefixes
    objects = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheInbox",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{objects}/{inbox}*",
            },
            {
                "Sid": "WriteResults",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [f"{objects}/{outbox}*", f"{objects}/{failed}*"],
            },
            {
                "Sid": "InvokeTheEndpoint",
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": names.endpoint_arn(),
            },
            {
                "Sid": "WriteItsOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:aws:logs:{names.region}:{names.account_id}:log-group:{log_group}:*",
            },
        ],
    }


class DropFolderResource(Standalone):
    kind = Kind.DROP_FOLDER
    phase = Phase.AFTER_ENDPOINT  # it invokes the endpoint

    def desired(self, config: Config, names: Names) -> tuple[DropFolder, ...]:
        return (drop_folder(config, names),) if config.batch.drop_folder.enabled else ()

    def read(self, aws: Aws, lookup: Lookup) -> tuple[DropFolder, ...]:
        """Its parts as they are; none at all is no drop folder (destroy also finds a half-made one)."""
        name = function_name(lookup.names)
        function = aws.functions.read(name)
        found = DropFolder(
            name,
            aws.identity.read_role(name, LAMBDA),
            aws.functions.read_log_group(f"/aws/lambda/{name}"),
            function,
            aws.functions.read_permission(name, STATEMENT) if function else None,
            aws.storage.read_notification(lookup.bucket, name) if lookup.bucket_exists else None,
        )
        parts = (found.role, found.log_group, found.function, found.notification)
        return (found,) if any(part is not None for part in parts) else ()

    def create(self, run: Run, action: Action) -> None:
        _converge(run, action.target)

    update = create

    def delete(self, run: Run, action: Action) -> None:
        found: DropFolder = action.target
        aws = run.aws
        if found.notification:
            aws.storage.remove_notification(found.notification.bucket, found.notification.notification_id)
        if found.function:
            aws.functions.delete(found.name)  # its permission goes with it
        if found.log_group:
            aws.functions.delete_log_group(found.log_group.name)
        if found.role:
            aws.identity.delete_role(found.role.name)


def _converge(run: Run, wanted: DropFolder) -> None:
    """Each part made, or changed to what is wanted: in the order each needs the one before."""
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
    function = aws.functions.read(wanted.name)
    if function is None:
        run.retry_while_role_propagates(lambda: aws.functions.create(wanted.function, run.tags))
        wait_for_function(run, wanted.name)
    else:
        if function.code_sha256 != wanted.function.code_sha256:
            wait_for_function(run, wanted.name)
            aws.functions.update_code(wanted.function)
        # Its settings, compared as function_actions compares the API's (the code apart).
        if replace(function, code_sha256=wanted.function.code_sha256) != wanted.function:
            wait_for_function(run, wanted.name)
            aws.functions.update_configuration(wanted.function)
        wait_for_function(run, wanted.name)
    permission = aws.functions.read_permission(wanted.name, STATEMENT)
    if permission != wanted.permission:
        if permission is not None:
            aws.functions.remove_permission(permission)
        aws.functions.add_permission(wanted.permission)
    notification = wanted.notification
    if aws.storage.read_notification(notification.bucket, notification.notification_id) != notification:
        aws.storage.put_notification(notification)


RESOURCES = (DropFolderResource(),)
