"""The upload folder's Lambda: a model put under `UPLOAD_PREFIX` becomes a registry version.

S3 calls this function for every object created under the folder. A `.tflite` (its family in the
object's `x-amz-meta-family`, or in a `model.json` beside it) or a `model.tar.gz` (with its
model.json) is checked (model_files.py), packaged, uploaded content-addressed under `MODEL_PREFIX`
and registered `PendingManualApproval` in `MODEL_GROUP` with the image and environment the stage's
endpoint runs now; approving it is a person's decision, and only that deploys it. A model already
registered (same image, package and environment) is not registered again. Anything else is moved to
`REJECTED_PREFIX{relative key}` with `{relative key}.reason.txt` beside it. A fault that may pass
(throttling, S3 or SageMaker unreachable) raises, so Lambda retries the event; each step is
idempotent (a content-addressed key, the registry's identity check), so a retry is harmless.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os

import boto3
from botocore.exceptions import ClientError

from proxy.model_files import MANIFEST, Refused, from_archive, from_tflite
from proxy.refusals import clip
from proxy.s3_events import location, records

log = logging.getLogger()
log.setLevel(logging.INFO)

IDENTITY = "pose:model"  # deployment/resources/registry.py: the metadata key of a version's identity
STAGE = "pose:stage"
PENDING = "PendingManualApproval"
CONTENT_TYPES = ["image/jpeg", "image/png", "application/json", "application/x-image"]
NOT_A_MODEL = "not a model: upload a .tflite file (with x-amz-meta-family) or a model.tar.gz"


@functools.cache
def _clients():
    return boto3.client("s3"), boto3.client("sagemaker")


def settings() -> dict[str, str]:
    names = ("UPLOAD_PREFIX", "REJECTED_PREFIX", "MODEL_PREFIX", "MODEL_GROUP", "ENDPOINT_NAME", "STAGE")
    return {name: os.environ.get(name, "") for name in names} | {
        "MAX_UPLOAD_MB": os.environ.get("MAX_UPLOAD_MB", "200")
    }


def handler(event: object, context: object = None, s3=None, sagemaker=None) -> dict:
    """The Lambda entry point; the clients are injectable (tests)."""
    if s3 is None or sagemaker is None:
        s3, sagemaker = _clients()
    return handle(event, s3, sagemaker, settings())


def handle(event: object, s3, sagemaker, config: dict[str, str]) -> dict:
    listed = records(event)
    counts = {"registered": 0, "known": 0, "rejected": 0, "skipped": 0}
    if listed is None:
        log.error("model upload: not an S3 event: %s", clip(event))
        return counts
    for record in listed:
        counts[_one(record, s3, sagemaker, config)] += 1
    log.info("model upload: %s", counts)
    return counts


def _one(record: object, s3, sagemaker, config: dict[str, str]) -> str:
    located = location(record)
    if located is None:
        log.warning("model upload: skipped a record that names no S3 object: %s", clip(record))
        return "skipped"
    bucket, key = located
    prefix = config["UPLOAD_PREFIX"]
    relative = key[len(prefix) :] if key.startswith(prefix) else ""
    if not relative or key.endswith("/") or relative.rsplit("/", 1)[-1] == MANIFEST:
        return "skipped"  # outside the folder, a folder marker, or a model.json read with its model
    try:
        head = s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            log.warning("model upload: s3://%s/%s is gone", bucket, key)
            return "skipped"
        raise
    try:
        package = _package(s3, bucket, key, head, config)
    except Refused as refusal:
        _reject(s3, bucket, key, relative, str(refusal), config)
        return "rejected"
    return _register(s3, sagemaker, bucket, key, package, config)


def _package(s3, bucket: str, key: str, head: dict, config: dict[str, str]):
    limit = int(config["MAX_UPLOAD_MB"]) * 1024 * 1024
    if head["ContentLength"] > limit:
        raise Refused(f"{head['ContentLength']:,} bytes, over the upload folder's {limit:,}")
    family = head.get("Metadata", {}).get("family")
    filename = key.rsplit("/", 1)[-1]
    if filename.endswith(".tflite"):
        family = family or _family_beside(s3, bucket, key)
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        return from_tflite(filename, body, family, f"s3://{bucket}/{key}")
    if filename.endswith("model.tar.gz"):
        return from_archive(s3.get_object(Bucket=bucket, Key=key)["Body"].read(), family)
    raise Refused(NOT_A_MODEL)


def _family_beside(s3, bucket: str, key: str) -> str:
    beside = f"{key.rsplit('/', 1)[0]}/{MANIFEST}"
    try:
        document = json.loads(s3.get_object(Bucket=bucket, Key=beside)["Body"].read())
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            raise Refused(
                "no family: set x-amz-meta-family (movenet or blazepose) or put a model.json beside it"
            ) from None
        raise
    except ValueError as error:
        raise Refused(f"the {MANIFEST} beside it is not JSON ({error})") from error
    family = document.get("family") if isinstance(document, dict) else None
    if not isinstance(family, str):
        raise Refused(f"the {MANIFEST} beside it names no family")
    return family


def _reject(s3, bucket: str, key: str, relative: str, reason: str, config: dict[str, str]) -> None:
    """Moved aside with the reason beside it, so the folder holds only what is being taken in."""
    target = f"{config['REJECTED_PREFIX']}{relative}"
    s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
    s3.put_object(
        Bucket=bucket, Key=f"{target}.reason.txt", Body=f"{reason}\n".encode(), ContentType="text/plain"
    )
    s3.delete_object(Bucket=bucket, Key=key)
    log.info("model upload: s3://%s/%s rejected: %s", bucket, key, reason)


def _register(s3, sagemaker, bucket: str, key: str, package, config: dict[str, str]) -> str:
    image, environment = _stage_model(sagemaker, config["ENDPOINT_NAME"])
    artifact = f"{config['MODEL_PREFIX']}{package.sha256[:16]}/model.tar.gz"
    identity = identity_of(image, package.sha256, environment)
    known = _registered(sagemaker, config["MODEL_GROUP"], identity)
    if known:
        log.info("model upload: s3://%s/%s is already version %s", bucket, key, known)
        return "known"
    s3.put_object(Bucket=bucket, Key=artifact, Body=package.data, ContentType="application/gzip")
    metadata = {
        "model": package.name[:200],
        STAGE: config["STAGE"],
        "commit": "upload",
        "upload": f"s3://{bucket}/{key}"[:256],
        IDENTITY: identity,
    }
    created = sagemaker.create_model_package(
        ModelPackageGroupName=config["MODEL_GROUP"],
        ModelPackageDescription=f"{package.name} ({package.family}) uploaded to {config['STAGE']}"[:1024],
        InferenceSpecification={
            "Containers": [
                {"Image": image, "ModelDataUrl": f"s3://{bucket}/{artifact}", "Environment": environment}
            ],
            "SupportedContentTypes": CONTENT_TYPES,
            "SupportedResponseMIMETypes": ["application/json"],
        },
        ModelApprovalStatus=PENDING,
        CustomerMetadataProperties=metadata,
    )
    log.info("model upload: s3://%s/%s registered as %s", bucket, key, created["ModelPackageArn"])
    return "registered"


def identity_of(image: str, artifact_sha256: str, environment: dict[str, str]) -> str:
    """deployment/resources/registry.py's identity_of, so a deploy of the same model finds it."""
    definition = {"image": image, "artifact": artifact_sha256, "environment": sorted(environment.items())}
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _stage_model(sagemaker, endpoint: str) -> tuple[str, dict[str, str]]:
    """The image and environment the stage's endpoint runs now (a fault here raises: retried)."""
    found = sagemaker.describe_endpoint(EndpointName=endpoint)
    config = sagemaker.describe_endpoint_config(EndpointConfigName=found["EndpointConfigName"])
    model = sagemaker.describe_model(ModelName=config["ProductionVariants"][0]["ModelName"])
    container = model["PrimaryContainer"]
    return container["Image"], dict(container.get("Environment", {}))


def _registered(sagemaker, group: str, identity: str) -> str | None:
    """The ARN of the group's version with this identity, if any."""
    pages = sagemaker.get_paginator("list_model_packages").paginate(ModelPackageGroupName=group)
    for page in pages:
        for summary in page["ModelPackageSummaryList"]:
            found = sagemaker.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
            if found.get("CustomerMetadataProperties", {}).get(IDENTITY) == identity:
                return summary["ModelPackageArn"]
    return None
