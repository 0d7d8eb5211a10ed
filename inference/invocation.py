"""One invocation over WSGI: read the photo, run a model, answer JSON; shared by the single-model
app (`POST /invocations`) and the multi-model one (`POST /models/{name}/invoke`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from http import HTTPStatus

from inference import codec
from inference.codec import DEFAULT_MAX_PEOPLE
from inference.errors import RequestError
from inference.predictor import Predictor

log = logging.getLogger(__name__)

JSON_HEADERS = [("Content-Type", "application/json")]


@dataclass(frozen=True)
class InvokeSettings:
    max_people: int = DEFAULT_MAX_PEOPLE  # when the request's CustomAttributes do not say
    errors_as_results: bool = False  # Batch Transform: a photo's 4xx becomes its 200 result


def invoke(environ: dict, start_response, predictor: Predictor, settings: InvokeSettings):
    """The model's answer to the photo in the request, or the error a client can act on."""
    try:
        codec.check_accept(environ.get("HTTP_ACCEPT"))
        body = read_body(environ)
        attributes = environ.get("HTTP_X_AMZN_SAGEMAKER_CUSTOM_ATTRIBUTES")
        people = codec.max_people(attributes, settings.max_people)
        document = predictor.predict(body, environ.get("CONTENT_TYPE"), people)
    except RequestError as error:
        log.info("refused a request with %d: %s", error.status, error.message)
        if settings.errors_as_results and error.status not in (406,):  # an Accept we cannot meet stays one
            return reply(start_response, 200, {"error": error.message, "status": error.status})
        return reply(start_response, error.status, {"error": error.message})
    except Exception:  # a client gets a 500 and the worker keeps serving
        log.exception("unexpected failure running the model")
        return reply(start_response, 500, {"error": "internal error while running the model"})
    return reply(start_response, 200, document)


def read_body(environ: dict) -> bytes:
    """The request body, refused early when it is over the limit (declared or actual)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if declared.isdigit() and int(declared) > codec.MAX_BODY_BYTES:
        codec.discard_body(stream, int(declared))
        codec.check_body_size(int(declared))
    body = stream.read(codec.MAX_BODY_BYTES + 1)
    codec.check_body_size(len(body))
    return body


def reply(start_response, status: int, document: dict, headers: list | None = None, head: bool = False):
    body = codec.encode_json(document)
    start_response(
        f"{status} {HTTPStatus(status).phrase}",
        [*JSON_HEADERS, ("Content-Length", str(len(body))), *(headers or [])],
    )
    return [] if head else [body]
