"""The three event-function kinds (drop folder, upload folder, deploy on approval) share one
implementation: each part made in the order it needs the one before, the trigger removed first,
a half-made one found, and a plan that names the part that drifted."""

from __future__ import annotations

from dataclasses import replace

import pytest

from deployment.remote import Lookup
from deployment.resources import REGISTRY
from deployment.resources.base import Action, Kind, Verb, compare
from deployment.resources.event_function import EventFunction
from deployment.resources.log_group import LogGroup
from tests.unit.deployment.builders import desired
from tests.unit.deployment.fakes import ACTIVE, Calls, FakeAws, FakeClock, run

DOCUMENT = {
    "batch": {"drop_folder": {"enabled": True}},
    "registry": {"upload_prefix": "uploads", "deploy_on_approval": "dev"},
}
BUCKET_KINDS = (Kind.DROP_FOLDER, Kind.MODEL_UPLOAD)
KINDS = (*BUCKET_KINDS, Kind.APPROVAL_DEPLOY)
# What makes each kind's trigger right when nothing of it exists.
TRIGGER_MADE = {
    Kind.DROP_FOLDER: [("storage", "put_notification")],
    Kind.MODEL_UPLOAD: [("storage", "put_notification")],
    Kind.APPROVAL_DEPLOY: [("events", "put_rule"), ("events", "remove_targets"), ("events", "put_targets")],
}
TRIGGER_REMOVED = {
    Kind.DROP_FOLDER: ("storage", "remove_notification"),
    Kind.MODEL_UPLOAD: ("storage", "remove_notification"),
    Kind.APPROVAL_DEPLOY: ("events", "delete_rule"),
}


def wanted(kind: Kind) -> EventFunction:
    (resource,) = desired(DOCUMENT).standalone[kind]
    return resource


def fake_aws(**found) -> FakeAws:
    """An account where each `read_*` answers what `found` says (nothing by default)."""
    aws = FakeAws(FakeClock())
    aws.events = Calls(
        aws.calls, "events", read_rule=lambda name: found.get("rule"), put_rule=lambda rule: "arn"
    )
    aws.identity = Calls(aws.calls, "identity", read_role=lambda name, service: found.get("role"))
    aws.storage = Calls(aws.calls, "storage", read_notification=lambda bucket, id_: found.get("notification"))
    aws.functions = Calls(
        aws.calls,
        "functions",
        status=lambda name: ACTIVE,
        read=lambda name: found.get("function"),
        read_log_group=lambda name: found.get("log_group"),
        read_permission=lambda name, statement: found.get("permission"),
    )
    return aws


def mutations(aws: FakeAws) -> list[tuple[str, str]]:
    return [
        (service, method) for service, method, _ in aws.calls if not method.startswith(("read", "status"))
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_each_part_is_made_after_the_one_it_needs_and_the_trigger_last(kind):
    aws = fake_aws()

    REGISTRY[kind].create(run(aws, []), Action(Verb.CREATE, kind, wanted(kind).name, target=wanted(kind)))

    assert mutations(aws) == [
        ("identity", "create_role"),
        ("functions", "create_log_group"),
        ("functions", "create"),
        ("functions", "add_permission"),
        *TRIGGER_MADE[kind],
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_the_trigger_goes_first_so_no_event_reaches_a_function_being_removed(kind):
    aws = fake_aws()
    found = wanted(kind)

    REGISTRY[kind].delete(run(aws, []), Action(Verb.DELETE, kind, found.name, target=found))

    assert mutations(aws) == [
        TRIGGER_REMOVED[kind],
        ("functions", "delete"),
        ("functions", "delete_log_group"),
        ("identity", "delete_role"),
    ]


@pytest.mark.parametrize("kind", BUCKET_KINDS)
def test_a_notification_left_alone_is_found_so_destroy_removes_it(kind):
    leftover = wanted(kind).trigger
    aws = fake_aws(notification=leftover)
    names = desired(DOCUMENT).names
    lookup = Lookup(names, leftover.bucket, "AllTraffic", False, "web", destroying=True)

    found = REGISTRY[kind].read(aws, lookup)

    assert found == (EventFunction(wanted(kind).name, None, None, None, None, leftover),)


def test_nothing_of_it_is_no_resource():
    names = desired(DOCUMENT).names

    found = REGISTRY[Kind.APPROVAL_DEPLOY].read(
        fake_aws(), Lookup(names, "bucket", "AllTraffic", False, "web")
    )

    assert found == ()


@pytest.mark.parametrize("kind", KINDS)
def test_a_plan_names_each_part_that_drifted(kind):
    resource = wanted(kind)
    drifted = replace(
        resource,
        role=replace(resource.role, policy="{}"),
        log_group=LogGroup(resource.log_group.name, 1),
        permission=None,
    )

    action = compare(kind, resource.name, resource, drifted)

    assert (action.verb, action.reason) == (Verb.UPDATE, "changed: role, log_group, permission")


def test_a_drifted_role_and_log_group_are_changed_in_place_and_the_rest_left_alone():
    resource = wanted(Kind.DROP_FOLDER)
    aws = fake_aws(
        role=replace(resource.role, policy="{}"),
        log_group=LogGroup(resource.log_group.name, 1),
        function=resource.function,
        permission=resource.permission,
        notification=resource.trigger,
    )

    REGISTRY[Kind.DROP_FOLDER].update(
        run(aws, []), Action(Verb.UPDATE, Kind.DROP_FOLDER, "x", target=resource)
    )

    assert mutations(aws) == [("identity", "put_policy"), ("functions", "set_retention")]
