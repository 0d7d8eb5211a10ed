"""The endpoint config: instances (or serverless) and data capture. Immutable and named by a hash
of its definition; older ones are kept for rollback (update.keep_previous), then cleaned up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deployment.resources.base import Action, Kind, Resource, Run, TagService
from deployment.resources.model import sagemaker_arn


@dataclass(frozen=True)
class Capture:
    destination_s3_uri: str
    sampling_percent: int
    capture_input: bool
    capture_output: bool
    kms_key_id: str | None


@dataclass(frozen=True)
class EndpointConfig:
    name: str
    model_name: str
    variant_name: str
    instance_type: str | None  # None for serverless
    instance_count: int | None
    serverless_memory_mb: int | None
    serverless_max_concurrency: int | None
    capture: Capture | None


@dataclass(frozen=True)
class RemoteConfig:
    """An endpoint config of this deployment as found: enough to keep the newest and clean up."""

    name: str
    model_name: str
    created: datetime


class EndpointConfigResource(Resource):
    kind = Kind.ENDPOINT_CONFIG
    tag_service = TagService.SAGEMAKER

    def create(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.create_endpoint_config(action.target, run.tags)

    def delete(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.delete_endpoint_config(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return sagemaker_arn(region, account_id, self.kind, name)


RESOURCES = (EndpointConfigResource(),)
