"""A monitoring job run as SageMaker runs it: the image the pipeline pushed, SageMaker's environment,
the endpoint's captured data of the window under `dataset_source`, the exit message read back.

The image is found through ECR as SageMaker pulls it: the digest names a manifest, whose config
digest is the local image the docker shim built with podman. Where that image is not here (the
shim only recorded the build), `python -m monitoring` runs instead, the image's own entry point.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from botocore.exceptions import ClientError

REPO = Path(__file__).resolve().parents[2]
MESSAGE_LIMIT = 1024  # SageMaker keeps the first 1 KB of /opt/ml/output/message
JOB_SECONDS = 300
DATASET_FORMAT = {"sagemakerCaptureJson": {"captureIndexNames": ["endpointInput", "endpointOutput"]}}


@dataclass(frozen=True)
class Job:
    definition: dict  # the schedule's MonitoringJobDefinition
    endpoint: dict  # DescribeEndpoint of the monitored endpoint
    schedule: str
    start: datetime
    end: datetime
    name: str


@dataclass(frozen=True)
class JobResult:
    status: str  # the execution's: Completed | CompletedWithViolations | Failed
    message: str  # the processing job's ExitMessage
    failure_reason: str = ""
    exit_code: int | None = None
    ran_in: str = ""  # "podman IMAGE-ID", "python -m monitoring", or "" when it never started


def run_job(job: Job, console, region: str) -> JobResult:
    image = job.definition["MonitoringAppSpecification"]["ImageUri"]
    local_image = _local_image(console, image, region)
    if local_image is None:
        reason = f"ClientError: manifest for {image} not found: manifest unknown: Requested image not found"
        return JobResult("Failed", "", failure_reason=reason)
    with tempfile.TemporaryDirectory(prefix="pose-monitoring-job-") as scratch:
        root = Path(scratch)
        dataset, results, output = root / "input", root / "resultdata", root / "output"
        for directory in (dataset, results, output):
            directory.mkdir()
        _download_capture(console, job, region, dataset)
        environment = _environment(job)
        if local_image:
            command = _podman_command(job, local_image, environment, dataset, results, output)
            ran_in = f"podman {local_image[:12]}"
        else:
            command = [sys.executable, "-m", "monitoring"]
            environment |= {
                "dataset_source": str(dataset),
                "output_path": str(results),
                "MONITORING_OUTPUT_ROOT": str(output),
                "MONITORING_JOB_CONFIG": str(root / "no-processingjobconfig.json"),
            }
            ran_in = "python -m monitoring"
        finished = subprocess.run(
            command,
            cwd=REPO,
            env=dict(os.environ) if local_image else _host_basics() | environment,
            capture_output=True,
            text=True,
            timeout=JOB_SECONDS,
            check=False,
        )
        message_file = output / "message"
        message = message_file.read_text(errors="replace")[:MESSAGE_LIMIT] if message_file.exists() else ""
    if finished.returncode != 0:
        reason = f"AlgorithmError: {message or finished.stderr[-MESSAGE_LIMIT:]}"
        return JobResult("Failed", message, reason, finished.returncode, ran_in)
    status = "CompletedWithViolations" if message.startswith("CompletedWithViolations") else "Completed"
    return JobResult(status, message, "", 0, ran_in)


def _host_basics() -> dict[str, str]:
    return {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}


def _local_image(console, image: str, region: str) -> str | None:
    """The podman image id behind an ECR reference; "" when no such local image; None when ECR has none."""
    found = find_in_ecr(console, image, region)
    if found is None:
        return None
    config_digest = json.loads(found["imageManifest"]).get("config", {}).get("digest", "")
    local = config_digest.removeprefix("sha256:")
    podman = shutil.which("podman")
    if podman and local:
        exists = subprocess.run([podman, "image", "exists", local], capture_output=True, check=False)
        if exists.returncode == 0:
            return local
    return ""


def find_in_ecr(console, image: str, region: str) -> dict | None:
    """ECR's image (with its manifest) for `host/repo@sha256:...` or `host/repo:tag`, or None."""
    repository, digest, tag = parse_image(image)
    image_id = {"imageDigest": digest} if digest else {"imageTag": tag}
    try:
        found = console.client("ecr", region_name=region).batch_get_image(
            repositoryName=repository, imageIds=[image_id]
        )["images"]
    except ClientError:
        return None
    return found[0] if found else None


def parse_image(image: str) -> tuple[str, str, str]:
    """(repository, digest, tag) of `host/repo@sha256:...` or `host/repo:tag`."""
    path = image.split("/", 1)[1]
    if "@" in path:
        repository, digest = path.split("@", 1)
        return repository, digest, ""
    repository, _, tag = path.partition(":")
    return repository, "", tag or "latest"


def _download_capture(console, job: Job, region: str, dataset: Path) -> None:
    """The endpoint's capture files, laid out as SageMaker copies them: {endpoint}/{variant}/yyyy/..."""
    destination = job.endpoint["DataCaptureConfig"]["DestinationS3Uri"].removeprefix("s3://")
    bucket, _, prefix = destination.partition("/")
    s3 = console.client("s3", region_name=region)
    listed = s3.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Prefix=f"{prefix}/{job.endpoint['EndpointName']}/".lstrip("/")
    )
    for page in listed:
        for item in page.get("Contents", []):
            relative = item["Key"].removeprefix(prefix).lstrip("/")
            target = dataset / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())


def _environment(job: Job) -> dict[str, str]:
    """What SageMaker sets for a bring-your-own-container monitoring job (https://docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-byoc-contract-inputs.html)."""
    definition = job.definition
    endpoint_input = definition["MonitoringInputs"][0]["EndpointInput"]
    output = definition["MonitoringOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    capture_uri = job.endpoint["DataCaptureConfig"]["DestinationS3Uri"]
    return {
        "dataset_format": json.dumps(DATASET_FORMAT),
        "dataset_source": endpoint_input["LocalPath"],
        "output_path": output["LocalPath"],
        "start_time": job.start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "end_time": job.end.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "publish_cloudwatch_metrics": "Enabled",
        "sagemaker_endpoint_name": job.endpoint["EndpointName"],
        "sagemaker_monitoring_schedule_name": job.schedule,
        "sagemaker_endpoint_datacapture_prefix": capture_uri.removeprefix("s3://").partition("/")[2],
        **definition.get("Environment", {}),
    }


def _podman_command(
    job: Job, image: str, environment: dict[str, str], dataset: Path, results: Path, output: Path
) -> list[str]:
    app = job.definition["MonitoringAppSpecification"]
    command = ["podman", "run", "--rm", "--network", "none"]
    command += ["--volume", f"{dataset}:{environment['dataset_source']}:ro"]
    command += ["--volume", f"{results}:{environment['output_path']}"]
    command += ["--volume", f"{output}:/opt/ml/output"]
    for name, value in environment.items():
        command += ["--env", f"{name}={value}"]
    if app.get("ContainerEntrypoint"):
        command += ["--entrypoint", json.dumps(app["ContainerEntrypoint"])]
    return [*command, image, *app.get("ContainerArguments", [])]
