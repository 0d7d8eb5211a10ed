"""The executor on the web page's side, with a fake clock: CloudFront's slow create and delete."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace

import pytest
from botocore.exceptions import ClientError

from deployment.errors import DeploymentError
from deployment.planner import plan, plan_destroy
from deployment.remote import RemoteState
from deployment.resources.base import Action
from tests.unit.deployment.builders import deployed, desired
from tests.unit.deployment.fakes import FakeAws, FakeClock, executor
from tests.unit.deployment.web_builders import ACCESS_CONTROL_ID, DISTRIBUTION_ARN, WEB_ORIGIN

STATE = desired()
DEPLOYED = deployed(STATE).web.distribution
IN_PROGRESS = replace(DEPLOYED, status="InProgress")


def calls(aws: FakeAws, service: str) -> list[tuple[str, tuple]]:
    return [(method, args) for name, method, args in aws.calls if name == service]


def methods(aws: FakeAws, service: str) -> list[str]:
    return [method for method, _ in calls(aws, service)]


def test_a_new_distribution_is_waited_for_with_a_line_per_poll_without_sleeping():
    clock = FakeClock()
    aws = FakeAws(clock, distribution_timeline=[(0, IN_PROGRESS), (50, DEPLOYED)])
    lines: list[str] = []
    wanted = replace(STATE.web.distribution, access_control_id=ACCESS_CONTROL_ID)

    executor(aws, lines).run([Action("create", "web-distribution", "pose-dev-web", target=wanted)])

    assert clock.sleeps == [20.0, 20.0, 20.0]
    assert lines == [
        "create    web-distribution pose-dev-web",
        "  distribution E2QWRUHEXAMPLE (d111111abcdef8.cloudfront.net): InProgress (0s)",
        "  distribution E2QWRUHEXAMPLE (d111111abcdef8.cloudfront.net): InProgress (20s)",
        "  distribution E2QWRUHEXAMPLE (d111111abcdef8.cloudfront.net): InProgress (40s)",
        "  distribution E2QWRUHEXAMPLE (d111111abcdef8.cloudfront.net): Deployed (60s)",
    ]
    assert calls(aws, "cdn")[0] == ("create", (wanted, (("pose:deployment", "pose-dev"),)))


def test_a_distribution_that_never_deploys_gives_up():
    aws = FakeAws(FakeClock(), distribution_timeline=[(0, IN_PROGRESS)])
    wanted = replace(STATE.web.distribution, access_control_id=ACCESS_CONTROL_ID)

    with pytest.raises(
        DeploymentError, match=r"\(d111111abcdef8.cloudfront.net\): gave up waiting after 2700s"
    ):
        executor(aws, []).run([Action("create", "web-distribution", "pose-dev-web", target=wanted)])


def test_ids_cloudfront_assigns_in_a_run_reach_the_distribution_the_bucket_policy_and_the_apis_cors():
    aws = FakeAws(FakeClock())

    actions = plan(STATE, RemoteState())

    executor(aws, []).run([a for a in actions if a.kind.startswith("web-") or a.kind == "http-api"])

    (created,) = [args[0] for method, args in calls(aws, "cdn") if method == "create"]
    assert created.access_control_id == ACCESS_CONTROL_ID  # from create_access_control, just before
    (policy,) = [args[0] for method, args in calls(aws, "website") if method == "put_policy"]
    allow, _ = json.loads(policy.document)["Statement"]
    assert allow["Condition"] == {"StringEquals": {"AWS:SourceArn": DISTRIBUTION_ARN}}
    ((api, _),) = [args for method, args in calls(aws, "http_api") if method == "create"]
    assert (api.api.cors.allow_origins, api.api.cors.page_origin_pending) == ((WEB_ORIGIN,), False)


def test_destroy_disables_waits_for_that_to_deploy_then_deletes_with_the_latest_etag():
    clock = FakeClock()
    aws = FakeAws(clock, distribution_timeline=[(0, DEPLOYED)])
    lines: list[str] = []
    delete, *_ = plan_destroy(STATE.names, deployed(STATE))
    aws.cdn._answers["disable"] = lambda distribution_id: disabled(aws, clock)

    executor(aws, lines).run([delete])

    assert methods(aws, "cdn") == ["read", "disable", "read", "read", "delete"]
    (deleted,) = [args[0] for method, args in calls(aws, "cdn") if method == "delete"]
    assert (deleted.enabled, deleted.status, deleted.etag) == (False, "Deployed", "E3")
    assert lines[0] == "delete    web-distribution pose-dev-web"
    assert lines[-1] == "  distribution E2QWRUHEXAMPLE (d111111abcdef8.cloudfront.net): Deployed (20s)"


def disabled(aws: FakeAws, clock: FakeClock):
    """CloudFront after UpdateDistribution(Enabled=False): deploying that for a while."""
    off = replace(DEPLOYED, enabled=False, status="InProgress", etag="E2")
    aws.distribution_timeline = [
        (clock.now(), off),
        (clock.now() + 10, replace(off, status="Deployed", etag="E3")),
    ]
    return off


def test_destroy_resumes_a_distribution_a_previous_destroy_disabled():
    half = replace(DEPLOYED, enabled=False, status="InProgress", etag="E2")
    aws = FakeAws(FakeClock(), distribution_timeline=[(0, half), (15, replace(half, status="Deployed"))])

    executor(aws, []).run([Action("delete", "web-distribution", "pose-dev-web", target=half)])

    assert methods(aws, "cdn") == ["read", "read", "read", "delete"]  # not disabled again


def test_destroy_of_a_distribution_already_gone_does_nothing():
    aws = FakeAws(FakeClock(), distribution_timeline=[(0, None)])

    executor(aws, []).run([Action("delete", "web-distribution", "pose-dev-web", target=DEPLOYED)])

    assert methods(aws, "cdn") == ["read"]


def test_an_access_control_still_counted_as_in_use_is_deleted_once_cloudfront_lets_go():
    in_use = ClientError({"Error": {"Code": "OriginAccessControlInUse", "Message": "in use"}}, "Delete")
    answers = [in_use, in_use, None]
    aws = FakeAws(FakeClock())

    def delete(control_id):
        if answer := answers.pop(0):
            raise answer

    aws.cdn._answers["delete_access_control"] = delete
    control = deployed(STATE).web.access_control

    executor(aws, []).run([Action("delete", "web-oac", control.name, target=control)])

    assert (answers, aws.clock.sleeps) == ([], [20.0, 20.0])


def test_an_invalidation_is_waited_for():
    remote = deployed(STATE)
    script, *others = remote.web.files
    remote = replace(remote, web=replace(remote.web, files=(replace(script, sha256=""), *others)))
    statuses = ["InProgress", "Completed"]
    aws = FakeAws(FakeClock())
    aws.cdn._answers["invalidation_status"] = lambda distribution_id, invalidation_id: statuses.pop(0)
    lines: list[str] = []

    executor(aws, lines).run(plan(STATE, remote))

    (invalidate,) = [args for method, args in calls(aws, "cdn") if method == "invalidate"]
    assert invalidate[:2] == ("E2QWRUHEXAMPLE", ("/static/*",))
    assert lines[-1] == "  invalidation I2J0I21PCUYOIK: InProgress (0s)"


def test_the_page_is_uploaded_with_the_checksum_of_what_was_rendered():
    page = replace(STATE.web.page, api_url="https://a1.execute-api.us-east-1.amazonaws.com/predict")
    aws = FakeAws(FakeClock())

    executor(aws, []).run([Action("update", "web-page", "index", target=page)])

    ((uploaded, body),) = [args for method, args in calls(aws, "website") if method == "put_page"]
    assert uploaded.sha256 == hashlib.sha256(body).hexdigest()
