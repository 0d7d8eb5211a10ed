"""`python -m deployment batch`: pose estimation for every photo under an S3 prefix, with
SageMaker Batch Transform running the deployed model (same image, same artifact) on its own
instances, one request per photo. This is how a prefix goes past what one machine does:
`--instances` spreads its objects over several.

SageMaker writes each result as `{output}/{key relative to the input}.out`, the server's JSON.
The execution role reads and writes the stage's own folder only, so the input and the output
are under `s3://{bucket}/{project}-{stage}/` (unless iam.execution_role_arn names a role of yours).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import botocore.session

from deployment.config import Config
from deployment.errors import ConfigError, DeploymentError
from deployment.naming import Names
from deployment.resources.alert import vcpus
from deployment.resources.base import Clock
from deployment.resources.transform_job import BatchJob

S3_URI = re.compile(r"s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<prefix>[^\s]*)")
FINISHED = frozenset({"Completed", "Failed", "Stopped"})
MOST_INSTANCES = 100


@dataclass(frozen=True)
class BatchResult:
    status: str
    reason: str
    inputs: int
    results: int
    output_uri: str


def transform_instance_types() -> frozenset[str]:
    """Batch Transform's instance types, from botocore's service model (offline)."""
    model = botocore.session.get_session().get_service_model("sagemaker")
    return frozenset(model.shape_for("TransformInstanceType").enum)


def batch_job(
    config: Config,
    names: Names,
    model_name: str,
    input_uri: str,
    output_uri: str | None,
    instances: int,
    instance_type: str | None,
    now: datetime,
) -> BatchJob:
    """The job to run, every argument checked: a bad one is a ConfigError naming the flag."""
    bucket = names.bucket(config.s3.bucket)
    folder = f"s3://{bucket}/{names.prefix}/"
    own_role = config.iam.execution_role_arn is not None
    input_uri = _checked_uri(input_uri, "INPUT", folder, own_role)
    if output_uri is None:
        output_uri = f"{folder}batch-output/{_stamp(now)}/"
    output_uri = _checked_uri(output_uri, "--output", folder, own_role)
    if output_uri.startswith(input_uri) or input_uri.startswith(output_uri):
        raise ConfigError(
            "the output must not be inside the input, nor the input inside it", where="--output"
        )
    if not 1 <= instances <= MOST_INSTANCES:
        raise ConfigError(f"{instances} is not between 1 and {MOST_INSTANCES}", where="--instances")
    kind = instance_type or (
        config.endpoint.instance_type if not config.endpoint.serverless else "ml.m5.large"
    )
    if kind not in transform_instance_types():
        raise ConfigError(
            f"{kind!r} is not an instance type Batch Transform runs on", where="--instance-type"
        )
    # `{prefix}-model-...`: the deploy role's session policy already names this stage's models so.
    name = f"{names.prefix}-model-batch-{_stamp(now)}"
    return BatchJob(name, model_name, input_uri, output_uri, kind, instances, vcpus(kind))


def run_batch(
    aws,
    job: BatchJob,
    tags: tuple[tuple[str, str], ...],
    report: Callable[[str], None] = print,
    clock: Clock | None = None,
    poll_seconds: float = 30,
    timeout_seconds: float = 48 * 3600,
) -> BatchResult:
    """Start the job, wait for it with a line per poll, and count what it wrote."""
    clock = clock or Clock()
    inputs = aws.storage.count_objects(job.input_uri)
    if inputs == 0:
        raise DeploymentError("no objects to process", where=job.input_uri)
    report(f"batch {job.name}: {inputs} photo(s) on {job.instance_count} x {job.instance_type}")
    aws.sagemaker.create_transform_job(job, tags)
    started = clock.now()
    while True:
        status, reason = aws.sagemaker.transform_job_status(job.name)
        elapsed = clock.now() - started
        report(f"  batch {job.name}: {status} ({elapsed:.0f}s)")
        if status in FINISHED:
            break
        if elapsed >= timeout_seconds:
            raise DeploymentError(f"no result after {timeout_seconds:.0f}s", where=job.name)
        clock.sleep(poll_seconds)
    results = aws.storage.count_objects(job.output_uri, suffix=".out")
    return BatchResult(status, reason, inputs, results, job.output_uri)


def _checked_uri(uri: str, flag: str, folder: str, own_role: bool) -> str:
    match = S3_URI.fullmatch(uri)
    if not match or ".." in uri or "//" in uri.removeprefix("s3://"):
        raise ConfigError(f"{uri!r} is not an S3 prefix (s3://bucket/folder/)", where=flag)
    uri = uri if uri.endswith("/") else f"{uri}/"
    if not own_role and not uri.startswith(folder):
        raise ConfigError(
            f"{uri} is outside {folder}, the only folder the stage's execution role may read and write",
            where=flag,
            hint=f"copy the photos under {folder} (e.g. {folder}batch-input/), or set iam.execution_role_arn",
        )
    return uri


def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%y%m%d%H%M%S")
