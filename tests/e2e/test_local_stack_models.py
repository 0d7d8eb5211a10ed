"""`python -m deployment local` with endpoint.models: one multi-model server behind the gateway,
each model loaded on its first request, chosen with `?model=` as in the cloud."""

from __future__ import annotations

import json
import re
import signal

import pytest

from tests.conftest import local_stack
from tests.e2e.test_local_stack import request

MODELS = "endpoint.models=[blazepose-full, blazepose-lite]"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, blazepose_dir):
    state = tmp_path_factory.mktemp("local-models")
    with local_stack(state, MODELS, "model.name=blazepose-full", stop_signal=signal.SIGINT) as base:
        yield base, state


def test_each_model_answers_by_name_and_the_default_without_one(stack, photo_785):
    base, state = stack
    named = {}
    for model in ("blazepose-lite", "blazepose-full"):
        status, _, body = request(f"{base}/predict?model={model}", photo_785, "image/jpeg")
        assert status == 200, body
        named[model] = json.loads(body)["model"]["name"]
    assert named == {"blazepose-lite": "blazepose-lite", "blazepose-full": "blazepose-full"}
    status, _, body = request(f"{base}/predict", photo_785, "image/jpeg")
    assert (status, json.loads(body)["model"]["name"]) == (200, "blazepose-full")
    log = (state / "stack.log").read_text()
    assert "--multi-model" in log
    assert len(re.findall(r'"POST /models HTTP/1.1" 200', log)) == 2  # each loaded once, on first use


def test_an_unknown_model_is_a_400_listing_the_models(stack, photo_785):
    base, _ = stack
    status, _, body = request(f"{base}/predict?model=movenet-thunder", photo_785, "image/jpeg")
    document = json.loads(body)
    assert status == 400
    assert (
        document["error"]
        == "unknown model 'movenet-thunder'; this endpoint serves: blazepose-full, blazepose-lite"
    )
    assert document["models"] == ["blazepose-full", "blazepose-lite"]


def test_the_local_page_offers_every_model_the_default_selected(stack, photo_785):
    base, _ = stack
    status, _, body = request(f"{base}/")
    page = body.decode()
    assert status == 200
    picker = page.split('id="model-select"', 1)[1].split("</select>", 1)[0]
    assert re.findall(r'<option value="([^"]+)"( selected)?>', picker) == [
        ("blazepose-full", " selected"),
        ("blazepose-lite", ""),
    ]
