"""`POST /predict?model=NAME`: on a multi-model stage (POSE_MODELS) the model becomes InvokeEndpoint's
TargetModel, the default when none is named, and an unknown one is a 400 listing the models before
SageMaker is called; on a single-model stage only the deployed model's name is accepted."""

from __future__ import annotations

import io
import json
import random

import pytest
from botocore.response import StreamingBody

from proxy import handler as proxy_handler
from tests.functional.proxy.events import (
    ANSWER,
    ENDPOINT,
    PHOTO,
    api_event,
    assert_leaks_nothing,
    invoke_params,
    with_fields,
)
from tests.functional.proxy.test_handler_fuzz import FakeRuntime, check_answer, hostile_event, junk

MODELS = ("blazepose-heavy", "blazepose-lite", "movenet-lightning")
SERVES = "this endpoint serves: blazepose-heavy, blazepose-lite, movenet-lightning"


@pytest.fixture
def multi_model(monkeypatch):
    monkeypatch.setattr(proxy_handler, "MODELS", MODELS)


def answered_by(name: str | None) -> dict:
    return {**ANSWER, "model": {"name": name, "family": "blazepose", "version": "1"}} if name else ANSWER


def expect(stubber, answer: dict, **extra) -> None:
    payload = json.dumps(answer).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
        {**invoke_params(PHOTO), **extra},
    )


def ask(query: str, client) -> tuple[int, dict]:
    response = proxy_handler.handler(
        with_fields(api_event(PHOTO), rawQueryString=query), None, runtime=client
    )
    assert_leaks_nothing(response)
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 or body["request_id"] == response["headers"]["X-Inference-Id"]
    return response["statusCode"], body


@pytest.mark.parametrize(
    ("query", "target"),
    [
        ("", "blazepose-heavy.tar.gz"),  # none named: the default, first in POSE_MODELS
        ("model=blazepose-lite", "blazepose-lite.tar.gz"),
        ("model=movenet%2Dlightning&max_people=2", "movenet-lightning.tar.gz"),  # percent-encoded
        ("t=17&model=blazepose-heavy", "blazepose-heavy.tar.gz"),
    ],
)
def test_the_model_asked_for_is_the_target_model(runtime, multi_model, query, target):
    client, stubber = runtime
    answer = answered_by(target.removesuffix(".tar.gz"))
    people = {"CustomAttributes": "max_people=2"} if "max_people" in query else {}
    expect(stubber, answer, TargetModel=target, **people)

    assert ask(query, client) == (200, answer)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("model=blazepose-full", " 'blazepose-full'"),  # in the catalog, not on this endpoint
        ("model=BLAZEPOSE-LITE", " 'BLAZEPOSE-LITE'"),
        ("model=", ""),
        ("model=blazepose-lite.tar.gz%2F..", ""),
        ("model=%00%1b", ""),
        ("model=arn:aws:sagemaker:us-east-1:123456789012:model/x", ""),  # never echoed
        ("model=" + "a" * 65, ""),
    ],
)
def test_an_unknown_model_is_a_400_listing_the_models_before_sagemaker_is_called(
    runtime, multi_model, query, named
):
    client, _ = runtime  # nothing queued: a call to SageMaker would fail the test

    status, body = ask(query, client)

    assert status == 400
    assert body == {
        "error": f"unknown model{named}; {SERVES}",
        "models": list(MODELS),
        "request_id": body["request_id"],
    }


def test_a_model_named_twice_is_a_400(runtime, multi_model):
    client, _ = runtime

    status, body = ask("model=blazepose-lite&model=blazepose-heavy", client)

    assert (status, body["error"]) == (400, "model is given twice")


def test_a_single_model_stage_accepts_its_own_model_and_no_other(runtime):
    client, stubber = runtime
    answer = answered_by("blazepose-heavy")
    expect(stubber, answer)  # no TargetModel: a single-model endpoint refuses one
    expect(stubber, answer)

    assert ask("model=blazepose-heavy", client) == (200, answer)
    status, body = ask("model=blazepose-lite", client)
    assert (status, body["error"], body["models"]) == (
        400,
        "unknown model 'blazepose-lite'; this endpoint serves: blazepose-heavy",
        ["blazepose-heavy"],
    )
    stubber.assert_no_pending_responses()


def test_a_single_model_stage_without_a_model_asked_for_answers_as_before(runtime):
    client, stubber = runtime
    expect(stubber, answered_by("blazepose-heavy"))
    expect(stubber, ANSWER)  # an answer naming no model cannot be checked: passed on

    assert ask("", client)[0] == 200
    assert ask("model=blazepose-lite", client) == (200, ANSWER)


def test_any_event_and_model_on_a_multi_model_stage_gets_a_clean_json_answer(monkeypatch, multi_model):
    monkeypatch.setattr(proxy_handler, "ENDPOINT_NAME", ENDPOINT)
    rng = random.Random(20261202)
    runtime = FakeRuntime(rng)
    statuses = []
    for number in range(300):
        event = hostile_event(rng)
        if isinstance(event, dict) and rng.random() < 0.7:
            name = rng.choice([*MODELS, "blazepose-full", "", str(junk(rng))[:200]])
            event["rawQueryString"] = rng.choice(
                [f"model={name}", f"model={name}&model=x", f"x=1&model={name}"]
            )
        runtime.fault = None
        try:
            statuses.append(check_answer(proxy_handler.handler(event, None, runtime=runtime)))
        except AssertionError as failure:
            raise AssertionError(f"event {number}: {repr(event)[:500]}") from failure
    assert runtime.bad_requests == []  # every TargetModel sent is one botocore and SageMaker accept
    assert {200, 400, 502} <= set(statuses)
