"""CloudWatch dashboards (global to the account, untaggable: found by name)."""

from __future__ import annotations

import json

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found
from deployment.errors import DeploymentError
from deployment.resources.dashboard import Dashboard, canonical_body


class Dashboards:
    def __init__(self, client) -> None:
        self.client = client

    def read(self, name: str) -> Dashboard | None:
        try:
            found = self.client.get_dashboard(DashboardName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        return Dashboard(name, canonical_body(json.loads(found["DashboardBody"])))

    def put(self, dashboard: Dashboard) -> None:
        answer = self.client.put_dashboard(DashboardName=dashboard.name, DashboardBody=dashboard.body)
        # CloudWatch may save a dashboard it finds fault with, and say what: the body is ours, a bug.
        messages = answer.get("DashboardValidationMessages", [])
        if messages:
            raise DeploymentError(
                "CloudWatch found fault with the dashboard: "
                + "; ".join(m.get("Message", "") for m in messages),
                where=dashboard.name,
            )

    def delete(self, name: str) -> None:
        self.client.delete_dashboards(DashboardNames=[name])
