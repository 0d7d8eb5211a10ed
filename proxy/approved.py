"""Deploy on approval: a version approved in the model registry becomes what the stage's endpoint runs.

EventBridge calls this function (asynchronously) with SageMaker's "Model Package State Change"
event when a version of `MODEL_GROUP` is approved. It makes a model from the version (its image,
artifact and environment, with the stage's execution role), an endpoint config copying the
endpoint's current one (instances, data capture) with that model, and updates the endpoint with the
stage's blue/green `DEPLOYMENT_CONFIG` (its rollback alarms). Names are content-addressed like the
engine's, so the engine's clean-up keeps and removes them like its own.

Rules, in order:
- an event of another group, not an approval, or of a version that is unknown or deleted, or no
  longer approved: logged and dropped (returning, so Lambda does not retry it);
- only the newest approved version is deployed: an older approval arriving late (or retried) is
  dropped, so two approvals in quick succession end on the second whatever order they run in;
- the endpoint busy with an update (e.g. the first of two approvals): waited for, up to a minute
  before this function's own timeout, then raised, so Lambda's asynchronous retry comes back later;
- the endpoint already on that version: nothing to do.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import boto3
from botocore.exceptions import ClientError

log = logging.getLogger()
log.setLevel(logging.INFO)

DETAIL_TYPE = "SageMaker Model Package State Change"
APPROVED = "Approved"
BUSY = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})
POLL_SECONDS = 30
MARGIN_MS = 60_000  # stop waiting this long before Lambda's timeout, and raise for a retry
GONE = ("does not exist", "Could not find", "not found")


class EndpointBusy(RuntimeError):
    """Raised so that Lambda's asynchronous retry tries again later."""


@dataclass(frozen=True)
class Settings:
    group: str
    endpoint: str
    prefix: str  # names are `{prefix}-model-{hash}` and `{prefix}-config-{hash}`, as the engine's
    role_arn: str
    deployment_config: dict
    tags: dict[str, str]

    @classmethod
    def from_environment(cls) -> Settings:
        return cls(
            os.environ["MODEL_GROUP"],
            os.environ["ENDPOINT_NAME"],
            os.environ["NAME_PREFIX"],
            os.environ["EXECUTION_ROLE_ARN"],
            json.loads(os.environ["DEPLOYMENT_CONFIG"]),
            json.loads(os.environ.get("TAGS", "{}")),
        )


@functools.cache
def _client():
    return boto3.client("sagemaker")


def handler(event: object, context: object = None, sagemaker=None, sleep: Callable = time.sleep) -> dict:
    """The Lambda entry point; `sagemaker` and `sleep` are injectable (tests)."""
    remaining = getattr(context, "get_remaining_time_in_millis", lambda: 900_000)
    return handle(event, sagemaker or _client(), Settings.from_environment(), sleep, remaining)


def handle(event: object, sagemaker, settings: Settings, sleep: Callable, remaining: Callable) -> dict:
    detail = event.get("detail") if isinstance(event, dict) else None
    if not isinstance(detail, dict) or event.get("detail-type") != DETAIL_TYPE:
        return _dropped("not a model package state change", event)
    arn, group = detail.get("ModelPackageArn"), detail.get("ModelPackageGroupName")
    if group != settings.group or not isinstance(arn, str):
        return _dropped(f"a version of group {group!r}, not {settings.group!r}", arn)
    package = _describe(sagemaker, arn)
    if package is None:
        return _dropped("the version is unknown or deleted", arn)
    if package.get("ModelApprovalStatus") != APPROVED:
        return _dropped(f"the version is {package.get('ModelApprovalStatus')} now, not {APPROVED}", arn)
    newest = _newest_approved(sagemaker, settings.group)
    if newest != arn:
        return _dropped(f"a newer approved version ({newest}) is the one to run", arn)
    endpoint = _settled_endpoint(sagemaker, settings.endpoint, sleep, remaining)
    if endpoint is None:
        return _dropped(f"endpoint {settings.endpoint} does not exist or is not in service", arn)
    current = sagemaker.describe_endpoint_config(EndpointConfigName=endpoint["EndpointConfigName"])
    container = package["InferenceSpecification"]["Containers"][0]
    wanted = {
        "Image": container["Image"],
        "ModelDataUrl": container["ModelDataUrl"],
        "Environment": container.get("Environment", {}),
    }
    running = sagemaker.describe_model(ModelName=current["ProductionVariants"][0]["ModelName"])
    if _container(running.get("PrimaryContainer", {})) == wanted:
        log.info("approved: %s already runs %s", settings.endpoint, arn)
        return {"outcome": "unchanged", "version": arn}
    model = _ensure_model(sagemaker, settings, wanted)
    config = _ensure_config(sagemaker, settings, current, model)
    sagemaker.update_endpoint(
        EndpointName=settings.endpoint, EndpointConfigName=config, DeploymentConfig=settings.deployment_config
    )
    log.info("approved: %s moves to %s (model %s, config %s)", settings.endpoint, arn, model, config)
    return {"outcome": "deploying", "version": arn, "model": model, "config": config}


def _dropped(reason: str, what: object) -> dict:
    log.warning("approved: dropped (%s): %s", reason, str(what)[:300])
    return {"outcome": "dropped", "reason": reason}


def _describe(sagemaker, arn: str) -> dict | None:
    try:
        return sagemaker.describe_model_package(ModelPackageName=arn)
    except ClientError as error:
        if _gone(error):
            return None
        raise


def _gone(error: ClientError) -> bool:
    found = error.response.get("Error", {})
    return found.get("Code") in ("ValidationException", "ResourceNotFound") and any(
        words in found.get("Message", "") for words in GONE
    )


def _newest_approved(sagemaker, group: str) -> str | None:
    found = sagemaker.list_model_packages(
        ModelPackageGroupName=group,
        ModelApprovalStatus=APPROVED,
        SortBy="CreationTime",
        SortOrder="Descending",
        MaxResults=1,
    )["ModelPackageSummaryList"]
    return found[0]["ModelPackageArn"] if found else None


def _settled_endpoint(sagemaker, name: str, sleep: Callable, remaining: Callable) -> dict | None:
    """The endpoint once no update runs on it; None if it is missing or cannot be updated."""
    while True:
        try:
            endpoint = sagemaker.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _gone(error):
                return None
            raise
        status = endpoint["EndpointStatus"]
        if status == "InService":
            return endpoint
        if status not in BUSY:
            return None  # Failed, OutOfService, Deleting...: a deploy of the stage must repair it
        if remaining() < MARGIN_MS + POLL_SECONDS * 1000:
            raise EndpointBusy(f"endpoint {name} is still {status}; Lambda retries this event later")
        log.info("approved: endpoint %s is %s; waiting", name, status)
        sleep(POLL_SECONDS)


def _container(found: dict) -> dict:
    return {
        "Image": found.get("Image"),
        "ModelDataUrl": found.get("ModelDataUrl"),
        "Environment": found.get("Environment", {}),
    }


def _hashed(prefix: str, kind: str, definition: object) -> str:
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return f"{prefix}-{kind}-{hashlib.sha256(canonical.encode()).hexdigest()[:8]}"


def _tags(settings: Settings) -> list[dict]:
    return [{"Key": key, "Value": value} for key, value in sorted(settings.tags.items())]


def _ensure_model(sagemaker, settings: Settings, container: dict) -> str:
    name = _hashed(settings.prefix, "model", {"approved": container, "role": settings.role_arn})
    if not _exists(lambda: sagemaker.describe_model(ModelName=name)):  # made by an earlier try
        sagemaker.create_model(
            ModelName=name,
            PrimaryContainer=container,
            ExecutionRoleArn=settings.role_arn,
            Tags=_tags(settings),
        )
    return name


def _ensure_config(sagemaker, settings: Settings, current: dict, model: str) -> str:
    """The current config's settings (instances or serverless, data capture, its key) with `model`."""
    variants = [{**variant, "ModelName": model} for variant in current["ProductionVariants"]]
    copied = {"ProductionVariants": variants}
    for key in ("DataCaptureConfig", "KmsKeyId", "AsyncInferenceConfig"):
        if key in current:
            copied[key] = current[key]
    name = _hashed(settings.prefix, "config", copied)
    if not _exists(lambda: sagemaker.describe_endpoint_config(EndpointConfigName=name)):
        sagemaker.create_endpoint_config(EndpointConfigName=name, Tags=_tags(settings), **copied)
    return name


def _exists(describe: Callable) -> bool:
    try:
        describe()
    except ClientError as error:
        if _gone(error):
            return False
        raise
    return True
