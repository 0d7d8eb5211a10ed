"""Tags are managed settings: each resource the engine owns carries exactly config.yml's tags and its own.

The planning is pure; `TagsResource` applies a change. The engine owns these resources outright (it names, creates and destroys them),
so config.yml's `project.tags` is the one source of their tags: a key added by hand is drift, shown
in the plan and removed, like a bucket policy added by hand. Two kinds of keys are never removed:
`aws:` keys (AWS's own; no API can remove them) and the engine's `pose:` keys, each kept right by the
action that owns it (e.g. the schedule's deletion removes the endpoint's `pose:monitoring-schedule`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.resources.base import Action, Kind, Resource, Run, TagService, Verb

Tags = tuple[tuple[str, str], ...]
NEVER_REMOVED = ("aws:", "pose:")


@dataclass(frozen=True)
class ResourceTags:
    """The tags found on one resource of this deployment, read back by the AWS layer."""

    kind: Kind  # the kind its actions use: bucket, role, model, endpoint, alarm, http-api, api-stage...
    name: str  # the name its actions use
    tags: Tags
    arn: str = field(default="", compare=False)  # what the tagging API is called with (S3, IAM: the name)
    service: TagService = field(default=TagService.S3, compare=False)  # whose tagging API


@dataclass(frozen=True)
class TagChange:
    """One tagging step: set `add`, then remove `remove`; `after` is the whole set (S3 replaces it whole)."""

    kind: Kind
    name: str
    arn: str
    add: Tags
    remove: tuple[str, ...]
    after: Tags
    service: TagService = field(default=TagService.S3, compare=False)


def plan_tags(
    found: tuple[ResourceTags, ...], tags: Tags, extra: dict[tuple[str, str], Tags], planned: list[Action]
) -> list[Action]:
    """Tag actions for every resource found that the plan keeps: one it creates gets its tags with
    it, one it deletes needs none (an API's stage goes with its API)."""
    replaced = {(action.kind, action.name) for action in planned if action.verb in (Verb.CREATE, Verb.DELETE)}
    api_replaced = any(kind == Kind.HTTP_API for kind, _ in replaced)
    wanted = {
        (resource.kind, resource.name): tuple(
            sorted({**dict(tags), **dict(extra.get((resource.kind, resource.name), ()))}.items())
        )
        for resource in found
        if (resource.kind, resource.name) not in replaced
        and not (resource.kind == Kind.API_STAGE and api_replaced)
    }
    return tag_actions(found, wanted)


def tag_actions(found: tuple[ResourceTags, ...], wanted: dict[tuple[str, str], Tags]) -> list[Action]:
    """One action per resource whose tags differ from `wanted[(kind, name)]`; resources absent from
    `wanted` (created or deleted in the same plan, or not the engine's) are left alone."""
    actions = []
    for resource in found:
        desired = wanted.get((resource.kind, resource.name))
        if desired is None:
            continue
        change = tag_change(resource, desired)
        if change.add or change.remove:
            reason = ", ".join([*(f"+{key}" for key, _ in change.add), *(f"-{key}" for key in change.remove)])
            actions.append(Action(Verb.UPDATE, Kind.TAGS, f"{resource.kind} {resource.name}", reason, change))
    return actions


def tag_change(resource: ResourceTags, desired: Tags) -> TagChange:
    current, wanted = dict(resource.tags), dict(desired)
    add = tuple(sorted((key, value) for key, value in wanted.items() if current.get(key) != value))
    remove = tuple(sorted(key for key in current if key not in wanted and not _kept(key)))
    after = tuple(sorted({**{k: v for k, v in current.items() if k not in remove}, **wanted}.items()))
    return TagChange(resource.kind, resource.name, resource.arn, add, remove, after, resource.service)


def _kept(key: str) -> bool:
    return key.lower().startswith(NEVER_REMOVED)


class TagsResource(Resource):
    kind = Kind.TAGS

    def update(self, run: Run, action: Action) -> None:
        run.aws.tagging.change(action.target)


RESOURCES = (TagsResource(),)
