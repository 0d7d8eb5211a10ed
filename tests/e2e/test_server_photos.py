"""`/invocations` with real photos: keypoints on the person in every encoding, size and rotation."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.e2e.server_client import (
    BLAZEPOSE_FLOOR,
    ENCODINGS,
    MOVENET_FLOOR,
    REQUEST_TIMEOUT_SECONDS,
    Reply,
    Server,
    check_document,
    encode,
    image_size,
    invoke,
    keypoint_xy,
    model_info,
    on_person,
    photo_named,
    single_person,
)

# ---------------------------------------------------------------- /invocations with real photos


@pytest.mark.parametrize("encoding", list(ENCODINGS))
def test_photos_in_every_encoding_put_keypoints_on_the_person(
    blazepose_server: Server, blazepose_dir: Path, eval_photos, encoding: str
):
    landed = []
    for photo in single_person(eval_photos):
        body, content_type = ENCODINGS[encoding](photo.data)
        reply = invoke(blazepose_server.port, body, content_type)
        assert reply.status == 200, (photo.path.name, reply.body[:300])
        check_document(reply.json(), model_info(blazepose_dir), image_size(photo.path), landmarks=33)
        landed.append(on_person(reply.json(), photo.people[0]))
    assert np.concatenate(landed).mean() >= BLAZEPOSE_FLOOR


def test_movenet_server_gives_17_keypoints_without_landmarks_on_the_person(
    movenet_server: Server, movenet_dir: Path, eval_photos
):
    landed = []
    for photo in single_person(eval_photos):
        reply = invoke(movenet_server.port, photo.data)
        assert reply.status == 200, (photo.path.name, reply.body[:300])
        check_document(reply.json(), model_info(movenet_dir), image_size(photo.path), landmarks=None)
        landed.append(on_person(reply.json(), photo.people[0]))
    assert np.concatenate(landed).mean() >= MOVENET_FLOOR


def test_12_megapixel_photo_reports_keypoints_in_its_own_pixels(
    blazepose_server: Server, eval_photos, photo_12mp: bytes
):
    reply = invoke(blazepose_server.port, photo_12mp)
    assert reply.status == 200, reply.body[:300]
    assert reply.json()["image"] == {"width": 4032, "height": 3024}
    person = photo_named(eval_photos, "000000000785.jpg").people[0]
    assert on_person(reply.json(), person, scale=(4032 / 640, 3024 / 425)).mean() >= BLAZEPOSE_FLOOR


def test_exif_rotated_photo_gives_keypoints_in_the_upright_frame(
    blazepose_server: Server, eval_photos, photo_785: bytes
):
    # Stored on its side, tagged "rotate 90° clockwise to view" (orientation 6), as a phone does.
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = Image.open(io.BytesIO(photo_785)).transpose(Image.Transpose.ROTATE_90)
    rotated = invoke(blazepose_server.port, encode(sideways, "JPEG", quality=95, exif=exif.tobytes())).json()
    upright = invoke(blazepose_server.port, photo_785).json()
    assert rotated["image"] == upright["image"] == {"width": 640, "height": 425}
    # Re-encoding moves keypoints by a few pixels (measured at most 3 px, here 12 px).
    allowed = 0.03 * photo_named(eval_photos, "000000000785.jpg").people[0].diagonal
    assert np.hypot(*(keypoint_xy(rotated) - keypoint_xy(upright)).T).max() <= allowed


def test_unknown_request_headers_are_ignored(blazepose_server: Server, photo_785: bytes):
    plain = invoke(blazepose_server.port, photo_785)
    decorated = invoke(
        blazepose_server.port,
        photo_785,
        **{
            "X-Amzn-SageMaker-Custom-Attributes": "trace_id=abc,user=42",
            "X-Amzn-SageMaker-Inference-Id": "7d2f0c9e",
            "X-Something-Random": "whatever; q=1",
        },
    )
    assert (plain.status, decorated.status) == (200, 200)
    assert decorated.json()["keypoints"] == plain.json()["keypoints"]


def test_custom_attributes_set_how_many_people_are_listed(blazepose_server: Server, photo_785: bytes):
    two = Image.new("RGB", (1280, 425), (255, 255, 255))
    skier = Image.open(io.BytesIO(photo_785))
    two.paste(skier, (0, 0))
    two.paste(skier.transpose(Image.Transpose.FLIP_LEFT_RIGHT), (640, 0))
    photo = encode(two, "JPEG", quality=95)
    everyone = invoke(blazepose_server.port, photo).json()
    one = invoke(
        blazepose_server.port, photo, **{"X-Amzn-SageMaker-Custom-Attributes": "max_people=1"}
    ).json()
    assert (len(everyone["people"]), len(one["people"])) == (2, 1)
    bad = invoke(blazepose_server.port, photo, **{"X-Amzn-SageMaker-Custom-Attributes": "max_people=lots"})
    assert (bad.status, bad.json()) == (
        400,
        {
            "error": "X-Amzn-SageMaker-Custom-Attributes: max_people must be an integer from 1 to 20, got 'lots'"
        },
    )


def test_eight_concurrent_requests_all_succeed_with_the_same_answer(
    blazepose_server: Server, photo_785: bytes
):
    start = threading.Barrier(8)
    replies: list[Reply] = []

    def client() -> None:
        start.wait(REQUEST_TIMEOUT_SECONDS)
        replies.append(invoke(blazepose_server.port, photo_785))

    clients = [threading.Thread(target=client) for _ in range(8)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join(REQUEST_TIMEOUT_SECONDS)
    assert [reply.status for reply in replies] == [200] * 8
    assert all(reply.json()["keypoints"] == replies[0].json()["keypoints"] for reply in replies)
