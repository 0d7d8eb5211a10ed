"""The WSGI app in-process: routing, loading state and error mapping, without sockets."""

from __future__ import annotations

import io
import json
import threading

import pytest

from inference import server
from inference.errors import ModelError
from inference.server import PoseApp


def call(app, method: str, path: str, body: bytes = b"", headers: dict | None = None) -> tuple[int, dict]:
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        **(headers or {}),
    }
    captured = {}

    def start_response(status, response_headers):
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    payload = b"".join(app(environ, start_response))
    assert captured["headers"]["Content-Type"] == "application/json"
    assert int(captured["headers"]["Content-Length"]) == len(payload)
    return captured["status"], json.loads(payload)


@pytest.fixture(scope="module")
def app(blazepose_dir):
    loaded = PoseApp(blazepose_dir)
    assert loaded.wait_until_loaded(timeout=30)
    return loaded


def test_ping_is_503_while_loading_then_200(monkeypatch, blazepose_dir):
    release = threading.Event()
    real_predictor = server.Predictor

    def slow_predictor(*args, **kwargs):
        release.wait(timeout=30)
        return real_predictor(*args, **kwargs)

    monkeypatch.setattr(server, "Predictor", slow_predictor)
    app = PoseApp(blazepose_dir, model_wait_seconds=0.01)
    assert call(app, "GET", "/ping") == (503, {"status": "loading"})
    status, body = call(app, "POST", "/invocations", b"x", {"CONTENT_TYPE": "image/jpeg"})
    assert (status, body["error"]) == (503, "the model is still loading")
    release.set()
    assert app.wait_until_loaded(timeout=30)
    assert call(app, "GET", "/ping")[0] == 200


def test_a_model_that_cannot_load_makes_ping_fail_with_the_reason(tmp_path):
    app = PoseApp(tmp_path)
    app.wait_until_loaded(timeout=30)
    status, body = call(app, "GET", "/ping")
    assert status == 500 and "no model.json" in body["error"]


def test_routes_and_methods(app):
    assert call(app, "GET", "/ping")[1]["model"]["name"] == "blazepose-full"
    assert call(app, "GET", "/invocations")[0] == 405
    assert call(app, "DELETE", "/ping")[0] == 405
    assert call(app, "GET", "/")[0] == 404


def test_invocation_returns_keypoints_for_a_real_photo(app, photo_785):
    status, body = call(app, "POST", "/invocations", photo_785, {"CONTENT_TYPE": "image/jpeg"})
    assert status == 200
    assert body["image"] == {"width": 640, "height": 425}
    assert [k["name"] for k in body["keypoints"]][:3] == ["nose", "left_eye", "right_eye"]
    assert len(body["landmarks"]) == 33 and body["timing"]["inference_ms"] > 0


def test_declared_oversized_body_is_refused_without_reading_it(app):
    environ_body = io.BytesIO(b"")  # nothing to read: the declared length alone decides
    status, body = call(
        app, "POST", "/invocations", b"", {"CONTENT_TYPE": "image/jpeg", "wsgi.input": environ_body}
    )
    assert status == 400  # empty but honest
    big = {"CONTENT_TYPE": "image/jpeg", "CONTENT_LENGTH": str(7 * 1024 * 1024)}
    status, body = call(app, "POST", "/invocations", b"", big)
    assert status == 413 and "7,340,032 bytes" in body["error"]


def test_an_unexpected_failure_is_a_500_and_the_app_keeps_serving(app, photo_785, monkeypatch):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app._predictor, "pipeline", explode)
    status, body = call(app, "POST", "/invocations", photo_785, {"CONTENT_TYPE": "image/jpeg"})
    assert status == 500 and "boom" not in body["error"]
    monkeypatch.undo()
    assert call(app, "POST", "/invocations", photo_785, {"CONTENT_TYPE": "image/jpeg"})[0] == 200


def test_the_custom_attributes_header_sets_how_many_people_are_listed(app, photo_785):
    headers = {"CONTENT_TYPE": "image/jpeg", "HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES": "a=b, max_people=1"}
    status, body = call(app, "POST", "/invocations", photo_785, headers)
    assert status == 200 and len(body["people"]) == 1


def test_a_bad_max_people_attribute_is_a_400_naming_the_header(app, photo_785):
    headers = {"CONTENT_TYPE": "image/jpeg", "HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES": "max_people=50"}
    assert call(app, "POST", "/invocations", photo_785, headers) == (
        400,
        {"error": "X-Amzn-SageMaker-Custom-Attributes: max_people must be an integer from 1 to 20, got '50'"},
    )


@pytest.mark.parametrize(("value", "expected"), [(None, 5), ("", 5), ("1", 1), (" 20 ", 20)])
def test_pose_max_people_sets_the_default(value, expected):
    assert server.max_people_setting(value) == expected


@pytest.mark.parametrize("value", ["0", "21", "five", "-3"])
def test_a_bad_pose_max_people_is_refused_with_the_variable_named(value):
    with pytest.raises(ModelError, match=r"^POSE_MAX_PEOPLE: must be an integer from 1 to 20"):
        server.max_people_setting(value)
