"""The drop folder's Lambda with real S3 event payloads: a moto bucket, and a sagemaker-runtime
client whose every request botocore checks against the service model (Stubber)."""

from __future__ import annotations

import io
import json
from urllib.parse import quote_plus

import boto3
import pytest
from botocore.response import StreamingBody
from moto import mock_aws

from proxy import drop_folder

BUCKET = "pose-dev-123456789012-us-east-1"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF a photo"
PNG = b"\x89PNG\r\n\x1a\n a photo"
ANSWER = {"person_detected": True, "people": [], "keypoints": []}
SETTINGS = {
    "ENDPOINT_NAME": "pose-dev",
    "INPUT_PREFIX": "pose-dev/inbox/",
    "RESULT_PREFIX": "pose-dev/outbox/",
    "FAILED_PREFIX": "pose-dev/failed/",
}


def record(key: str, bucket: str = BUCKET) -> dict:
    """One record of an s3:ObjectCreated:Put event, as S3 sends it (the key URL-encoded)."""
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": "us-east-1",
        "eventTime": "2026-12-02T12:00:00.000Z",
        "eventName": "ObjectCreated:Put",
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "pose-dev-predict-drop-folder",
            "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": quote_plus(key), "size": 10, "eTag": "0123456789abcdef"},
        },
    }


@pytest.fixture
def s3(monkeypatch):
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket=BUCKET)
        yield client


@pytest.fixture
def runtime():
    from botocore.stub import Stubber

    client = boto3.client(
        "sagemaker-runtime", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def expect(stubber, body: bytes, content_type: str, answer: dict = ANSWER) -> None:
    payload = json.dumps(answer).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
        {"EndpointName": "pose-dev", "Body": body, "ContentType": content_type, "Accept": "application/json"},
    )


def read(s3, key: str) -> dict:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def test_each_photo_of_an_event_gets_its_result_under_the_same_relative_key(s3, runtime):
    client, stubber = runtime
    keys = ["pose-dev/inbox/a.jpg", "pose-dev/inbox/trip/café photo 1.png"]
    s3.put_object(Bucket=BUCKET, Key=keys[0], Body=JPEG)
    s3.put_object(Bucket=BUCKET, Key=keys[1], Body=PNG)
    expect(stubber, JPEG, "image/jpeg")
    expect(stubber, PNG, "image/png")

    counts = drop_folder.handler({"Records": [record(k) for k in keys]}, None, s3=s3, runtime=client)

    assert counts == {"results": 2, "failed": 0, "skipped": 0}
    assert read(s3, "pose-dev/outbox/a.jpg.json") == ANSWER
    assert read(s3, "pose-dev/outbox/trip/café photo 1.png.json") == ANSWER


def test_a_file_that_is_no_photo_or_too_large_fails_with_its_reason_without_calling_the_model(s3, runtime):
    client, _ = runtime  # nothing queued: a call to the model would fail the test
    s3.put_object(Bucket=BUCKET, Key="pose-dev/inbox/notes.jpg", Body=b"hello, not a photo")
    s3.put_object(
        Bucket=BUCKET, Key="pose-dev/inbox/huge.jpg", Body=JPEG + b"\0" * drop_folder.MAX_PHOTO_BYTES
    )

    counts = drop_folder.handler(
        {"Records": [record("pose-dev/inbox/notes.jpg"), record("pose-dev/inbox/huge.jpg")]},
        None,
        s3=s3,
        runtime=client,
    )

    assert counts == {"results": 0, "failed": 2, "skipped": 0}
    assert read(s3, "pose-dev/failed/notes.jpg.json") == {
        "photo": f"s3://{BUCKET}/pose-dev/inbox/notes.jpg",
        "error": "not a JPEG or PNG photo",
    }
    assert "over the endpoint's 6 MB limit" in read(s3, "pose-dev/failed/huge.jpg.json")["error"]


def test_a_photo_the_model_refuses_fails_with_the_models_words(s3, runtime):
    client, stubber = runtime
    s3.put_object(Bucket=BUCKET, Key="pose-dev/inbox/cut.jpg", Body=JPEG)
    stubber.add_client_error(
        "invoke_endpoint",
        service_error_code="ModelError",
        service_message="Received client error (400) from primary with message ...",
        http_status_code=424,
        response_meta={},
        modeled_fields={
            "OriginalStatusCode": 400,
            "OriginalMessage": json.dumps(
                {"error": "the image is corrupt or truncated (image file is truncated)"}
            ),
            "LogStreamArn": "arn:aws:logs:us-east-1:123456789012:log-group:/aws/sagemaker/Endpoints/pose-dev",
        },
    )

    counts = drop_folder.handler({"Records": [record("pose-dev/inbox/cut.jpg")]}, None, s3=s3, runtime=client)

    assert counts["failed"] == 1
    error = read(s3, "pose-dev/failed/cut.jpg.json")["error"]
    assert error == "the image is corrupt or truncated (image file is truncated)"


def test_a_fault_that_may_pass_raises_so_lambda_retries_the_event(s3, runtime):
    client, stubber = runtime
    s3.put_object(Bucket=BUCKET, Key="pose-dev/inbox/a.jpg", Body=JPEG)
    stubber.add_client_error(
        "invoke_endpoint", service_error_code="ThrottlingException", http_status_code=400
    )

    with pytest.raises(Exception, match="ThrottlingException"):
        drop_folder.handler({"Records": [record("pose-dev/inbox/a.jpg")]}, None, s3=s3, runtime=client)

    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="pose-dev/outbox/").get("KeyCount") == 0


@pytest.mark.parametrize(
    "event",
    [
        None,
        "text",
        {},
        {"Records": "x"},
        {"Records": [{"s3": {}}]},
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {}}}]},
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": None}}}]},
        {"Records": [{"s3": {"bucket": {"name": BUCKET}, "object": {"key": 7}}}]},
        {"Records": [{"s3": {"bucket": {"name": 7}, "object": {"key": "pose-dev/inbox/a.jpg"}}}]},
    ],
)
def test_an_event_that_is_not_s3s_is_logged_and_counted_never_raised(s3, runtime, event):
    client, _ = runtime

    counts = drop_folder.handler(event, None, s3=s3, runtime=client)

    assert counts["results"] == counts["failed"] == 0


def test_objects_outside_the_inbox_folders_and_deleted_photos_are_skipped(s3, runtime):
    client, _ = runtime
    events = {
        "Records": [
            record("pose-dev/outbox/a.jpg.json"),
            record("pose-dev/inbox/sub/"),
            record("pose-dev/inbox/gone.jpg"),
        ]
    }

    assert drop_folder.handler(events, None, s3=s3, runtime=client) == {
        "results": 0,
        "failed": 0,
        "skipped": 3,
    }
