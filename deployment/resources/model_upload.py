"""The upload folder (`registry.upload_prefix`): a `.tflite` or `model.tar.gz` put under
`{stage}/{upload_prefix}/` in the stage's bucket becomes a registry version, never a deployment.

S3 notifies a Lambda (`proxy/model_upload.py`, with a role of its own) of each object created
there, beside the bucket's other notifications; it checks the model, packages it as the engine
packages a catalog model, uploads it content-addressed under the stage's model prefix and
registers it `PendingManualApproval` with the stage's current image. A bad upload is moved to
`{stage}/{upload_prefix}-rejected/` with a `.reason.txt` beside it. It is an event function
(event_function.py) notified by the bucket, like the drop folder.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deployment.resources.base import Kind, Phase
from deployment.resources.event_function import BucketNotified, FunctionSpec, Notified, notified_by_bucket

if TYPE_CHECKING:
    from deployment.config import Config
    from deployment.naming import Names

HANDLER = "proxy.model_upload.handler"
TIMEOUT_SECONDS = 300  # reading, hashing and packaging a model of up to MAX_UPLOAD_MB
MEMORY_MB = 1024  # the upload and its package are held in memory
MAX_UPLOAD_MB = 200


def name_of(names: Names) -> str:
    return f"{names.prefix}-registry-upload"


def folders(config: Config, names: Names) -> tuple[str, str, str]:
    """The upload folder, where rejected uploads go, and where packaged models go."""
    upload = f"{names.prefix}/{config.registry.upload_prefix}"
    return f"{upload}/", f"{upload}-rejected/", f"{names.prefix}/{config.s3.model_prefix}/"


def model_upload(config: Config, names: Names) -> Notified:
    name = name_of(names)
    bucket = names.bucket(config.s3.bucket)
    upload, rejected, models = folders(config, names)
    environment = (
        ("ENDPOINT_NAME", names.endpoint),
        ("MAX_UPLOAD_MB", str(MAX_UPLOAD_MB)),
        ("MODEL_GROUP", config.project.name),
        ("MODEL_PREFIX", models),
        ("REJECTED_PREFIX", rejected),
        ("STAGE", names.prefix),
        ("UPLOAD_PREFIX", upload),
    )
    spec = FunctionSpec(
        name,
        HANDLER,
        TIMEOUT_SECONDS,
        MEMORY_MB,
        environment,
        _policy(config, names, bucket),
    )
    return notified_by_bucket(config, names, spec, upload)


def _policy(config: Config, names: Names, bucket: str) -> dict:
    """Read and remove uploads, write rejections and packages, read the stage's model, register."""
    upload, rejected, models = folders(config, names)
    objects, project = f"arn:aws:s3:::{bucket}", config.project.name
    sagemaker = f"arn:aws:sagemaker:{names.region}:{names.account_id}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TakeUploads",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:DeleteObject"],
                "Resource": f"{objects}/{upload}*",
            },
            {
                "Sid": "WritePackagesAndRejections",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [f"{objects}/{models}*", f"{objects}/{rejected}*"],
            },
            {
                "Sid": "ReadTheStagesModel",
                "Effect": "Allow",
                "Action": [
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:DescribeEndpointConfig",
                    "sagemaker:DescribeModel",
                ],
                "Resource": [
                    names.endpoint_arn(),
                    f"{sagemaker}:endpoint-config/{names.prefix}-config-*",
                    f"{sagemaker}:model/{names.prefix}-model-*",
                ],
            },
            {
                "Sid": "Register",
                "Effect": "Allow",
                "Action": ["sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage"],
                "Resource": [
                    f"{sagemaker}:model-package/{project}/*",
                    f"{sagemaker}:model-package-group/{project}",
                ],
            },
            {
                "Sid": "ListVersions",
                "Effect": "Allow",
                "Action": "sagemaker:ListModelPackages",
                "Resource": "*",
            },
        ],
    }


class ModelUploadResource(BucketNotified):
    kind = Kind.MODEL_UPLOAD
    phase = Phase.AFTER_ENDPOINT  # it registers with the endpoint's current image

    def desired(self, config: Config, names: Names) -> tuple[Notified, ...]:
        return (model_upload(config, names),) if config.registry.upload_prefix else ()

    def function_name(self, names: Names) -> str:
        return name_of(names)


RESOURCES = (ModelUploadResource(),)
