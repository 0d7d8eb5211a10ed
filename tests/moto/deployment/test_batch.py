"""`python -m deployment batch` against moto: the deployed model over an S3 prefix of photos."""

from __future__ import annotations

import re

from tests.moto.deployment.conftest import ACCOUNT, REGION

QUICK = ("--set", "webapp.enabled=false", "--set", "api.enabled=false", "--set", "monitoring.enabled=false")
BUCKET = f"pose-dev-{ACCOUNT}-{REGION}"
INPUT = f"s3://{BUCKET}/pose-dev/batch-input/"


def photos(console, *keys: str) -> None:
    s3 = console.client("s3")
    for key in keys:
        s3.put_object(Bucket=BUCKET, Key=f"pose-dev/batch-input/{key}", Body=b"\xff\xd8\xff photo")


def test_every_photo_under_the_prefix_gets_a_result_next_to_its_key(run, account, console):
    assert run("deploy", *QUICK).code == 0
    photos(console, "a.jpg", "street/b.png", "street/c d é.jpg")
    console.client("s3").put_object(Bucket=BUCKET, Key="pose-dev/batch-input/empty-folder/", Body=b"")

    result = run("batch", *QUICK, INPUT)

    assert result.code == 0, result.err
    (request,) = account.requests("CreateTransformJob")
    model = console.client("sagemaker").describe_endpoint_config(
        EndpointConfigName=console.client("sagemaker").describe_endpoint(EndpointName="pose-dev")[
            "EndpointConfigName"
        ]
    )["ProductionVariants"][0]["ModelName"]
    assert request["ModelName"] == model  # the deployed model: same image, same artifact
    assert re.fullmatch(r"pose-dev-model-batch-[0-9]{12}", request["TransformJobName"])
    assert (request["MaxConcurrentTransforms"], request["MaxPayloadInMB"], request["BatchStrategy"]) == (
        2,
        6,
        "SingleRecord",
    )
    assert request["TransformInput"]["SplitType"] == "None"  # one photo, one request
    output = request["TransformOutput"]["S3OutputPath"]
    assert output.startswith(f"s3://{BUCKET}/pose-dev/batch-output/")
    assert {tag["Key"] for tag in request["Tags"]} == {"owner", "pose:deployment"}
    assert result.out.splitlines()[-1] == f"batch: 3 result(s) for 3 photo(s) in {output}"


def test_a_failed_job_says_why_and_exits_1(run, account, console):
    assert run("deploy", *QUICK).code == 0
    photos(console, "a.jpg")
    account.transform_outcome = ("Failed", "ClientError: See job logs for more information")
    account.transform_writes_results = False

    result = run("batch", *QUICK, INPUT)

    assert result.code == 1
    assert "batch: Failed: ClientError: See job logs for more information" in result.err


def test_missing_results_are_a_failure(run, account, console):
    assert run("deploy", *QUICK).code == 0
    photos(console, "a.jpg", "b.jpg")
    account.transform_writes_results = False

    result = run("batch", *QUICK, INPUT)

    assert (result.code, result.out.splitlines()[-1].split(" in ")[0]) == (
        1,
        "batch: 0 result(s) for 2 photo(s)",
    )


def test_nothing_deployed_an_empty_prefix_or_a_foreign_prefix_is_refused(run, account, console):
    assert run("batch", *QUICK, INPUT).err == (
        "error: pose-dev: no endpoint is deployed, so there is no model to run (hint: deploy first)\n"
    )
    assert run("deploy", *QUICK).code == 0
    empty = run("batch", *QUICK, INPUT)
    foreign = run("batch", *QUICK, "s3://someone-elses-bucket/photos/")
    inside = run("batch", *QUICK, INPUT, "--output", f"{INPUT}results/")

    assert (empty.code, empty.err) == (1, f"error: {INPUT}: no objects to process\n")
    assert (
        foreign.code == 2 and "outside s3://" in foreign.err and "set iam.execution_role_arn" in foreign.err
    )
    assert inside.code == 2 and "--output: the output must not be inside the input" in inside.err
    assert account.requests("CreateTransformJob") == []
