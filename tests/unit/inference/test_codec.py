import base64
import json

import pytest

from inference import codec
from inference.errors import RequestError

JPEG_MAGIC = b"\xff\xd8\xff\xe0fake"


@pytest.mark.parametrize(
    "content_type",
    [
        "image/jpeg",
        "image/png",
        "Image/JPEG; charset=binary",
        "application/x-image",
        "application/octet-stream",
    ],
)
def test_raw_image_bodies_pass_through(content_type):
    assert codec.image_bytes(content_type, JPEG_MAGIC) == JPEG_MAGIC


@pytest.mark.parametrize(
    "image_field",
    [
        base64.b64encode(JPEG_MAGIC).decode(),
        "data:image/jpeg;base64," + base64.b64encode(JPEG_MAGIC).decode(),
        base64.encodebytes(JPEG_MAGIC * 40).decode(),  # MIME base64 with line breaks
    ],
)
def test_json_bodies_carry_base64_images(image_field):
    body = json.dumps({"image": image_field}).encode()
    assert codec.image_bytes("application/json", body).startswith(JPEG_MAGIC)


@pytest.mark.parametrize(
    ("content_type", "body", "status", "fragment"),
    [
        ("text/plain", b"hello", 415, "unsupported Content-Type 'text/plain'"),
        (None, JPEG_MAGIC, 415, "unsupported Content-Type 'none'"),
        ("application/json", b"{not json", 400, "not valid JSON"),
        ("application/json", b'["image"]', 400, '"image" field'),
        ("application/json", b'{"image": 42}', 400, '"image" field'),
        ("application/json", b'{"image": "%%%not-base64%%%"}', 400, "not valid base64"),
        ("application/json", b"\xff\xfe\x00garbage", 400, "not valid JSON"),
    ],
)
def test_bad_bodies_get_a_precise_status_and_message(content_type, body, status, fragment):
    with pytest.raises(RequestError) as caught:
        codec.image_bytes(content_type, body)
    assert caught.value.status == status and fragment in caught.value.message


def test_body_size_limit_is_sagemakers_6_mb():
    codec.check_body_size(6 * 1024 * 1024)
    with pytest.raises(RequestError) as caught:
        codec.check_body_size(6 * 1024 * 1024 + 1)
    assert caught.value.status == 413


@pytest.mark.parametrize("accept", [None, "", "*/*", "application/json", "text/html, application/*;q=0.8"])
def test_accept_headers_that_allow_json(accept):
    codec.check_accept(accept)


def test_accept_header_that_excludes_json_is_406():
    with pytest.raises(RequestError) as caught:
        codec.check_accept("text/csv")
    assert caught.value.status == 406


def test_non_finite_numbers_become_null_so_the_answer_stays_json():
    document = {"score": float("nan"), "keypoints": [{"x": float("inf"), "y": 1.5}], "ok": True}
    assert json.loads(codec.encode_json(document)) == {
        "score": None,
        "keypoints": [{"x": None, "y": 1.5}],
        "ok": True,
    }


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (None, 5),
        ("", 5),
        ("max_people=3", 3),
        ("trace_id=abc, max_people = 20 ;user=42", 20),
        ("trace_id=abc;MAX_PEOPLE=1", 1),
        ("trace_id=abc,user=42", 5),  # someone else's attributes: ignored
        ("max_peoples=0", 5),
    ],
)
def test_max_people_comes_from_the_custom_attributes_or_the_default(attributes, expected):
    assert codec.max_people(attributes, default=5) == expected


@pytest.mark.parametrize("value", ["0", "21", "-1", "three", "2.5", "", "٣", "1e1"])
def test_a_bad_max_people_is_a_400_that_says_what_is_allowed(value):
    with pytest.raises(RequestError) as caught:
        codec.max_people(f"trace=1,max_people={value}", default=5)
    assert caught.value.status == 400
    assert caught.value.message == (
        f"X-Amzn-SageMaker-Custom-Attributes: max_people must be an integer from 1 to 20, got {value!r}"
    )
