"""The upload folder's Lambda with real S3 event payloads (several records, spaces and unicode in
keys) against moto's S3 and SageMaker, and a real TFLite model (MoveNet Lightning)."""

from __future__ import annotations

import hashlib
import io
import tarfile
from pathlib import Path
from urllib.parse import quote_plus

import boto3
import pytest
from moto import mock_aws

from deployment.resources.registry import identity_of
from inference.artifact import package as engine_package
from inference.manifest import ModelManifest
from proxy.model_files import Refused, from_tflite, input_shape
from proxy.model_upload import handle
from tests.conftest import MOVENET_LIGHTNING, require

REGION, BUCKET, GROUP = "us-east-1", "pose-dev-bucket", "pose"
IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/pose-inference@sha256:" + "b" * 64
CONFIG = {
    "UPLOAD_PREFIX": "pose-dev/uploads/",
    "REJECTED_PREFIX": "pose-dev/uploads-rejected/",
    "MODEL_PREFIX": "pose-dev/models/",
    "MODEL_GROUP": GROUP,
    "ENDPOINT_NAME": "pose-dev",
    "STAGE": "pose-dev",
    "MAX_UPLOAD_MB": "20",
}


@pytest.fixture(scope="module")
def lightning() -> bytes:
    return require(MOVENET_LIGHTNING, "the MoveNet Lightning model").read_bytes()


@pytest.fixture
def aws(monkeypatch):
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3, sagemaker = boto3.client("s3"), boto3.client("sagemaker")
        s3.create_bucket(Bucket=BUCKET)
        sagemaker.create_model_package_group(ModelPackageGroupName=GROUP)
        role = "arn:aws:iam::123456789012:role/pose-dev-sagemaker-execution"
        container = {
            "Image": IMAGE,
            "ModelDataUrl": "s3://b/k/model.tar.gz",
            "Environment": {"POSE_MAX_PEOPLE": "4"},
        }
        sagemaker.create_model(
            ModelName="pose-dev-model-00000000", PrimaryContainer=container, ExecutionRoleArn=role
        )
        variant = {
            "VariantName": "AllTraffic",
            "ModelName": "pose-dev-model-00000000",
            "InstanceType": "ml.m5.large",
            "InitialInstanceCount": 1,
        }
        sagemaker.create_endpoint_config(
            EndpointConfigName="pose-dev-config-00000000", ProductionVariants=[variant]
        )
        sagemaker.create_endpoint(EndpointName="pose-dev", EndpointConfigName="pose-dev-config-00000000")
        yield s3, sagemaker


def event(*keys: str) -> dict:
    """S3's notification payload: keys URL-encoded as S3 sends them (spaces as '+')."""
    records = [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": "2026-11-26T11:32:00.000Z",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "pose-dev-registry-upload",
                "bucket": {"name": BUCKET, "arn": f"arn:aws:s3:::{BUCKET}"},
                "object": {"key": quote_plus(key, safe="/"), "size": 1, "sequencer": "0055AED6DCD90281E5"},
            },
        }
        for key in keys
    ]
    return {"Records": records}


def versions(sagemaker) -> list[dict]:
    found = sagemaker.list_model_packages(ModelPackageGroupName=GROUP)["ModelPackageSummaryList"]
    return [sagemaker.describe_model_package(ModelPackageName=v["ModelPackageArn"]) for v in found]


def keys(s3) -> list[str]:
    return sorted(item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))


def test_a_tflite_with_its_family_becomes_one_pending_version_and_a_package(aws, lightning):
    s3, sagemaker = aws
    key = "pose-dev/uploads/team a/lightning é.tflite"
    s3.put_object(Bucket=BUCKET, Key=key, Body=lightning, Metadata={"family": "movenet"})

    counts = handle(event(key, key), s3, sagemaker, CONFIG)  # S3 may deliver an event twice

    assert counts == {"registered": 1, "known": 1, "rejected": 0, "skipped": 0}
    (version,) = versions(sagemaker)
    assert version["ModelApprovalStatus"] == "PendingManualApproval"
    container = version["InferenceSpecification"]["Containers"][0]
    packaged = from_tflite("lightning é.tflite", lightning, "movenet", f"s3://{BUCKET}/{key}")
    assert container["ModelDataUrl"] == f"s3://{BUCKET}/pose-dev/models/{packaged.sha256[:16]}/model.tar.gz"
    assert (container["Image"], container["Environment"]) == (IMAGE, {"POSE_MAX_PEOPLE": "4"})
    # The identity a deploy of this very model would compute: it is not registered twice.
    identity = identity_of(IMAGE, packaged.sha256, (("POSE_MAX_PEOPLE", "4"),))
    assert version["CustomerMetadataProperties"]["pose:model"] == identity
    stored = s3.get_object(Bucket=BUCKET, Key=container["ModelDataUrl"].split(f"{BUCKET}/")[1])["Body"].read()
    assert hashlib.sha256(stored).hexdigest() == packaged.sha256


def test_bad_uploads_are_moved_aside_with_their_reason_and_good_ones_in_the_same_event_kept(aws, lightning):
    s3, sagemaker = aws
    bad = {
        "pose-dev/uploads/photo.jpg": (b"\xff\xd8\xff a photo", {}),
        "pose-dev/uploads/fake.tflite": (b"not a flatbuffer at all", {"family": "movenet"}),
        "pose-dev/uploads/nofamily.tflite": (lightning, {}),
        "pose-dev/uploads/big.tflite": (b"TFL3" * (6 * 1024 * 1024), {"family": "movenet"}),
    }
    for key, (body, metadata) in bad.items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body, Metadata=metadata)
    s3.put_object(Bucket=BUCKET, Key="pose-dev/uploads/ok/m.tflite", Body=lightning)
    s3.put_object(Bucket=BUCKET, Key="pose-dev/uploads/ok/model.json", Body=b'{"family": "movenet"}')
    outside = "pose-dev/inbox/elsewhere.tflite"

    counts = handle(event(*bad, "pose-dev/uploads/ok/m.tflite", outside), s3, sagemaker, CONFIG)

    assert counts == {"registered": 1, "known": 0, "rejected": 4, "skipped": 1}
    reasons = {
        key: s3.get_object(Bucket=BUCKET, Key=key.replace("uploads/", "uploads-rejected/") + ".reason.txt")[
            "Body"
        ]
        .read()
        .decode()
        for key in bad
    }
    assert reasons["pose-dev/uploads/photo.jpg"].startswith("not a model: upload a .tflite")
    assert reasons["pose-dev/uploads/fake.tflite"].startswith("not a TFLite model")
    assert reasons["pose-dev/uploads/nofamily.tflite"].startswith("no family")
    assert "over the upload folder's 20,971,520" in reasons["pose-dev/uploads/big.tflite"]
    assert not set(bad) & set(keys(s3))  # moved, not copied
    assert all(key.replace("uploads/", "uploads-rejected/") in keys(s3) for key in bad)


@pytest.mark.parametrize(
    "malformed",
    [
        None,
        {"Records": "x"},
        {"Records": [{"s3": {}}, "text"]},
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": None}}}]},
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": 7}}}]},
        {"Records": [{"s3": {"bucket": {"name": 7}, "object": {"key": "pose-dev/uploads/m.tflite"}}}]},
    ],
)
def test_an_event_or_record_that_names_no_object_is_skipped_never_raised(aws, malformed):
    s3, sagemaker = aws

    counts = handle(malformed, s3, sagemaker, CONFIG)

    assert counts["registered"] == counts["known"] == counts["rejected"] == 0
    assert versions(sagemaker) == []


def test_a_model_tar_gz_made_by_the_engine_is_registered_as_is(aws, lightning, tmp_path: Path):
    s3, sagemaker = aws
    packaged = from_tflite("m.tflite", lightning, "movenet", "s3://x/m.tflite")
    model_dir = tmp_path / "model"
    with tarfile.open(fileobj=io.BytesIO(packaged.data), mode="r:gz") as archive:
        archive.extractall(model_dir, filter="data")
    ModelManifest.read(model_dir)  # what the inference server reads, accepts it
    engine = engine_package(model_dir, tmp_path / "engine.tar.gz").read_bytes()
    assert engine == packaged.data  # byte for byte inference/artifact.py's layout
    s3.put_object(Bucket=BUCKET, Key="pose-dev/uploads/model.tar.gz", Body=engine)

    assert handle(event("pose-dev/uploads/model.tar.gz"), s3, sagemaker, CONFIG)["registered"] == 1


def test_the_flatbuffer_reader_finds_lightnings_input_and_refuses_damage(lightning):
    assert input_shape(lightning) == (1, 192, 192, 3)
    with pytest.raises(Refused, match="damaged"):
        input_shape(lightning[:64])
