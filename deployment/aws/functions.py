"""Lambda and CloudWatch Logs: the function behind `POST /predict`, its invoke permission, its log group."""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found
from deployment.resources.function import Function
from deployment.resources.lambda_permission import Permission
from deployment.resources.log_group import LogGroup

DESCRIPTION = "POST /predict of a pose-estimation deployment: calls its SageMaker endpoint"


@dataclass(frozen=True)
class FunctionStatus:
    state: str  # Pending | Active | Inactive | Failed
    last_update: str | None  # InProgress | Successful | Failed; absent right after creation
    reason: str

    @property
    def settled(self) -> bool:
        """Lambda accepts the next change only now."""
        return self.state == "Active" and self.last_update in (None, "Successful")

    @property
    def failed(self) -> bool:
        return self.state == "Failed" or self.last_update == "Failed"


class Functions:
    def __init__(self, client, logs) -> None:
        self.client = client
        self.logs = logs

    def read(self, name: str) -> Function | None:
        try:
            found = self.client.get_function(FunctionName=name)["Configuration"]
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return Function(
            name=found["FunctionName"],
            role_arn=found["Role"],
            runtime=found.get("Runtime", ""),
            handler=found.get("Handler", ""),
            timeout_seconds=found["Timeout"],
            memory_mb=found["MemorySize"],
            environment=tuple(sorted(found.get("Environment", {}).get("Variables", {}).items())),
            code_sha256=found["CodeSha256"],
        )

    def status(self, name: str) -> FunctionStatus:
        found = self.client.get_function_configuration(FunctionName=name)
        reason = found.get("LastUpdateStatusReason") or found.get("StateReason") or ""
        return FunctionStatus(found.get("State", "Active"), found.get("LastUpdateStatus"), reason)

    def create(self, function: Function, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.create_function(
            FunctionName=function.name,
            Runtime=function.runtime,
            Role=function.role_arn,
            Handler=function.handler,
            Code={"ZipFile": function.zip_file},
            Description=DESCRIPTION,
            Timeout=function.timeout_seconds,
            MemorySize=function.memory_mb,
            Environment={"Variables": dict(function.environment)},
            Tags=dict(tags),
        )

    def update_code(self, function: Function) -> None:
        self.client.update_function_code(FunctionName=function.name, ZipFile=function.zip_file)

    def update_configuration(self, function: Function) -> None:
        self.client.update_function_configuration(
            FunctionName=function.name,
            Role=function.role_arn,
            Runtime=function.runtime,
            Handler=function.handler,
            Timeout=function.timeout_seconds,
            MemorySize=function.memory_mb,
            Environment={"Variables": dict(function.environment)},
        )

    def delete(self, name: str) -> None:
        self.client.delete_function(FunctionName=name)  # its resource policy goes with it

    # Who may invoke it: the function's resource policy.

    def read_permission(self, function_name: str, statement_id: str) -> Permission | None:
        try:
            policy = json.loads(self.client.get_policy(FunctionName=function_name)["Policy"])
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        for statement in policy.get("Statement", []):
            if statement.get("Sid") == statement_id:
                condition = statement.get("Condition", {})
                source_arn = condition.get("ArnLike", {}).get("AWS:SourceArn", "")
                account = condition.get("StringEquals", {}).get("AWS:SourceAccount", "")
                principal = statement.get("Principal", {})
                service = principal.get("Service", "") if isinstance(principal, dict) else str(principal)
                return Permission(function_name, source_arn, statement_id, service, account)
        return None

    def add_permission(self, permission: Permission) -> None:
        self.client.add_permission(
            FunctionName=permission.function_name,
            StatementId=permission.statement_id,
            Action="lambda:InvokeFunction",
            Principal=permission.principal,
            SourceArn=permission.source_arn,
            **({"SourceAccount": permission.source_account} if permission.source_account else {}),
        )

    def remove_permission(self, permission: Permission) -> None:
        self.client.remove_permission(
            FunctionName=permission.function_name, StatementId=permission.statement_id
        )

    # Its log group: created here so it has a retention, and so `destroy` can remove it.

    def read_log_group(self, name: str) -> LogGroup | None:
        pages = self.logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        for page in pages:
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return LogGroup(name, group.get("retentionInDays", 0))
        return None

    def create_log_group(self, group: LogGroup, tags: tuple[tuple[str, str], ...]) -> None:
        self.logs.create_log_group(logGroupName=group.name, tags=dict(tags))
        self.set_retention(group)

    def set_retention(self, group: LogGroup) -> None:
        self.logs.put_retention_policy(logGroupName=group.name, retentionInDays=group.retention_days)

    def delete_log_group(self, name: str) -> None:
        self.logs.delete_log_group(logGroupName=name)
