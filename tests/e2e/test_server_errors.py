"""Bad requests: each gets its status and a JSON error, and the server keeps serving."""

from __future__ import annotations

import json

import pytest

from tests.e2e.server_client import (
    JPEG,
    JSON,
    Server,
    as_gif,
    b64,
    check_error,
    check_still_serving,
    decompression_bomb,
    over_limit,
    send_while_reading,
)


@pytest.mark.parametrize(
    ("headers", "make_body", "chunked", "status"),
    [
        pytest.param(JPEG, lambda photo: b"", False, 400, id="empty-body"),
        pytest.param(JPEG, lambda photo: b"a text body, not a photo", False, 400, id="text-as-jpeg"),
        pytest.param(JPEG, lambda photo: photo[: len(photo) // 2], False, 400, id="truncated-jpeg"),
        pytest.param(JPEG, as_gif, False, 400, id="gif"),
        pytest.param({"Content-Type": "text/plain"}, lambda photo: photo, False, 415, id="text-plain"),
        pytest.param({}, lambda photo: photo, False, 415, id="no-content-type"),
        pytest.param(JSON, lambda photo: b'{"image": "', False, 400, id="invalid-json"),
        pytest.param(
            JSON, lambda photo: json.dumps({"photo": b64(photo)}).encode(), False, 400, id="json-no-image"
        ),
        pytest.param(JSON, lambda photo: b'{"image": "not base64 at all!"}', False, 400, id="invalid-base64"),
        pytest.param(JPEG, over_limit, False, 413, id="over-6mb-content-length"),
        pytest.param(JPEG, over_limit, True, 413, id="over-6mb-chunked"),
        pytest.param({**JPEG, "Accept": "text/csv"}, lambda photo: photo, False, 406, id="accept-csv"),
        pytest.param({"Content-Type": "image/png"}, decompression_bomb, False, 413, id="decompression-bomb"),
    ],
)
def test_bad_request_gets_its_status_and_a_json_error_then_the_server_still_serves(
    blazepose_server: Server, photo_785: bytes, headers, make_body, chunked, status
):
    reply = send_while_reading(blazepose_server.port, headers, make_body(photo_785), chunked=chunked)
    check_error(reply, status)
    check_still_serving(blazepose_server.port, photo_785)
