"""`POST /predict?max_people=N`: the caller's limit on the people listed, passed to the endpoint as
SageMaker custom attributes (botocore validates the request); a bad one is a 400, other parameters
pass unread."""

from __future__ import annotations

import io
import json

import pytest
from botocore.response import StreamingBody

from tests.functional.proxy.events import ANSWER, PHOTO, api_event, call, invoke_params, with_fields


def test_max_people_reaches_the_endpoint_as_custom_attributes(runtime):
    client, stubber = runtime
    payload = json.dumps(ANSWER).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
        {**invoke_params(PHOTO), "CustomAttributes": "max_people=3"},
    )

    status, body, _ = call(with_fields(api_event(PHOTO), rawQueryString="max_people=3"), client)

    assert (status, body) == (200, ANSWER)
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("max_people=0", "max_people must be a whole number from 1 to 20"),
        ("max_people=21", "max_people must be a whole number from 1 to 20"),
        ("max_people=two", "max_people must be a whole number from 1 to 20"),
        ("max_people=", "max_people must be a whole number from 1 to 20"),
        ("max_people=%33", "max_people must be a whole number from 1 to 20"),
        ("max_people=٣", "max_people must be a whole number from 1 to 20"),  # a digit, not ASCII
        ("max_people=3&max_people=4", "max_people is given twice"),
        ("t=1&max_people=x", "max_people must be a whole number from 1 to 20"),
    ],
)
def test_a_bad_query_is_a_400_before_sagemaker_is_called(runtime, query, message):
    client, _ = runtime  # no response queued: any call to SageMaker would fail the test

    status, body, _ = call(with_fields(api_event(PHOTO), rawQueryString=query), client)

    assert (status, body["error"]) == (400, message)


def test_a_query_that_is_not_text_is_malformed(runtime):
    client, _ = runtime

    status, body, _ = call(with_fields(api_event(PHOTO), rawQueryString=["max_people=3"]), client)

    assert (status, body["error"]) == (400, "the request is malformed")


def test_other_parameters_pass_unread(runtime):
    client, stubber = runtime
    payload = json.dumps(ANSWER).encode()
    stubber.add_response(
        "invoke_endpoint",
        {"Body": StreamingBody(io.BytesIO(payload), len(payload)), "ContentType": "application/json"},
        invoke_params(PHOTO),  # no CustomAttributes
    )

    status, _, _ = call(with_fields(api_event(PHOTO), rawQueryString="t=1700000000&people=3"), client)

    assert status == 200
