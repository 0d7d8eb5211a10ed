"""API Gateway (HTTP APIs): `POST /predict` → the Lambda, CORS for the page's origin, throttled.

API names are not unique: ours are those with our name and this deployment's tag, or our name and
no project tag at all (its tags removed by hand): the engine still finds, repairs and destroys it.
"""

from __future__ import annotations

from dataclasses import replace

from botocore.exceptions import ClientError

from deployment.aws.errors import is_not_found
from deployment.naming import PROJECT_TAG
from deployment.resources.http_api import Cors, HttpApi, Integration, NewApi, Route, Stage

DESCRIPTION = "Public API of a pose-estimation deployment: POST /predict with a photo"


class HttpApis:
    def __init__(self, client) -> None:
        self.client = client

    def find(self, name: str, deployment: str) -> HttpApi | None:
        found = self.find_all(name, deployment)
        return found[0] if found else None

    def find_all(self, name: str, deployment: str) -> tuple[HttpApi, ...]:
        """This deployment's APIs by that name: a tagged one first, then the oldest."""
        ours = [
            api
            for page in self.client.get_paginator("get_apis").paginate()
            for api in page["Items"]
            if api["Name"] == name and api.get("Tags", {}).get(PROJECT_TAG, deployment) == deployment
        ]
        ours.sort(key=lambda api: (PROJECT_TAG not in api.get("Tags", {}), str(api.get("CreatedDate", ""))))
        return tuple(
            HttpApi(name, _cors_from(api.get("CorsConfiguration")), api["ApiId"], api["ApiEndpoint"])
            for api in ours
        )

    def read_integration(self, api_id: str, function_arn: str) -> Integration | None:
        """Ours targets the function; any other (left from an edit by hand) is reported as changed."""
        found = [
            item
            for page in self.client.get_paginator("get_integrations").paginate(ApiId=api_id)
            for item in page["Items"]
        ]
        found.sort(key=lambda item: item.get("IntegrationUri") != function_arn)
        if not found:
            return None
        item = found[0]
        return Integration(
            item.get("IntegrationUri", ""),
            item.get("PayloadFormatVersion", ""),
            item.get("TimeoutInMillis", 0),
            api_id,
            item["IntegrationId"],
        )

    def read_route(self, api_id: str, route_key: str) -> Route | None:
        for page in self.client.get_paginator("get_routes").paginate(ApiId=api_id):
            for item in page["Items"]:
                if item["RouteKey"] == route_key:
                    target = item.get("Target", "")
                    return Route(route_key, target.removeprefix("integrations/"), api_id, item["RouteId"])
        return None

    def read_stage(self, api_id: str, name: str) -> Stage | None:
        try:
            found = self.client.get_stage(ApiId=api_id, StageName=name)
        except ClientError as error:
            if is_not_found(error):
                return None
            raise
        settings = found.get("DefaultRouteSettings", {})
        return Stage(
            float(settings.get("ThrottlingRateLimit", 0)),
            settings.get("ThrottlingBurstLimit", 0),
            name,
            found.get("AutoDeploy", False),
            api_id,
        )

    def create(self, state: NewApi, tags: tuple[tuple[str, str], ...]) -> HttpApi:
        """The API with every part; returns it with the id and endpoint API Gateway assigned."""
        request = {
            "Name": state.api.name,
            "ProtocolType": "HTTP",
            "Description": DESCRIPTION,
            "Tags": dict(tags),
        }
        if state.api.cors:
            request["CorsConfiguration"] = _cors_configuration(state.api.cors)
        created = self.client.create_api(**request)
        api_id = created["ApiId"]
        integration_id = self.create_integration(_on(state.integration, api_id))
        self.create_route(_on(state.route, api_id), integration_id)
        self.create_stage(_on(state.stage, api_id), tags)
        return HttpApi(state.api.name, state.api.cors, api_id, created["ApiEndpoint"])

    def update_cors(self, api: HttpApi) -> None:
        if api.cors:
            self.client.update_api(ApiId=api.api_id, CorsConfiguration=_cors_configuration(api.cors))
        else:
            self.client.delete_cors_configuration(ApiId=api.api_id)

    def create_integration(self, integration: Integration) -> str:
        created = self.client.create_integration(
            ApiId=integration.api_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=integration.function_arn,
            PayloadFormatVersion=integration.payload_format_version,
            TimeoutInMillis=integration.timeout_ms,
        )
        return created["IntegrationId"]

    def update_integration(self, integration: Integration) -> None:
        self.client.update_integration(
            ApiId=integration.api_id,
            IntegrationId=integration.integration_id,
            IntegrationType="AWS_PROXY",
            IntegrationUri=integration.function_arn,
            PayloadFormatVersion=integration.payload_format_version,
            TimeoutInMillis=integration.timeout_ms,
        )

    def create_route(self, route: Route, integration_id: str) -> None:
        self.client.create_route(
            ApiId=route.api_id,
            RouteKey=route.route_key,
            Target=f"integrations/{integration_id}",
            AuthorizationType="NONE",  # a public demo; throttling limits what anyone can do
        )

    def update_route(self, route: Route, integration_id: str) -> None:
        self.client.update_route(
            ApiId=route.api_id, RouteId=route.route_id, Target=f"integrations/{integration_id}"
        )

    def create_stage(self, stage: Stage, tags: tuple[tuple[str, str], ...]) -> None:
        self.client.create_stage(
            ApiId=stage.api_id,
            StageName=stage.name,
            AutoDeploy=stage.auto_deploy,
            DefaultRouteSettings=_throttling(stage),
            Tags=dict(tags),
        )

    def update_stage(self, stage: Stage) -> None:
        self.client.update_stage(
            ApiId=stage.api_id,
            StageName=stage.name,
            AutoDeploy=stage.auto_deploy,
            DefaultRouteSettings=_throttling(stage),
        )

    def delete(self, api_id: str) -> None:
        self.client.delete_api(ApiId=api_id)  # its integrations, routes and stages go with it


def _on(part, api_id: str):
    """A part of the API, placed on the API just created."""
    return replace(part, api_id=api_id)


def _cors_configuration(cors: Cors) -> dict:
    return {
        "AllowOrigins": sorted(cors.allow_origins),
        "AllowMethods": list(cors.allow_methods),
        "AllowHeaders": list(cors.allow_headers),
        "MaxAge": cors.max_age_seconds,
    }


def _cors_from(configuration: dict | None) -> Cors | None:
    if not configuration or not configuration.get("AllowOrigins"):
        return None
    return Cors(
        tuple(sorted(configuration["AllowOrigins"])),
        tuple(sorted(method.upper() for method in configuration.get("AllowMethods", []))),
        tuple(sorted(header.lower() for header in configuration.get("AllowHeaders", []))),
        configuration.get("MaxAge", 0),
    )


def _throttling(stage: Stage) -> dict:
    return {
        "ThrottlingBurstLimit": stage.throttle_burst_limit,
        "ThrottlingRateLimit": stage.throttle_rate_limit,
    }
