"""Read everything one deployment owns into a RemoteState (read-only calls only)."""

from __future__ import annotations

from dataclasses import dataclass

from deployment.aws import Aws
from deployment.naming import Names
from deployment.planner import RemoteState
from deployment.state import Artifact


@dataclass(frozen=True)
class Lookup:
    """The names to look for: enough for `destroy`, which has no images or artifact to hand."""

    names: Names
    bucket: str
    variant_name: str
    manages_role: bool
    monitoring: bool  # config.monitoring.enabled
    artifact: Artifact | None = None


def read_remote_state(aws: Aws, lookup: Lookup) -> RemoteState:
    names = lookup.names
    bucket, bucket_is_ours = aws.storage.read_bucket(lookup.bucket, names.prefix)
    endpoint = aws.sagemaker.describe_endpoint(names.endpoint)
    has_schedule = lookup.monitoring or (endpoint is not None and endpoint.monitored_by is not None)
    return RemoteState(
        bucket=bucket,
        bucket_is_ours=bucket_is_ours,
        role=aws.identity.read_role(names.execution_role) if lookup.manages_role else None,
        artifact_exists=bool(bucket and lookup.artifact and aws.storage.artifact_exists(lookup.artifact)),
        models=aws.sagemaker.model_names(names),
        endpoint_configs=aws.sagemaker.endpoint_configs(names),
        alarms=aws.alarms.read([names.error_alarm, names.latency_alarm]),
        endpoint=endpoint,
        autoscaling=aws.scaling.read(names.endpoint, lookup.variant_name),
        schedule=aws.sagemaker.describe_schedule(names.monitoring_schedule) if has_schedule else None,
    )
