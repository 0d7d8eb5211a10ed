"""The planner on the API's side (the Lambda, the HTTP API) against in-memory accounts."""

from __future__ import annotations

from dataclasses import replace

from deployment.planner import plan, plan_destroy
from deployment.remote import RemoteState
from deployment.resources.http_api import NewApi
from deployment.resources.placeholders import Template, Variable
from tests.unit.deployment.builders import ACCOUNT, EPOCH, applied, changes, deployed, desired, steps

WEB = "s3://pose-dev-123456789012-us-east-1-web"
OFF = {"api": {"enabled": False}, "webapp": {"enabled": False}}


def public(actions) -> list[tuple[str, str, str]]:
    """The steps on the public side only."""
    kinds = {"log-group", "function", "function-code", "http-api", "api-integration", "api-route"}
    kinds |= {"api-stage", "lambda-permission"}
    return [step for step in steps(actions) if step[1] in kinds or step[2] == "pose-dev-predict-lambda"]


def with_api(remote: RemoteState, **parts) -> RemoteState:
    return replace(remote, api=replace(remote.api, **parts))


def test_a_new_api_is_one_action_carrying_every_part_and_the_page_waits_for_its_url():
    state = desired()

    actions = {action.kind: action for action in plan(state, RemoteState())}

    new_api = actions["http-api"]
    api = state.api
    assert new_api.target == NewApi(api.api, api.integration, api.route, api.stage)
    assert new_api.reason == "with its integration, route POST /predict and $default stage"
    permission = actions["lambda-permission"]
    assert (permission.verb, permission.target.source_arn, permission.reason) == (
        "create",
        # The API's id is known once it exists: the executor fills it in.
        Template(f"arn:aws:execute-api:us-east-1:{ACCOUNT}:${{api.id}}/*/POST/predict"),
        "for the API created above",
    )
    page = actions["web-page"]
    assert (page.verb, page.target.api_url, page.reason) == (
        "create",
        Variable("api.url"),
        "with the URL of the API created above",
    )


def test_a_deployed_api_and_page_change_nothing():
    state = desired()

    actions = plan(state, deployed(state))

    assert changes(actions) == []
    assert public(actions)[:4] == [
        ("unchanged", "role", "pose-dev-predict-lambda"),
        ("unchanged", "log-group", "/aws/lambda/pose-dev-predict"),
        ("unchanged", "function", "pose-dev-predict"),
        ("unchanged", "http-api", "pose-dev-api"),
    ]


def test_new_handler_code_updates_the_code_only():
    state = desired()
    remote = deployed(state)
    remote = with_api(remote, function=replace(remote.api.function, code_sha256="b2xkIGNvZGU="))

    actions = plan(state, remote)

    assert changes(actions) == [("update", "function-code", "pose-dev-predict")]
    (update,) = [action for action in actions if action.mutates]
    assert update.reason == f"CodeSha256 b2xkIGNvZGU= -> {state.api.function.code_sha256}"


def test_new_function_settings_update_the_configuration_only():
    state = desired()
    remote = deployed(state)
    old = replace(remote.api.function, timeout_seconds=3, environment=(("ENDPOINT_NAME", "old"),))
    actions = plan(state, with_api(remote, function=old))

    assert changes(actions) == [("update", "function", "pose-dev-predict")]
    assert [a.reason for a in actions if a.mutates] == ["changed: timeout_seconds, environment"]


def test_throttling_changes_update_the_stage_only():
    before = desired()
    after = desired({"api": {"throttle_rate_limit": 50, "throttle_burst_limit": 100}})

    actions = plan(after, deployed(before))

    assert changes(actions) == [("update", "api-stage", "pose-dev-api stage $default")]
    (update,) = [action for action in actions if action.mutates]
    assert (update.target.api_id, update.target.throttle_rate_limit) == ("a1b2c3d4e5", 50.0)


def test_another_allowed_origin_updates_the_apis_cors_only():
    before = desired()
    after = desired({"api": {"extra_allowed_origins": ["http://localhost:8080"]}})

    actions = plan(after, deployed(before))

    assert changes(actions) == [("update", "http-api", "pose-dev-api")]
    (update,) = [action for action in actions if action.mutates]
    assert update.target.cors.allow_origins == (
        "http://localhost:8080",
        "https://d111111abcdef8.cloudfront.net",
    )
    assert update.target.api_id == "a1b2c3d4e5"


def test_a_function_deleted_by_hand_is_created_again_with_its_permission():
    state = desired()
    remote = with_api(deployed(state), function=None, permission=None)

    assert changes(plan(state, remote)) == [
        ("create", "function", "pose-dev-predict"),
        ("create", "lambda-permission", "pose-dev-predict invoke-from-http-api"),
    ]


def test_a_permission_for_another_api_is_replaced_by_one_for_this_api():
    state = desired()
    remote = deployed(state)
    remote = with_api(remote, permission=replace(remote.api.permission, source_arn="arn:aws:execute-api:x"))

    actions = plan(state, remote)

    assert changes(actions) == [("update", "lambda-permission", "pose-dev-predict invoke-from-http-api")]
    (update,) = [action for action in actions if action.mutates]
    assert update.target.source_arn == "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/*/POST/predict"


def test_a_half_made_api_gets_its_missing_parts():
    state = desired()
    remote = deployed(state)
    # An earlier deploy stopped after CreateApi: no integration, no route, no stage, no permission.
    remote = with_api(remote, integration=None, route=None, stage=None, permission=None)

    actions = plan(state, remote)

    assert changes(actions) == [
        ("create", "api-integration", "pose-dev-api integration"),
        ("create", "api-route", "pose-dev-api route POST /predict"),
        ("create", "api-stage", "pose-dev-api stage $default"),
        ("create", "lambda-permission", "pose-dev-predict invoke-from-http-api"),
    ]
    route = next(action for action in actions if action.kind == "api-route")
    # The executor takes the id the new integration gets.
    assert route.target.integration_id == Variable("api.integration_id")


def test_a_route_targeting_another_integration_is_pointed_back():
    state = desired()
    remote = deployed(state)
    remote = with_api(remote, route=replace(remote.api.route, integration_id="stale"))

    actions = plan(state, remote)

    assert changes(actions) == [("update", "api-route", "pose-dev-api route POST /predict")]
    (update,) = [action for action in actions if action.mutates]
    assert (update.target.integration_id, update.target.route_id) == ("int0001", "route01")


def test_an_api_deleted_by_hand_is_created_again_and_the_page_gets_the_new_url():
    state = desired()
    remote = with_api(deployed(state), api=None, integration=None, route=None, stage=None)

    actions = plan(state, remote)

    assert changes(actions) == [
        ("create", "http-api", "pose-dev-api"),
        # The invoke permission names the old API: it follows in the same run.
        ("update", "lambda-permission", "pose-dev-predict invoke-from-http-api"),
        ("update", "web-page", f"{WEB}/index.html"),
        ("create", "web-invalidation", "pose-dev-web"),  # CloudFront forgets the page naming the old API
    ]
    assert changes(plan(state, applied(remote, actions, EPOCH))) == []


def test_switching_the_page_off_deletes_its_bucket_and_the_api_off_deletes_the_api_stack():
    state = desired()

    actions = plan(desired(OFF), deployed(state))

    assert changes(actions) == [
        ("delete", "web-distribution", "pose-dev-web"),
        ("delete", "web-oac", "pose-dev-web"),
        ("delete", "web-bucket", "pose-dev-123456789012-us-east-1-web"),
        ("delete", "http-api", "pose-dev-api"),
        ("delete", "function", "pose-dev-predict"),
        ("delete", "log-group", "/aws/lambda/pose-dev-predict"),
        ("delete", "role", "pose-dev-predict-lambda"),
    ]
    reasons = {action.kind: action.reason for action in actions if action.mutates}
    assert (reasons["http-api"], reasons["web-bucket"]) == ("api.enabled is false", "webapp.enabled is false")


def test_destroy_takes_the_public_side_down_before_the_endpoint_it_calls():
    state = desired()

    kinds = [kind for _, kind, _ in steps(plan_destroy(state.names, deployed(state)))]

    assert kinds.index("web-bucket") < kinds.index("http-api") < kinds.index("function")
    assert kinds.index("function") < kinds.index("log-group") < kinds.index("endpoint")
    assert kinds.index("function") < kinds.index("role")
