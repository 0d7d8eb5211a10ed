"""The SageMaker inference container's HTTP server: `GET /ping` and `POST /invocations`.

gunicorn pre-forks one process per core, each with its own interpreter (TFLite interpreters are
not thread-safe, and processes sidestep the GIL). Its master binds the port at once, so
SageMaker's 250 ms connect check passes while workers load the model in the background, and
SIGTERM lets in-flight requests finish before exiting.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from gunicorn.app.base import BaseApplication

from inference import codec
from inference.errors import ModelError, RequestError
from inference.manifest import ModelManifest
from inference.predictor import Predictor

log = logging.getLogger(__name__)

JSON_HEADERS = [("Content-Type", "application/json")]
STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    406: "406 Not Acceptable",
    413: "413 Content Too Large",
    415: "415 Unsupported Media Type",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}
# SIGKILL follows SIGTERM after 30 s on SageMaker; leave time to exit cleanly.
GRACEFUL_TIMEOUT_SECONDS = 25
# SageMaker gives /invocations 60 s.
REQUEST_TIMEOUT_SECONDS = 60
# How long a request waits for its worker's model to finish loading before a 503.
MODEL_WAIT_SECONDS = 30


@dataclass(frozen=True)
class ServerOptions:
    model_dir: Path
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    threads_per_worker: int = 1


class PoseApp:
    """The WSGI application of one worker; it loads its own model on a background thread."""

    def __init__(
        self, model_dir: Path, threads: int = 1, model_wait_seconds: float = MODEL_WAIT_SECONDS
    ) -> None:
        self._model_wait_seconds = model_wait_seconds
        self._predictor: Predictor | None = None
        self._load_error: str | None = None
        self._loader = threading.Thread(target=self._load, args=(model_dir, threads), daemon=True)
        self._loader.start()

    def wait_until_loaded(self, timeout: float | None = None) -> bool:
        self._loader.join(timeout)
        return self._predictor is not None

    def _load(self, model_dir: Path, threads: int) -> None:
        try:
            self._predictor = Predictor(model_dir, threads=threads)
            log.info("worker %d loaded model %s", os.getpid(), self._predictor.model_info)
        except ModelError as error:
            self._load_error = str(error)
            log.error("worker %d cannot load the model: %s", os.getpid(), error)

    def __call__(self, environ: dict, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/ping":
            if method not in ("GET", "HEAD"):
                return _reply(start_response, 405, {"error": "use GET /ping"}, [("Allow", "GET, HEAD")])
            return self._ping(start_response, head=method == "HEAD")
        if path == "/invocations":
            if method != "POST":
                return _reply(start_response, 405, {"error": "use POST /invocations"}, [("Allow", "POST")])
            return self._invoke(environ, start_response)
        return _reply(start_response, 404, {"error": f"no route {path}; use GET /ping or POST /invocations"})

    def _ping(self, start_response, head: bool):
        if self._predictor is not None:
            return _reply(
                start_response, 200, {"status": "ready", "model": self._predictor.model_info}, head=head
            )
        if self._load_error:
            return _reply(start_response, 500, {"status": "failed", "error": self._load_error}, head=head)
        return _reply(start_response, 503, {"status": "loading"}, head=head)

    def _invoke(self, environ: dict, start_response):
        # Another worker may have answered /ping already: wait for this one's model, within the budget.
        if not self.wait_until_loaded(timeout=self._model_wait_seconds):
            return _reply(start_response, 503, {"error": self._load_error or "the model is still loading"})
        try:
            codec.check_accept(environ.get("HTTP_ACCEPT"))
            body = _read_body(environ)
            document = self._predictor.predict(body, environ.get("CONTENT_TYPE"))
        except RequestError as error:
            return _reply(start_response, error.status, {"error": error.message})
        except Exception:  # a client gets a 500 and the worker keeps serving
            log.exception("unexpected failure in /invocations")
            return _reply(start_response, 500, {"error": "internal error while running the model"})
        return _reply(start_response, 200, document)


def _read_body(environ: dict) -> bytes:
    """The request body, refused early when it is over the limit (declared or actual)."""
    declared = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if declared.isdigit() and int(declared) > codec.MAX_BODY_BYTES:
        codec.discard_body(stream, int(declared))
        codec.check_body_size(int(declared))
    body = stream.read(codec.MAX_BODY_BYTES + 1)
    codec.check_body_size(len(body))
    return body


def _reply(start_response, status: int, document: dict, headers: list | None = None, head: bool = False):
    body = codec.encode_json(document)
    start_response(STATUS_TEXT[status], [*JSON_HEADERS, ("Content-Length", str(len(body))), *(headers or [])])
    return [] if head else [body]


class _Gunicorn(BaseApplication):
    def __init__(self, options: ServerOptions) -> None:
        self._options = options
        super().__init__()

    def load_config(self) -> None:
        options = self._options
        settings = {
            "bind": [f"{options.host}:{options.port}"],
            "workers": options.workers,
            # One request at a time per process: a busy worker does not accept, so connections spread
            # over all workers (a threaded worker keeps accepting and queues them on its one model).
            "worker_class": "sync",
            "timeout": REQUEST_TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_TIMEOUT_SECONDS,
            "accesslog": "-",
            "access_log_format": '%(h)s "%(r)s" %(s)s %(B)sB %(M)sms',
            "errorlog": "-",
            "proc_name": "pose-inference",
            # gunicorn's runtime control socket is one fixed path per host: several servers would clash.
            "control_socket_disable": True,
        }
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self) -> PoseApp:
        return PoseApp(self._options.model_dir, threads=self._options.threads_per_worker)


def serve(options: ServerOptions) -> None:
    """Check the model directory up front (fail fast with a clear line), then serve until SIGTERM."""
    manifest = ModelManifest.read(options.model_dir)
    log.info(
        "serving %s (%s) from %s on %s:%d with %d workers",
        manifest.name,
        manifest.family,
        options.model_dir,
        options.host,
        options.port,
        options.workers,
    )
    _Gunicorn(options).run()
