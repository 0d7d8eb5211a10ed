"""The public HTTP API (API Gateway v2): its CORS, the Lambda integration, `POST /predict`, the stage.

A new API is created with its integration, route and stage in one action, because they all need
the id API Gateway assigns it; an existing API's parts are compared and changed one by one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.naming import partition
from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb, compare
from deployment.resources.placeholders import Variable

INTEGRATION_TIMEOUT_MS = 29000  # an HTTP API gives its integration 30 s
ROUTE_KEY = "POST /predict"
STAGE = "$default"
CORS_MAX_AGE_SECONDS = 3600  # browsers cache the preflight answer this long (Chrome caps it at 2 h)
NEW_API = "with its integration, route POST /predict and $default stage"

# What creating the API and its integration records for the actions after them.
API_ID = Variable("api.id")
API_URL = Variable("api.url")
INTEGRATION_ID = Variable("api.integration_id")


@dataclass(frozen=True)
class Cors:
    # The web page's HTTPS origin is a Variable until its distribution exists (web.origin).
    allow_origins: tuple[str | Variable, ...]
    allow_methods: tuple[str, ...] = ("OPTIONS", "POST")
    allow_headers: tuple[str, ...] = ("content-type",)
    max_age_seconds: int = CORS_MAX_AGE_SECONDS

    @property
    def page_origin_pending(self) -> bool:
        return any(isinstance(origin, Variable) for origin in self.allow_origins)


@dataclass(frozen=True)
class HttpApi:
    name: str
    cors: Cors | None  # None: no browser origin may call it
    api_id: str = field(default="", compare=False)  # assigned by API Gateway
    endpoint: str = field(default="", compare=False)  # https://{api id}.execute-api.{region}.amazonaws.com

    @property
    def predict_url(self) -> str:
        return f"{self.endpoint}/predict"


@dataclass(frozen=True)
class Integration:
    function_arn: str
    payload_format_version: str = "2.0"
    timeout_ms: int = INTEGRATION_TIMEOUT_MS
    api_id: str = field(default="", compare=False)
    integration_id: str = field(default="", compare=False)  # "" until created


@dataclass(frozen=True)
class Route:
    route_key: str = ROUTE_KEY
    # The integration it targets: INTEGRATION_ID when that is created in the same run.
    integration_id: str | Variable = field(default="", compare=False)
    api_id: str = field(default="", compare=False)
    route_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class Stage:
    throttle_rate_limit: float
    throttle_burst_limit: int
    name: str = STAGE
    auto_deploy: bool = True
    api_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class NewApi:
    """What one `http-api create` makes: the API, then its parts on the id it was given."""

    api: HttpApi
    integration: Integration
    route: Route
    stage: Stage


def route_action(desired: Route, remote: Route | None, name: str) -> Action:
    if remote is not None and remote.integration_id != desired.integration_id:
        wanted = Route(desired.route_key, desired.integration_id, desired.api_id, remote.route_id)
        return Action(Verb.UPDATE, Kind.API_ROUTE, name, "it targets another integration", wanted)
    return compare(Kind.API_ROUTE, name, desired, remote)


class HttpApiResource(Resource):
    kind = Kind.HTTP_API
    tag_service = TagService.APIGATEWAY

    def create(self, run: Run, action: Action) -> dict[str, str]:
        created = run.aws.http_api.create(action.target, run.tags)
        return {API_ID.name: created.api_id, API_URL.name: created.predict_url}

    def update(self, run: Run, action: Action) -> None:
        run.aws.http_api.update_cors(action.target)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.http_api.delete(action.target.api_id)  # its integrations, routes and stages go with it

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return f"arn:{partition(region)}:apigateway:{region}::/apis/{api_id}"


class IntegrationResource(Resource):
    kind = Kind.API_INTEGRATION

    def create(self, run: Run, action: Action) -> dict[str, str]:
        return {INTEGRATION_ID.name: run.aws.http_api.create_integration(action.target)}

    def update(self, run: Run, action: Action) -> None:
        run.aws.http_api.update_integration(action.target)


class RouteResource(Resource):
    kind = Kind.API_ROUTE

    def create(self, run: Run, action: Action) -> None:
        run.aws.http_api.create_route(action.target, action.target.integration_id)

    def update(self, run: Run, action: Action) -> None:
        run.aws.http_api.update_route(action.target, action.target.integration_id)


class StageResource(Resource):
    kind = Kind.API_STAGE
    tag_service = TagService.APIGATEWAY

    def create(self, run: Run, action: Action) -> None:
        run.aws.http_api.create_stage(action.target, run.tags)

    def update(self, run: Run, action: Action) -> None:
        run.aws.http_api.update_stage(action.target)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        stage = name.rsplit(" stage ", 1)[1]  # actions name a stage "{api} stage {stage}"
        return f"arn:{partition(region)}:apigateway:{region}::/apis/{api_id}/stages/{stage}"


RESOURCES = (HttpApiResource(), IntegrationResource(), RouteResource(), StageResource())
