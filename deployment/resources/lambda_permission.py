"""API Gateway may invoke the Lambda, from this API's `POST /predict` only."""

from __future__ import annotations

from dataclasses import dataclass

from deployment.resources.base import Action, Kind, Resource, Run
from deployment.resources.placeholders import Template

PERMISSION_STATEMENT = "invoke-from-http-api"


@dataclass(frozen=True)
class Permission:
    function_name: str
    source_arn: str | Template  # names the API's id: a Template until the API exists
    statement_id: str = PERMISSION_STATEMENT


class PermissionResource(Resource):
    kind = Kind.LAMBDA_PERMISSION

    def create(self, run: Run, action: Action) -> None:
        run.aws.functions.add_permission(action.target)

    def update(self, run: Run, action: Action) -> None:
        run.aws.functions.remove_permission(action.target)
        run.aws.functions.add_permission(action.target)


RESOURCES = (PermissionResource(),)
