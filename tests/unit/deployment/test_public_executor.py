"""The executor on the public side, with a fake clock and a scripted AWS: Lambda waits, ids AWS assigns."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from deployment.aws.functions import FunctionStatus
from deployment.errors import DeploymentError
from deployment.planner import plan
from deployment.resources.base import Action
from tests.unit.deployment.builders import API_ID, API_URL, deployed, desired
from tests.unit.deployment.fakes import ACTIVE, FakeAws, FakeClock, executor

STATE = desired()
FUNCTION = STATE.api.function


def calls(aws: FakeAws, service: str) -> list[tuple[str, tuple]]:
    return [(method, args) for name, method, args in aws.calls if name == service and method != "status"]


def test_a_new_function_is_waited_for_until_active_without_sleeping():
    clock = FakeClock()
    pending = FunctionStatus("Pending", None, "")
    aws = FakeAws(clock, function_timeline=[(0, pending), (6, FunctionStatus("Active", None, ""))])
    lines: list[str] = []

    executor(aws, lines).run([Action("create", "function", FUNCTION.name, target=FUNCTION)])

    assert clock.sleeps == [2.0, 2.0, 2.0]
    assert lines[1] == "  function pose-dev-predict: Pending, update None (0s)"


def test_new_code_waits_for_the_previous_update_and_for_its_own():
    clock = FakeClock()
    in_progress = FunctionStatus("Active", "InProgress", "")
    aws = FakeAws(clock, function_timeline=[(0, in_progress), (4, ACTIVE)])

    executor(aws, []).run([Action("update", "function-code", FUNCTION.name, target=FUNCTION)])

    assert calls(aws, "functions") == [("update_code", (FUNCTION,))]
    assert clock.time == 4  # waited before the update; Lambda refuses one while another runs


def test_a_failed_update_reports_lambdas_reason():
    failed = FunctionStatus("Active", "Failed", "The role cannot be assumed by Lambda.")
    aws = FakeAws(FakeClock(), function_timeline=[(0, ACTIVE), (0.5, failed)])
    aws.functions._answers["update_configuration"] = lambda function: aws.clock.sleep(1)

    with pytest.raises(DeploymentError) as raised:
        executor(aws, []).run([Action("update", "function", FUNCTION.name, target=FUNCTION)])

    assert str(raised.value) == (
        "pose-dev-predict: the function is Active (last update Failed): The role cannot be assumed by Lambda. "
        "(hint: see /aws/lambda/pose-dev-predict in CloudWatch Logs)"
    )


def test_a_function_stuck_pending_gives_up():
    aws = FakeAws(FakeClock(), function_timeline=[(0, FunctionStatus("Pending", None, ""))])

    with pytest.raises(DeploymentError, match="function pose-dev-predict: gave up waiting after 300s"):
        executor(aws, []).run([Action("create", "function", FUNCTION.name, target=FUNCTION)])


def test_a_lambda_role_not_yet_assumable_is_retried():
    message = "The role defined for the function cannot be assumed by Lambda."
    error = ClientError(
        {"Error": {"Code": "InvalidParameterValueException", "Message": message}}, "CreateFunction"
    )
    aws = FakeAws(FakeClock(), function_errors=[error, error])

    executor(aws, []).run([Action("create", "function", FUNCTION.name, target=FUNCTION)])

    assert [method for method, _ in calls(aws, "functions")] == ["create"] * 3
    assert aws.clock.sleeps == [5, 5]


def test_a_new_api_gets_the_permission_for_its_id_and_the_page_its_url():
    aws = FakeAws(FakeClock())
    remote = replace(deployed(STATE), api=replace(deployed(STATE).api, api=None))
    actions = [a for a in plan(STATE, remote) if a.mutates]
    assert [(a.verb, a.kind) for a in actions if a.kind in ("http-api", "lambda-permission", "web-page")] == [
        ("create", "http-api"),
        ("update", "lambda-permission"),  # it named the API deleted by hand
        ("update", "web-page"),
    ]

    executor(aws, []).run(actions)

    functions = [(method, args[0]) for method, args in calls(aws, "functions")]
    assert [method for method, _ in functions] == ["remove_permission", "add_permission"]
    assert functions[1][1].source_arn == f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/*/POST/predict"
    ((page, body),) = [args for method, args in calls(aws, "website") if method == "put_page"]
    assert page.api_url == API_URL
    assert f'data-api-url="{API_URL}"'.encode() in body and b'data-model-name="blazepose-heavy"' in body


def test_a_route_targets_the_integration_created_before_it_in_the_same_run():
    remote = deployed(STATE)
    remote = replace(remote, api=replace(remote.api, integration=None, route=None))
    aws = FakeAws(FakeClock())

    executor(aws, []).run(plan(STATE, remote))

    assert [(m, args[1:]) for m, args in calls(aws, "http_api")] == [
        ("create_integration", ()),
        ("create_route", ("int9",)),
    ]


def test_a_page_with_no_api_url_to_render_is_an_error_not_a_broken_page():
    page = STATE.web.page  # api_url None, and no API was created in this run

    with pytest.raises(DeploymentError, match=r"index\.html: the API's URL is unknown"):
        executor(FakeAws(FakeClock()), []).run([Action("create", "web-page", "index", target=page)])
