"""The packaged model (model.tar.gz) in the bucket, under a content-addressed key: uploaded once."""

from __future__ import annotations

from dataclasses import dataclass, field

from deployment.resources.base import Action, Kind, Resource, Run


@dataclass(frozen=True)
class Artifact:
    bucket: str
    key: str
    sha256: str
    local_path: str = field(compare=False)

    @property
    def s3_uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"


class ArtifactResource(Resource):
    kind = Kind.ARTIFACT

    def create(self, run: Run, action: Action) -> None:
        run.aws.storage.upload_artifact(action.target)


RESOURCES = (ArtifactResource(),)
