"""The drop folder's Lambda: a photo put under the input prefix becomes a result beside it.

S3 calls this function (an event notification) for every object created under `INPUT_PREFIX`. For
each record it reads the photo, sends it to the endpoint, and writes the server's answer to
`RESULT_PREFIX{relative key}.json`; a photo the model cannot read (or that is not a JPEG or PNG,
or is over the endpoint's 6 MB limit) gets `FAILED_PREFIX{relative key}.json` with the reason.
A fault that may pass (the endpoint busy, throttled, unreachable) raises, so Lambda retries the
event (twice, for S3's asynchronous calls); results are overwritten whole, so a retry is harmless.
`make demo` runs this same code on `.local/inbox/`, with stand-ins for the S3 and SageMaker clients.
"""

from __future__ import annotations

import functools
import json
import logging
import os

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from proxy.refusals import clip, from_client_error
from proxy.s3_events import location, records

log = logging.getLogger()
log.setLevel(logging.INFO)

MAX_PHOTO_BYTES = 6 * 1024 * 1024  # InvokeEndpoint's payload limit
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"))
NOT_A_PHOTO = "not a JPEG or PNG photo"
TOO_LARGE = "the photo is over the endpoint's 6 MB limit (6,291,456 bytes); shrink it and drop it again"
MALFORMED = "not an S3 event"


@functools.cache
def _clients():
    """Created once per Lambda container, on first use."""
    timeouts = Config(read_timeout=60, connect_timeout=2, retries={"mode": "standard", "max_attempts": 3})
    return boto3.client("s3"), boto3.client("sagemaker-runtime", config=timeouts)


def settings() -> dict[str, str]:
    return {
        name: os.environ.get(name, "")
        for name in ("ENDPOINT_NAME", "INPUT_PREFIX", "RESULT_PREFIX", "FAILED_PREFIX")
    }


def handler(event: object, context: object = None, s3=None, runtime=None) -> dict:
    """The Lambda entry point; `s3` and `runtime` are injectable (tests)."""
    if s3 is None or runtime is None:
        s3, runtime = _clients()
    return handle(event, s3, runtime, settings())


def handle(event: object, s3, runtime, config: dict[str, str]) -> dict:
    """What the handler does, with its clients and settings given (the local stack's are stand-ins)."""
    listed = records(event)
    if listed is None:
        log.error("drop folder: %s: %s", MALFORMED, clip(event))
        return {"results": 0, "failed": 0, "skipped": 0}
    counts = {"results": 0, "failed": 0, "skipped": 0}
    for record in listed:
        counts[_one(record, config, s3, runtime)] += 1
    log.info("drop folder: %s", counts)
    return counts


def _one(record: object, config: dict[str, str], s3, runtime) -> str:
    located = location(record)
    if located is None:
        log.warning("drop folder: skipped a record that names no S3 object: %s", clip(record))
        return "skipped"
    bucket, key = located
    prefix = config["INPUT_PREFIX"]
    if not key.startswith(prefix) or key.endswith("/") or key == prefix:
        log.warning("drop folder: skipped s3://%s/%s, outside %s", bucket, key, prefix)
        return "skipped"
    relative = key[len(prefix) :]
    try:
        photo = s3.get_object(Bucket=bucket, Key=key)["Body"].read(MAX_PHOTO_BYTES + 1)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in (
            "NoSuchKey",
            "404",
        ):  # deleted since: nothing to answer for
            log.warning("drop folder: s3://%s/%s is gone", bucket, key)
            return "skipped"
        raise
    reason = _refusal(photo)
    if reason is None:
        try:
            answer = runtime.invoke_endpoint(
                EndpointName=config["ENDPOINT_NAME"],
                Body=photo,
                ContentType=_content_type(photo),
                Accept="application/json",
            )
        except ClientError as error:
            refusal = from_client_error(error, config["ENDPOINT_NAME"])
            if not 400 <= refusal.status < 500:
                log.error("drop folder: s3://%s/%s: %s", bucket, key, refusal.detail)
                raise  # may pass: Lambda retries the event
            reason = refusal.message  # the model's own words about the photo
        else:
            body = answer["Body"].read()
            s3.put_object(
                Bucket=bucket,
                Key=f"{config['RESULT_PREFIX']}{relative}.json",
                Body=body,
                ContentType="application/json",
            )
            return "results"
    failure = json.dumps({"photo": f"s3://{bucket}/{key}", "error": reason}).encode()
    s3.put_object(
        Bucket=bucket,
        Key=f"{config['FAILED_PREFIX']}{relative}.json",
        Body=failure,
        ContentType="application/json",
    )
    log.info("drop folder: s3://%s/%s failed: %s", bucket, key, reason)
    return "failed"


def _refusal(photo: bytes) -> str | None:
    if len(photo) > MAX_PHOTO_BYTES:
        return TOO_LARGE
    if not any(photo.startswith(signature) for signature, _ in SIGNATURES):
        return NOT_A_PHOTO
    return None


def _content_type(photo: bytes) -> str:
    return next(kind for signature, kind in SIGNATURES if photo.startswith(signature))
