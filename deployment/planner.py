"""Compare desired with remote state and list the actions that make AWS match: pure, no boto3.

`plan` and `deploy` share everything up to the executor, so what `plan` prints is exactly
what `deploy` does. The actions are ordered: dependencies first, clean-up last. Each kind's own
rules (what differs, what replaces what) live in its module in deployment/resources/; this module
only puts them in order.
"""

from __future__ import annotations

from deployment.api_plan import api_actions, destroy_api, function_role
from deployment.naming import MONITORED_BY_TAG, Names
from deployment.remote import RemoteState, standalone_kinds
from deployment.resources.autoscaling import autoscaling_actions
from deployment.resources.base import Action, Kind, Phase, Verb, compare, exists
from deployment.resources.bucket import bucket_actions, destroy_bucket
from deployment.resources.endpoint import endpoint_actions
from deployment.resources.monitoring_schedule import schedule_actions
from deployment.resources.tags import plan_tags
from deployment.state import DesiredState
from deployment.web_plan import destroy_web, web_plan, with_page_origin


def plan(desired: DesiredState, remote: RemoteState) -> list[Action]:
    endpoint = endpoint_actions(desired.endpoint, remote.endpoint)
    updating = any(action.kind == Kind.ENDPOINT and action.mutates for action in endpoint)
    scaling_before, scaling_after = autoscaling_actions(desired.autoscaling, remote.autoscaling, updating)
    # The API's CORS allows the page's CloudFront origin; the page carries the API's URL. Each is
    # known once the other exists, so the distribution comes first and the page after the API.
    public = api_actions(with_page_origin(desired.api, remote.web), remote.api)
    new_api = any(action.kind == Kind.HTTP_API and action.verb == Verb.CREATE for action in public)
    web = web_plan(desired.web, remote.web, desired.tags, None if new_api else remote.api.predict_url)
    actions = [
        *bucket_actions(desired.bucket, remote.bucket, remote.bucket_is_ours),
        *([compare(Kind.ROLE, desired.role.name, desired.role, remote.role)] if desired.role else []),
        *function_role(desired.api, remote.api),
        *(
            exists(Kind.ARTIFACT, artifact.s3_uri, artifact, artifact.s3_uri in remote.artifacts_found)
            for artifact in (*desired.artifacts, *desired.statistics)  # each model, then its metrics
        ),
        exists(Kind.MODEL, desired.model.name, desired.model, desired.model.name in remote.models),
        exists(
            Kind.ENDPOINT_CONFIG,
            desired.endpoint_config.name,
            desired.endpoint_config,
            any(config.name == desired.endpoint_config.name for config in remote.endpoint_configs),
        ),
        *_standalone(desired, remote, Phase.BEFORE_ENDPOINT),
        *scaling_before,
        *endpoint,
        *scaling_after,
        *schedule_actions(desired.schedule, remote.schedule),
        *_standalone(desired, remote, Phase.AFTER_ENDPOINT),
        *web.edge,
        *public,
        *web.content,
        *_clean_up(desired, remote),
        *_abandoned_role(desired, remote),
        *web.finish,
    ]
    monitored = {(Kind.ENDPOINT, desired.endpoint.name): ((MONITORED_BY_TAG, desired.endpoint.monitored_by),)}
    extra = monitored if desired.endpoint.monitored_by else {}
    return [*actions, *plan_tags(remote.tags, desired.tags, extra, actions)]


def plan_destroy(names: Names, remote: RemoteState) -> list[Action]:
    """Everything this deployment created, in an order AWS accepts: what calls a thing goes first
    (the page's distribution and bucket, then the API, its Lambda, the schedule, the endpoint...)."""
    actions = [*destroy_web(remote.web), *destroy_api(remote.api), *_removed(remote, Phase.AFTER_ENDPOINT)]
    if remote.one_off_schedule:
        actions.append(
            Action(Verb.DELETE, Kind.MONITORING_SCHEDULE, remote.one_off_schedule, "left by monitor --now")
        )
    if remote.schedule:
        actions.append(
            Action(Verb.DELETE, Kind.MONITORING_SCHEDULE, remote.schedule.name, target=remote.schedule)
        )
    if remote.autoscaling:
        actions.append(
            Action(Verb.DELETE, Kind.AUTOSCALING, remote.autoscaling.resource_id, target=remote.autoscaling)
        )
    if remote.endpoint:
        actions.append(Action(Verb.DELETE, Kind.ENDPOINT, remote.endpoint.name, target=remote.endpoint))
    actions += [Action(Verb.DELETE, Kind.ENDPOINT_CONFIG, config.name) for config in remote.endpoint_configs]
    actions += [Action(Verb.DELETE, Kind.MODEL, name) for name in sorted(remote.models)]
    actions += _removed(remote, Phase.BEFORE_ENDPOINT)
    if remote.role:
        actions.append(Action(Verb.DELETE, Kind.ROLE, remote.role.name, target=remote.role))
    return actions + destroy_bucket(names.prefix, remote.bucket, remote.bucket_is_ours, remote.bucket_shared)


def _standalone(desired: DesiredState, remote: RemoteState, phase: Phase) -> list[Action]:
    """Each standalone kind of `phase`, in registry order: every desired resource compared with
    the one of its name found, and those found that config.yml no longer asks for deleted."""
    actions = []
    for kind, handler in standalone_kinds():
        if handler.phase != phase:
            continue
        wanted = {handler.name_of(resource): resource for resource in desired.standalone.get(kind, ())}
        found = {handler.name_of(resource): resource for resource in remote.found.get(kind, ())}
        actions += [compare(kind, name, resource, found.get(name)) for name, resource in wanted.items()]
        actions += [
            Action(Verb.DELETE, kind, name, "config.yml no longer asks for it", resource)
            for name, resource in found.items()
            if name not in wanted and handler.removable(resource)
        ]
    return actions


def _removed(remote: RemoteState, phase: Phase) -> list[Action]:
    """Every standalone resource of `phase` found, for destroy (the last kinds' first)."""
    return [
        Action(Verb.DELETE, kind, handler.name_of(resource), target=resource)
        for kind, handler in reversed(standalone_kinds())
        if handler.phase == phase
        for resource in remote.found.get(kind, ())
        if handler.removable(resource)
    ]


def _abandoned_role(desired: DesiredState, remote: RemoteState) -> list[Action]:
    """The engine's execution role, once config.iam names an existing role instead (last: kept
    rollback configs' models may still name it until they are cleaned up)."""
    if desired.role is None and remote.role is not None:
        reason = "iam.execution_role_arn names another role"
        return [Action(Verb.DELETE, Kind.ROLE, remote.role.name, reason, remote.role)]
    return []


def _clean_up(desired: DesiredState, remote: RemoteState) -> list[Action]:
    """Old endpoint configs beyond the newest `keep_previous`, and models no kept config uses.

    The config the endpoint is leaving counts as a previous one (it is kept, never deleted while in
    use), so the plan right after a deploy has nothing left to clean up.
    """
    in_use = remote.endpoint.config_name if remote.endpoint else None
    previous = sorted(
        (config for config in remote.endpoint_configs if config.name != desired.endpoint_config.name),
        key=lambda config: config.created,
        reverse=True,
    )
    dropped = [config for config in previous[desired.keep_previous :] if config.name != in_use]
    models_in_use = {desired.model.name} | {c.model_name for c in remote.endpoint_configs if c not in dropped}
    reason = f"older than the {desired.keep_previous} kept for rollback"
    actions = [Action(Verb.DELETE, Kind.ENDPOINT_CONFIG, config.name, reason) for config in dropped]
    actions += [
        Action(Verb.DELETE, Kind.MODEL, name, "no kept endpoint config uses it")
        for name in sorted(remote.models - models_in_use)
    ]
    return actions
