"""Read everything one deployment owns into a RemoteState (read-only calls only)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from deployment.api_plan import RemoteApi
from deployment.api_state import PERMISSION_STATEMENT, ROUTE_KEY, STAGE
from deployment.aws import Aws
from deployment.aws.remote_tags import read_tags
from deployment.naming import Names
from deployment.planner import RemoteState
from deployment.policies import LAMBDA
from deployment.state import Artifact
from deployment.web_plan import RemoteWeb


@dataclass(frozen=True)
class Lookup:
    """The names to look for: enough for `destroy`, which has no images or artifact to hand."""

    names: Names
    bucket: str
    variant_name: str
    monitoring: bool  # config.monitoring.enabled
    web_bucket: str  # read even when the web page or the API is disabled, so they can be removed
    artifact: Artifact | None = None
    destroying: bool = False  # also look for leftovers only destroy removes


def read_remote_state(aws: Aws, lookup: Lookup) -> RemoteState:
    names = lookup.names
    bucket, bucket_is_ours, bucket_tags = aws.storage.read_bucket(lookup.bucket, names)
    shared = bool(lookup.destroying and bucket and aws.storage.shared_with_others(bucket.name, names.prefix))
    endpoint = aws.sagemaker.describe_endpoint(names.endpoint)
    has_schedule = lookup.monitoring or (endpoint is not None and endpoint.monitored_by is not None)
    one_off = names.one_off_schedule
    leftover = lookup.destroying and has_schedule and aws.sagemaker.schedule_status(one_off) is not None
    state = RemoteState(
        bucket=bucket,
        bucket_is_ours=bucket_is_ours,
        bucket_shared=shared,
        # Read even when config.iam names a role: one the engine made earlier is then removed.
        role=aws.identity.read_role(names.execution_role),
        artifact_exists=bool(bucket and lookup.artifact and aws.storage.artifact_exists(lookup.artifact)),
        models=aws.sagemaker.model_names(names),
        endpoint_configs=aws.sagemaker.endpoint_configs(names),
        alarms=aws.alarms.read([names.error_alarm, names.latency_alarm]),
        endpoint=endpoint,
        autoscaling=aws.scaling.read(names.endpoint, lookup.variant_name),
        schedule=aws.sagemaker.describe_schedule(names.monitoring_schedule) if has_schedule else None,
        one_off_schedule=one_off if leftover else None,
        api=read_api(aws, names),
        web=read_web(aws, names, lookup.web_bucket),
    )
    return replace(state, tags=read_tags(aws, names, state, bucket_tags))


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
