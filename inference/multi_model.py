"""A worker of a multi-model server: SageMaker's contract for custom containers on multi-model
endpoints, over the models the front's registry lists (inference/model_registry.py).

    POST   /models                 {"model_name", "url"}: load (409 loaded, 507 no memory)
    GET    /models                 the loaded models, paginated (?limit=, ?next_page_token=)
    GET    /models/{name}          one of them (404 when not loaded)
    POST   /models/{name}/invoke   what /invocations does, with that model
    DELETE /models/{name}          unload; its memory is free in every worker when this answers

Each worker keeps its own interpreters (they are not shareable across processes): it loads a
model on the first request for it that it serves, and drops it when the front says EVICT.
https://docs.aws.amazon.com/sagemaker/latest/dg/build-multi-model-build-container.html
https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import urllib.parse
from pathlib import Path

from inference.errors import ModelError, RequestError
from inference.invocation import InvokeSettings, invoke, read_body, reply
from inference.manifest import ModelManifest
from inference.memory import available_memory, model_estimate, release_freed_memory
from inference.model_registry import ANSWER, ASK, DROPPED, EVICT, HAVE, message
from inference.predictor import Predictor

log = logging.getLogger(__name__)

ANSWER_LIMIT_BYTES = 1 << 20  # a page of GET /models is the longest answer
MAX_NAME_CHARS = 256
ROUTES = "POST /models, GET /models, GET|DELETE /models/{name}, POST /models/{name}/invoke"


class FrontGone(Exception):
    """The front closed the channel: the server is stopping."""


class ModelCache:
    """This worker's interpreters, by model name, each for one load (generation) of that name."""

    def __init__(self, threads: int) -> None:
        self._threads = threads
        self._models: dict[str, tuple[int, Predictor]] = {}
        self._lock = threading.Lock()  # one load per model in this worker, whatever the threads

    def get(self, name: str, generation: int, url: Path) -> tuple[Predictor, bool]:
        """The predictor, and whether it was loaded just now (ModelError when it cannot be)."""
        with self._lock:
            cached = self._models.get(name)
            if cached and cached[0] == generation:
                return cached[1], False
            predictor = Predictor(url, threads=self._threads)
            self._models[name] = (generation, predictor)
            log.info(
                "worker %d loaded model %s (%s) from %s", os.getpid(), name, predictor.manifest.name, url
            )
            return predictor, True

    def drop(self, name: str, generation: int | None = None) -> None:
        with self._lock:
            cached = self._models.get(name)
            if cached and (generation is None or cached[0] <= generation):
                del self._models[name]
                log.info("worker %d dropped model %s", os.getpid(), name)
        release_freed_memory()


class ModelsApp:
    """The WSGI application of one multi-model worker."""

    def __init__(self, channel: socket.socket, settings: InvokeSettings, threads: int = 1) -> None:
        self._channel = channel
        self._settings = settings
        self._cache = ModelCache(threads)

    # ------------------------------------------------------------------ the front

    def ask(self, question: dict) -> tuple[int, dict]:
        """The front's answer (status, document); EVICTs that arrive meanwhile are handled first."""
        self._channel.send(message(ASK, question))
        while True:
            received = self._channel.recv(ANSWER_LIMIT_BYTES)
            if not received:
                raise FrontGone
            if received[:1] == ANSWER:
                document = json.loads(received[1:])
                return document.pop("status"), document
            self.on_message(received)

    def on_message(self, received: bytes) -> None:
        """EVICT: drop this worker's copy of an unloaded model, and say so."""
        if received[:1] != EVICT:
            log.warning("ignored a message from the front: %r", received[:20])
            return
        document = json.loads(received[1:])
        self._cache.drop(document["name"], document["generation"])
        self._channel.send(message(DROPPED, document))

    # ------------------------------------------------------------------ routes

    def __call__(self, environ: dict, start_response):
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        try:
            return self._route(environ, start_response, path, method)
        except RequestError as error:
            return reply(start_response, error.status, {"error": error.message})
        except FrontGone:
            return reply(start_response, 503, {"error": "the server is stopping"})

    def _route(self, environ: dict, start_response, path: str, method: str):
        if path == "/models":
            if method == "GET":
                return self._list(environ, start_response)
            if method == "POST":
                return self._load(environ, start_response)
            return _not_allowed(start_response, path, "GET, POST")
        name, action = _model_path(path)
        if name and action == "invoke":
            if method != "POST":
                return _not_allowed(start_response, path, "POST")
            return self._invoke(environ, start_response, name)
        if name and not action:
            if method == "GET":
                return self._get(start_response, name)
            if method == "DELETE":
                return self._unload(start_response, name)
            return _not_allowed(start_response, path, "GET, DELETE")
        if path == "/ping":  # the front answers /ping; this is only for a direct caller
            return reply(start_response, 200, {"status": "ready"})
        if path == "/invocations":
            text = "this server hosts several models (a multi-model endpoint): use POST /models/{name}/invoke"
            return reply(start_response, 404, {"error": text})
        return reply(start_response, 404, {"error": f"no route {path[:200]}; the routes are {ROUTES}"})

    def _list(self, environ: dict, start_response):
        query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
        question = {"op": "list", "limit": _one(query, "limit"), "token": _one(query, "next_page_token")}
        status, document = self.ask(question)
        return reply(start_response, status, document)

    def _get(self, start_response, name: str):
        status, document = self.ask({"op": "get", "name": name})
        return reply(start_response, status, document)

    def _load(self, environ: dict, start_response):
        name, url = _load_request(read_body(environ))
        try:
            manifest = ModelManifest.read(url)
            estimate = model_estimate(url, manifest)
        except (ModelError, OSError) as error:
            return _cannot_load(start_response, name, url, error)
        question = {"op": "load", "name": name, "url": str(url), "estimate": estimate}
        status, document = self.ask({**question, "available": available_memory()})
        if status != 200:
            return reply(start_response, status, document)
        generation = document["generation"]
        self._cache.drop(name)  # a copy of an earlier load of this name, if any
        try:
            predictor, _ = self._cache.get(name, generation, url)
        except ModelError as error:
            self.ask({"op": "failed", "name": name, "generation": generation})
            return _cannot_load(start_response, name, url, error)
        status, document = self.ask({"op": "loaded", "name": name, "generation": generation})
        if status != 200:
            self._cache.drop(name, generation)
            return reply(start_response, status, document)
        loaded = {"modelName": name, "modelUrl": str(url), "model": predictor.model_info}
        return reply(start_response, 200, loaded)

    def _invoke(self, environ: dict, start_response, name: str):
        status, found = self.ask({"op": "lookup", "name": name})
        if status != 200:
            return reply(start_response, status, found)
        try:
            predictor, fresh = self._cache.get(name, found["generation"], Path(found["url"]))
        except ModelError as error:
            log.error("worker %d cannot load model %s: %s", os.getpid(), name, error)
            return reply(start_response, 500, {"error": f"model {name!r} cannot be loaded: {error.what}"})
        if fresh:  # the front counts this worker's copy, and evicts it on unload
            self._channel.send(message(HAVE, {"name": name, "generation": found["generation"]}))
        return invoke(environ, start_response, predictor, self._settings)

    def _unload(self, start_response, name: str):
        self._cache.drop(name)
        status, document = self.ask({"op": "unload", "name": name})
        if status == 200:
            document = {"modelName": name, "status": "unloaded"}
        return reply(start_response, status, document)


def _model_path(path: str) -> tuple[str, str]:
    """("name", "") for /models/name, ("name", "invoke") for /models/name/invoke, else ("", "")."""
    if not path.startswith("/models/"):
        return "", ""
    parts = path.removeprefix("/models/").split("/")
    if len(parts) == 1 and parts[0]:
        return parts[0], ""
    if len(parts) == 2 and parts[0] and parts[1] == "invoke":
        return parts[0], "invoke"
    return "", ""


def _load_request(body: bytes) -> tuple[str, Path]:
    """model_name and url from POST /models's JSON body, or a 400 saying what is wrong."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise RequestError(
            400, f'the body must be JSON {{"model_name": ..., "url": ...}} ({error})'
        ) from error
    if not isinstance(document, dict):
        raise RequestError(400, 'the body must be a JSON object {"model_name": ..., "url": ...}')
    name, url = document.get("model_name"), document.get("url")
    if (
        not isinstance(name, str)
        or not 0 < len(name) <= MAX_NAME_CHARS
        or "/" in name
        or not name.isprintable()
    ):
        raise RequestError(400, f"model_name must be 1 to {MAX_NAME_CHARS} printable characters without '/'")
    if not isinstance(url, str) or not url:
        raise RequestError(400, "url must be the path of the model's directory")
    return name, Path(url)


def _cannot_load(start_response, name: str, url: Path, error: Exception):
    text = error.what if isinstance(error, ModelError) else f"{type(error).__name__}: {error}"
    log.error("cannot load model %s from %s: %s", name, url, error)
    return reply(start_response, 500, {"error": f"model {name!r} cannot be loaded from {url}: {text}"})


def _not_allowed(start_response, path: str, allow: str):
    return reply(start_response, 405, {"error": f"use {allow} on {path[:200]}"}, [("Allow", allow)])


def _one(query: dict[str, list[str]], key: str) -> str | None:
    values = query.get(key)
    return values[-1] if values else None
