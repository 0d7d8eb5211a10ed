"""The tags on every resource of one deployment that was found, read back for the planner to compare."""

from __future__ import annotations

from deployment.aws import Aws
from deployment.aws.tagging import Arns
from deployment.naming import Names
from deployment.planner import RemoteState
from deployment.tags import ResourceTags


def read_tags(
    aws: Aws, names: Names, remote: RemoteState, bucket: ResourceTags | None
) -> tuple[ResourceTags, ...]:
    """`bucket`: the capture bucket's, read with it (None when it is absent or not ours)."""
    found = [("role", role.name) for role in (remote.role, remote.api.role) if role]
    found += [("model", name) for name in sorted(remote.models)]
    found += [("endpoint-config", config.name) for config in remote.endpoint_configs]
    found += [("endpoint", remote.endpoint.name)] if remote.endpoint else []
    found += [("monitoring-schedule", remote.schedule.name)] if remote.schedule else []
    found += [("alarm", alarm.name) for alarm in remote.alarms]
    found += [("function", remote.api.function.name)] if remote.api.function else []
    found += [("log-group", remote.api.log_group.name)] if remote.api.log_group else []
    arns, api = Arns(names), remote.api.api
    tags = [aws.tagging.read(kind, name, arns.of(kind, name)) for kind, name in found]
    if api:
        tags.append(aws.tagging.read("http-api", api.name, arns.of("http-api", api.name, api.api_id)))
    if api and remote.api.stage:
        stage = f"{api.name} stage {remote.api.stage.name}"  # as api_plan.py names its actions
        tags.append(aws.tagging.read("api-stage", stage, arns.of("api-stage", stage, api.api_id)))
    return tuple([bucket] if bucket else []) + tuple(tags)
