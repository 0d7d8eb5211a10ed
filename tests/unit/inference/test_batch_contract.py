"""What Batch Transform asks of the container: GET /execution-parameters, and (with the batch job's
POSE_ERRORS_AS_RESULTS) a bad photo answered as that photo's result instead of failing the job."""

from __future__ import annotations

import pytest

from inference import server
from inference.server import PoseApp
from tests.unit.inference.test_server_app import call


@pytest.fixture(scope="module")
def batch_app(blazepose_dir):
    loaded = PoseApp(blazepose_dir, workers=3, errors_as_results=True)
    assert loaded.wait_until_loaded(timeout=30)
    return loaded


def test_execution_parameters_are_one_photo_a_request_one_request_per_worker(batch_app):
    assert call(batch_app, "GET", "/execution-parameters") == (
        200,
        {"MaxConcurrentTransforms": 3, "BatchStrategy": "SINGLE_RECORD", "MaxPayloadInMB": 6},
    )
    assert call(batch_app, "POST", "/execution-parameters")[0] == 405


def test_a_photo_the_model_cannot_read_is_a_result_naming_the_error(batch_app):
    status, body = call(
        batch_app, "POST", "/invocations", b"\xff\xd8\xff not really", {"CONTENT_TYPE": "image/jpeg"}
    )

    assert status == 200
    assert body == {"error": "the body is not a JPEG or PNG image", "status": 400}


def test_a_good_photo_is_answered_as_always(batch_app, photo_785):
    status, body = call(batch_app, "POST", "/invocations", photo_785, {"CONTENT_TYPE": "application/x-image"})

    assert status == 200 and "error" not in body and body["image"] == {"width": 640, "height": 425}


def test_without_the_switch_a_bad_photo_stays_a_400(blazepose_dir):
    plain = PoseApp(blazepose_dir)
    assert plain.wait_until_loaded(timeout=30)
    assert call(plain, "POST", "/invocations", b"junk", {"CONTENT_TYPE": "image/jpeg"})[0] == 400


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("1", True), (" TRUE ", True), ("", False), ("no", False), (None, False)],
)
def test_the_switch_is_on_only_when_asked_for(value, expected):
    assert server.errors_as_results_setting(value) is expected
