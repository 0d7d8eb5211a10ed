"""Tags as managed settings: config.yml's tags on every resource the engine keeps, nothing else of theirs."""

from __future__ import annotations

from dataclasses import replace

from deployment.naming import MONITORED_BY_TAG, PROJECT_TAG
from deployment.planner import plan
from deployment.resources.base import Action
from deployment.resources.tags import ResourceTags, TagChange, plan_tags, tag_change
from tests.unit.deployment.builders import EPOCH, applied, changes, deployed, desired

OLD = desired({"project": {"tags": {"owner": "ml-team", "team": "vision"}}})
NEW = desired({"project": {"tags": {"owner": "platform", "cost-center": "42"}}})


def tagged(state, extra: dict[str, str] | None = None) -> tuple[ResourceTags, ...]:
    """The tags a deploy of `state` leaves on each resource of `deployed(state)`."""
    remote, tags = deployed(state), tuple(sorted({**dict(state.tags), **(extra or {})}.items()))
    found = [("bucket", remote.bucket.name), ("role", remote.role.name), ("role", remote.api.role.name)]
    found += [("model", name) for name in remote.models]
    found += [("endpoint-config", config.name) for config in remote.endpoint_configs]
    found += [("monitoring-schedule", remote.schedule.name), ("function", remote.api.function.name)]
    found += [("alarm", alarm.name) for alarm in remote.alarms]
    found += [("log-group", remote.api.log_group.name), ("http-api", remote.api.api.name)]
    found += [("api-stage", "pose-dev-api stage $default")]
    endpoint = tuple(sorted({**dict(tags), MONITORED_BY_TAG: "pose-dev-monitor"}.items()))
    return (
        *(ResourceTags(kind, name, tags, f"arn:{name}") for kind, name in found),
        ResourceTags("endpoint", "pose-dev", endpoint, "arn:pose-dev"),
    )


def test_new_project_tags_update_every_resource_and_remove_the_dropped_key():
    remote = replace(deployed(OLD), tags=tagged(OLD))

    actions = plan(NEW, remote)

    updated = [action for action in actions if action.mutates and not action.kind.startswith("web")]
    assert {action.kind for action in updated} == {"tags"}
    assert len(updated) == len(remote.tags) == 13  # the page's own resources: web_plan.py
    (endpoint,) = [action for action in updated if action.name == "endpoint pose-dev"]
    assert endpoint.reason == "+cost-center, +owner, -team"
    assert endpoint.target == TagChange(
        "endpoint",
        "pose-dev",
        "arn:pose-dev",
        add=(("cost-center", "42"), ("owner", "platform")),
        remove=("team",),
        after=(
            ("cost-center", "42"),
            ("owner", "platform"),
            (PROJECT_TAG, "pose-dev"),
            (MONITORED_BY_TAG, "pose-dev-monitor"),
        ),
    )
    assert changes(plan(NEW, applied(remote, actions, EPOCH))) == []


def test_the_same_tags_plan_nothing():
    assert changes(plan(OLD, replace(deployed(OLD), tags=tagged(OLD)))) == []


def test_tags_removed_by_hand_come_back_and_the_endpoint_keeps_naming_its_schedule():
    bare = tuple(replace(found, tags=()) for found in tagged(OLD))

    actions = [action for action in plan(OLD, replace(deployed(OLD), tags=bare)) if action.kind == "tags"]

    assert len(actions) == 13 and all(action.target.remove == () for action in actions)
    (endpoint,) = [action for action in actions if action.target.kind == "endpoint"]
    assert dict(endpoint.target.add)[MONITORED_BY_TAG] == "pose-dev-monitor"


def test_aws_and_engine_keys_are_never_removed_but_a_key_added_by_hand_is():
    found = ResourceTags(
        "model",
        "m",
        (
            ("aws:cloudformation:stack-name", "x"),
            ("pose:other", "y"),
            ("added-by-hand", "z"),
            ("owner", "ml-team"),
        ),
    )

    change = tag_change(found, (("owner", "ml-team"),))

    assert (change.add, change.remove) == ((), ("added-by-hand",))
    assert change.after == (("aws:cloudformation:stack-name", "x"), ("owner", "ml-team"), ("pose:other", "y"))


def test_resources_created_or_deleted_by_the_plan_are_not_retagged():
    found = (
        ResourceTags("endpoint", "pose-dev", ()),
        ResourceTags("model", "old", ()),
        ResourceTags("api-stage", "pose-dev-api stage $default", ()),
        ResourceTags("alarm", "pose-dev-invocation-5xx", ()),
    )
    planned = [
        Action("delete", "endpoint", "pose-dev"),
        Action("create", "endpoint", "pose-dev"),
        Action("delete", "model", "old"),
        Action("delete", "http-api", "pose-dev-api"),  # its stage goes with it
    ]

    actions = plan_tags(found, (("owner", "ml-team"),), {}, planned)

    assert [action.name for action in actions] == ["alarm pose-dev-invocation-5xx"]
