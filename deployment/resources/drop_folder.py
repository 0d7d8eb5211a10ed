"""The drop folder (`batch.drop_folder.enabled`): photos put under `{stage}/inbox/` in the stage's
bucket become results under `{stage}/outbox/` (failures, with the reason, under `{stage}/failed/`).

An event function (event_function.py) that S3 calls: a least-privilege role, the function's log
group, the function (the `proxy` package's `drop_folder.handler`, the API's zip), S3's permission to
invoke it from this bucket and account, and the bucket's event notification for the input prefix
(kept beside the bucket's other notifications, which are left as they are), made, repaired and
removed together.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from deployment.lambda_package import DROP_FOLDER_HANDLER
from deployment.resources.base import Kind, Phase
from deployment.resources.event_function import BucketNotified, FunctionSpec, Notified, notified_by_bucket

if TYPE_CHECKING:
    from deployment.config import Config
    from deployment.naming import Names

TIMEOUT_SECONDS = 120  # a few photos per event, each up to the endpoint's 60 s
MEMORY_MB = 256
INBOX, OUTBOX, FAILED = "inbox", "outbox", "failed"


def drop_folder(config: Config, names: Names) -> Notified:
    bucket = names.bucket(config.s3.bucket)
    name = function_name(names)
    inbox, outbox, failed = (f"{names.prefix}/{folder}/" for folder in (INBOX, OUTBOX, FAILED))
    environment = (
        ("ENDPOINT_NAME", names.endpoint),
        ("FAILED_PREFIX", failed),
        ("INPUT_PREFIX", inbox),
        ("RESULT_PREFIX", outbox),
    )
    spec = FunctionSpec(
        name,
        DROP_FOLDER_HANDLER,
        TIMEOUT_SECONDS,
        MEMORY_MB,
        environment,
        _policy(bucket, (inbox, outbox, failed), names),
    )
    return notified_by_bucket(config, names, spec, inbox)


def function_name(names: Names) -> str:
    """`{stage}-predict-...`: one session-policy pattern covers it and the API's function."""
    return f"{names.function}-drop-folder"


def _policy(bucket: str, prefixes: tuple[str, str, str], names: Names) -> dict:
    """Read the inbox, write the two result folders, invoke this endpoint."""
    inbox, outbox, failed = prefixes
    objects = f"arn:aws:s3:::{bucket}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheInbox",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{objects}/{inbox}*",
            },
            {
                "Sid": "WriteResults",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": [f"{objects}/{outbox}*", f"{objects}/{failed}*"],
            },
            {
                "Sid": "InvokeTheEndpoint",
                "Effect": "Allow",
                "Action": "sagemaker:InvokeEndpoint",
                "Resource": names.endpoint_arn(),
            },
        ],
    }


class DropFolderResource(BucketNotified):
    kind = Kind.DROP_FOLDER
    phase = Phase.AFTER_ENDPOINT  # it invokes the endpoint

    def desired(self, config: Config, names: Names) -> tuple[Notified, ...]:
        return (drop_folder(config, names),) if config.batch.drop_folder.enabled else ()

    def function_name(self, names: Names) -> str:
        return function_name(names)


RESOURCES = (DropFolderResource(),)
