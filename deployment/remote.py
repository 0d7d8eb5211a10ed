"""What exists in the account for one deployment, read into the resources' own models.

Read-only: the AWS layer's read calls, gathered into one `RemoteState` for the planner to compare
with the desired state. Every resource the engine may have made is read, also those config.yml no
longer asks for (so they are removed) and, for `destroy`, leftovers of an interrupted run.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from deployment.naming import Names
from deployment.policies import LAMBDA
from deployment.resources import REGISTRY
from deployment.resources.access_control import AccessControl
from deployment.resources.alarm import Alarm
from deployment.resources.artifact import Artifact
from deployment.resources.autoscaling import Autoscaling
from deployment.resources.base import Kind, Standalone
from deployment.resources.bucket import Bucket
from deployment.resources.distribution import Distribution
from deployment.resources.endpoint import RemoteEndpoint
from deployment.resources.endpoint_config import RemoteConfig
from deployment.resources.function import Function
from deployment.resources.http_api import ROUTE_KEY, STAGE, HttpApi, Integration, Route, Stage
from deployment.resources.lambda_permission import PERMISSION_STATEMENT, Permission
from deployment.resources.log_group import LogGroup
from deployment.resources.monitoring_schedule import Schedule
from deployment.resources.role import Role
from deployment.resources.tags import ResourceTags
from deployment.resources.web_bucket import BucketPolicy, WebBucket
from deployment.resources.web_files import WebFile, WebPage

if TYPE_CHECKING:
    from deployment.aws import Aws

Tags = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RemoteApi:
    """The API stack as found in the account; each part None when absent."""

    log_group: LogGroup | None = None
    role: Role | None = None
    function: Function | None = None
    permission: Permission | None = None
    api: HttpApi | None = None
    integration: Integration | None = None
    route: Route | None = None
    stage: Stage | None = None
    # More APIs of this deployment by the same name (a crashed or hand-made copy): removed.
    duplicates: tuple[HttpApi, ...] = ()

    @property
    def predict_url(self) -> str | None:
        return self.api.predict_url if self.api else None


@dataclass(frozen=True)
class RemoteWeb:
    """The page's resources as found in the account; each None when absent."""

    bucket: WebBucket | None = None
    bucket_is_ours: bool = False  # tagged by this deployment, or empty and untagged (see aws/website.py)
    policy: BucketPolicy | None = None
    files: tuple[WebFile, ...] = ()  # everything but the page
    page: WebPage | None = None
    access_control: AccessControl | None = None
    distribution: Distribution | None = None
    distribution_tags: Tags = ()


@dataclass(frozen=True)
class RemoteState:
    """What exists in the account for this deployment, read back into the desired-state types."""

    bucket: Bucket | None = None
    bucket_is_ours: bool = False  # tagged by this deployment, or named by it (so destroy may delete it)
    bucket_shared: bool = False  # holds other stages' folders or rules (read by destroy only)
    role: Role | None = None
    artifacts_found: frozenset[str] = frozenset()  # the S3 URIs of the desired artifacts that exist
    models: frozenset[str] = frozenset()
    endpoint_configs: tuple[RemoteConfig, ...] = ()
    # This deployment's resources of each standalone kind (resources/base.py) that exist.
    found: dict[Kind, tuple] = field(default_factory=dict)
    endpoint: RemoteEndpoint | None = None
    autoscaling: Autoscaling | None = None
    schedule: Schedule | None = None
    # A `monitor --now` schedule left behind by a run that crashed (read by destroy only).
    one_off_schedule: str | None = None
    api: RemoteApi = field(default_factory=RemoteApi)
    web: RemoteWeb = field(default_factory=RemoteWeb)
    # The tags on each resource of this deployment found above (the web page's are in `web`).
    tags: tuple[ResourceTags, ...] = ()

    @property
    def alarms(self) -> tuple[Alarm, ...]:
        return self.found.get(Kind.ALARM, ())


@dataclass(frozen=True)
class Lookup:
    """The names to look for: enough for `destroy`, which has no images or artifact to hand."""

    names: Names
    bucket: str
    variant_name: str
    monitoring: bool  # config.monitoring.enabled
    web_bucket: str  # read even when the web page or the API is disabled, so they can be removed
    artifacts: tuple[Artifact, ...] = ()
    destroying: bool = False  # also look for leftovers only destroy removes
    bucket_exists: bool = True  # known once the bucket was read: nothing is read from one that is not


def read_remote_state(aws: Aws, lookup: Lookup) -> RemoteState:
    names = lookup.names
    bucket, bucket_is_ours, bucket_tags = aws.storage.read_bucket(lookup.bucket, names)
    shared = bool(lookup.destroying and bucket and aws.storage.shared_with_others(bucket.name, names.prefix))
    endpoint = aws.sagemaker.describe_endpoint(names.endpoint)
    has_schedule = lookup.monitoring or (endpoint is not None and endpoint.monitored_by is not None)
    one_off = names.one_off_schedule
    leftover = lookup.destroying and has_schedule and aws.sagemaker.schedule_status(one_off) is not None
    standalone_lookup = replace(lookup, bucket_exists=bucket is not None)
    state = RemoteState(
        bucket=bucket,
        bucket_is_ours=bucket_is_ours,
        bucket_shared=shared,
        # Read even when config.iam names a role: one the engine made earlier is then removed.
        role=aws.identity.read_role(names.execution_role),
        artifacts_found=frozenset(
            artifact.s3_uri
            for artifact in lookup.artifacts
            if bucket and aws.storage.artifact_exists(artifact)
        ),
        models=aws.sagemaker.model_names(names),
        endpoint_configs=aws.sagemaker.endpoint_configs(names),
        found={kind: handler.read(aws, standalone_lookup) for kind, handler in standalone_kinds()},
        endpoint=endpoint,
        autoscaling=aws.scaling.read(names.endpoint, lookup.variant_name),
        schedule=aws.sagemaker.describe_schedule(names.monitoring_schedule) if has_schedule else None,
        one_off_schedule=one_off if leftover else None,
        api=read_api(aws, names),
        web=read_web(aws, names, lookup.web_bucket),
    )
    return replace(state, tags=read_tags(aws, names, state, bucket_tags))


def standalone_kinds() -> list[tuple[Kind, Standalone]]:
    return [(kind, handler) for kind, handler in REGISTRY.items() if isinstance(handler, Standalone)]


def read_api(aws: Aws, names: Names) -> RemoteApi:
    function = aws.functions.read(names.function)
    api, *duplicates = aws.http_api.find_all(names.http_api, names.prefix) or (None,)
    integration = route = stage = None
    if api:
        integration = aws.http_api.read_integration(api.api_id, names.function_arn)
        route = aws.http_api.read_route(api.api_id, ROUTE_KEY)
        stage = aws.http_api.read_stage(api.api_id, STAGE)
    return RemoteApi(
        log_group=aws.functions.read_log_group(names.function_log_group),
        role=aws.identity.read_role(names.function_role, LAMBDA),
        function=function,
        permission=aws.functions.read_permission(names.function, PERMISSION_STATEMENT) if function else None,
        api=api,
        integration=integration,
        route=route,
        stage=stage,
        duplicates=tuple(duplicates),
    )


def read_web(aws: Aws, names: Names, bucket_name: str) -> RemoteWeb:
    """The distribution and access control are read even when the bucket is not ours: they are
    found by this deployment's own comment, tag and name."""
    access_control = aws.cdn.find_access_control(names.origin_access_control)
    found = aws.cdn.find(names.web_distribution_comment, names.prefix)
    distribution, distribution_tags = found or (None, ())
    bucket, ours = aws.website.read_bucket(bucket_name, names)
    web = RemoteWeb(
        bucket,
        ours,
        access_control=access_control,
        distribution=distribution,
        distribution_tags=distribution_tags,
    )
    if not (bucket and ours):
        return web  # a bucket not ours is neither read further nor touched
    files, page = aws.website.read_objects(bucket_name)
    return replace(web, policy=aws.website.read_policy(bucket_name), files=files, page=page)


def read_tags(
    aws: Aws, names: Names, remote: RemoteState, bucket: ResourceTags | None
) -> tuple[ResourceTags, ...]:
    """The tags of every resource found; `bucket`: the capture bucket's, read with it (None when
    it is absent or not ours). The web page's distribution has its tags in `remote.web`."""
    found = [(Kind.ROLE, role.name) for role in (remote.role, remote.api.role) if role]
    found += [(Kind.MODEL, name) for name in sorted(remote.models)]
    found += [(Kind.ENDPOINT_CONFIG, config.name) for config in remote.endpoint_configs]
    found += [(Kind.ENDPOINT, remote.endpoint.name)] if remote.endpoint else []
    found += [(Kind.MONITORING_SCHEDULE, remote.schedule.name)] if remote.schedule else []
    found += [(Kind.FUNCTION, remote.api.function.name)] if remote.api.function else []
    found += [(Kind.LOG_GROUP, remote.api.log_group.name)] if remote.api.log_group else []
    api = remote.api.api
    if api:
        found.append((Kind.HTTP_API, api.name))
    if api and remote.api.stage:
        found.append((Kind.API_STAGE, f"{api.name} stage {remote.api.stage.name}"))  # as api_plan names it
    api_id = api.api_id if api else ""
    tags = []
    for kind, name in found:
        handler = REGISTRY[kind]
        arn = handler.tag_arn(names.region, names.account_id, name, api_id)
        tags.append(aws.tagging.read(kind, handler.tag_service, name, arn))
    for kind, handler in standalone_kinds():
        if handler.tag_service is None:
            continue
        for resource in remote.found.get(kind, ()):
            arn = handler.tag_arn_of(resource, names)
            tags.append(aws.tagging.read(kind, handler.tag_service, handler.name_of(resource), arn))
    return tuple([bucket] if bucket else []) + tuple(tags)
