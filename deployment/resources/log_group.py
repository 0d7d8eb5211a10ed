"""The Lambda's CloudWatch log group, made by the engine so that its retention is set."""

from __future__ import annotations

from dataclasses import dataclass

from deployment.naming import partition
from deployment.resources.base import Action, Kind, Resource, Run, TagService


@dataclass(frozen=True)
class LogGroup:
    name: str
    retention_days: int


class LogGroupResource(Resource):
    kind = Kind.LOG_GROUP
    tag_service = TagService.LOGS

    def create(self, run: Run, action: Action) -> None:
        run.aws.functions.create_log_group(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.functions.set_retention(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.functions.delete_log_group(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return f"arn:{partition(region)}:logs:{region}:{account_id}:log-group:{name}"


RESOURCES = (LogGroupResource(),)
