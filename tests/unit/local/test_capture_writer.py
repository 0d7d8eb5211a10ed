"""Local data capture writes what SageMaker writes, where SageMaker writes it."""

from __future__ import annotations

import base64
import json
import random
from datetime import UTC, datetime

from deployment.local.capture import CaptureSettings, CaptureWriter
from monitoring.capture import Invocation, read_record

PHOTO = b"\xff\xd8\xff\xe0 a jpeg body"
ANSWER = json.dumps({"person_detected": True, "keypoints": [], "timing": {"inference_ms": 12.5}}).encode()


def invocation(moment: datetime, inference_id: str = "req-1") -> Invocation:
    return Invocation(PHOTO, "image/jpeg", ANSWER, "application/json", moment, inference_id=inference_id)


def test_records_land_in_sagemakers_hourly_layout_with_its_exact_fields(tmp_path):
    writer = CaptureWriter(CaptureSettings(tmp_path, "pose-dev", "AllTraffic", 100))
    path = writer.write(invocation(datetime(2026, 11, 22, 18, 25, 49, tzinfo=UTC)))
    writer.close()
    assert path.parent == tmp_path / "pose-dev" / "AllTraffic" / "2026" / "11" / "22" / "18"
    assert path.suffix == ".jsonl"
    record = json.loads(path.read_text())
    assert record == {
        "captureData": {
            "endpointInput": {
                "observedContentType": "image/jpeg",
                "mode": "INPUT",
                "data": base64.b64encode(PHOTO).decode(),
                "encoding": "BASE64",
            },
            "endpointOutput": {
                "observedContentType": "application/json",
                "mode": "OUTPUT",
                "data": ANSWER.decode(),
                "encoding": "JSON",
            },
        },
        "eventMetadata": {
            "eventId": record["eventMetadata"]["eventId"],
            "inferenceId": "req-1",
            "inferenceTime": "2026-11-22T18:25:49Z",
        },
        "eventVersion": "0",
    }
    assert read_record(path.read_bytes().splitlines()[0]).response.inference_ms == 12.5


def test_a_new_hour_opens_a_new_file_and_every_line_is_flushed_at_once(tmp_path):
    writer = CaptureWriter(CaptureSettings(tmp_path, "pose-dev", "AllTraffic", 100))
    first = writer.write(invocation(datetime(2026, 11, 22, 18, 59, 59, tzinfo=UTC)))
    # Readable before close: a crash after this point loses nothing.
    assert len(first.read_text().splitlines()) == 1
    second = writer.write(invocation(datetime(2026, 11, 22, 19, 0, 0, tzinfo=UTC)))
    writer.close()
    assert (first.parent.name, second.parent.name) == ("18", "19")


def test_capture_options_drop_the_side_not_captured(tmp_path):
    writer = CaptureWriter(CaptureSettings(tmp_path, "e", "v", 100, capture_input=False))
    path = writer.write(invocation(datetime(2026, 1, 1, tzinfo=UTC)))
    writer.close()
    assert list(json.loads(path.read_text())["captureData"]) == ["endpointOutput"]


def test_sampling_percentage_is_honoured():
    def share(percent: int) -> float:
        writer = CaptureWriter(CaptureSettings(None, "e", "v", percent), rng=random.Random(7))
        return sum(writer.sampled() for _ in range(10_000)) / 10_000

    assert share(0) == 0.0
    assert share(100) == 1.0
    assert abs(share(25) - 0.25) < 0.02


def test_the_fast_encoder_writes_exactly_what_json_dumps_would():
    from monitoring.capture import capture_record, encode_record

    hostile = json.dumps({"note": '\u0000endpointOutput\u0000 and "quotes" and \u2603'}).encode()
    cases = [
        Invocation(PHOTO * 1000, "image/jpeg", ANSWER, "application/json", datetime(2026, 1, 1, tzinfo=UTC)),
        Invocation(
            hostile, "application/json", b"\x00\xffbinary", "image/png", datetime(2026, 1, 1, tzinfo=UTC)
        ),
        Invocation(b"", "image/jpeg", b"", "application/json", datetime(2026, 1, 1, tzinfo=UTC)),
    ]
    for case in cases:
        record = capture_record(case)
        assert encode_record(record) == json.dumps(record, separators=(",", ":")) + "\n"
