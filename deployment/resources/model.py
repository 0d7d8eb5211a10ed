"""The SageMaker model: the inference image, the artifact and the role. Immutable, named by a
hash of its definition, so a changed definition is a new model and the old one is cleaned up.
A multi-model one (`Mode: MultiModel`) has the S3 prefix of its models' artifacts as its data."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deployment.naming import partition
from deployment.resources.base import Action, Kind, Resource, Run, TagService


@dataclass(frozen=True)
class Model:
    name: str
    image_uri: str
    model_data_url: str
    role_arn: str
    environment: tuple[tuple[str, str], ...]
    multi_model: bool = False  # model_data_url is then a prefix ending in '/', holding `{name}.tar.gz`s
    created: datetime | None = field(default=None, compare=False)  # read back (a rollback orders sets by it)


class ModelResource(Resource):
    kind = Kind.MODEL
    tag_service = TagService.SAGEMAKER

    def create(self, run: Run, action: Action) -> None:
        run.retry_while_role_propagates(lambda: run.aws.sagemaker.create_model(action.target, run.tags))

    def delete(self, run: Run, action: Action) -> None:
        run.aws.sagemaker.delete_model(action.name)

    def tag_arn(self, region: str, account_id: str, name: str, api_id: str = "") -> str:
        return sagemaker_arn(region, account_id, self.kind, name)


def sagemaker_arn(region: str, account_id: str, kind: str, name: str) -> str:
    """SageMaker lower-cases the names in its ARNs (`model/`, `endpoint-config/`, `endpoint/`...)."""
    return f"arn:{partition(region)}:sagemaker:{region}:{account_id}:{kind}/{name.lower()}"


RESOURCES = (ModelResource(),)
