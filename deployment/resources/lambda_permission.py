"""Who may invoke a Lambda: API Gateway from this API's `POST /predict` only (or S3, from one bucket)."""

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
    principal: str = "apigateway.amazonaws.com"  # the service that may invoke it
    # The account the source must belong to: for S3, whose bucket ARNs name no account.
    source_account: str = ""


class PermissionResource(Resource):
    kind = Kind.LAMBDA_PERMISSION

    def create(self, run: Run, action: Action) -> None:
        run.aws.functions.add_permission(action.target)

    def update(self, run: Run, action: Action) -> None:
        run.aws.functions.remove_permission(action.target)
        run.aws.functions.add_permission(action.target)


RESOURCES = (PermissionResource(),)
