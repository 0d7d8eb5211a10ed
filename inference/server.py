"""The SageMaker inference container's HTTP server: `GET /ping` and `POST /invocations` (and
Batch Transform's `GET /execution-parameters`); with SAGEMAKER_MULTI_MODEL=true, the multi-model
contract's `/models` routes instead (inference/multi_model.py).

A front process owns the port and answers `/ping` itself, so a health check never queues behind
the model (inference/front.py); it hands every other request to one of the pre-forked workers, one
per core, each with its own interpreter (TFLite interpreters are not thread-safe, and processes
sidestep the GIL). The port is bound at once, so SageMaker's connect check passes while workers load
the model, and SIGTERM lets in-flight requests finish before exiting.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from inference.codec import DEFAULT_MAX_PEOPLE
from inference.errors import ModelError
from inference.front import FAILED, LOADED, Front
from inference.invocation import InvokeSettings, invoke
from inference.invocation import reply as _reply
from inference.manifest import ModelManifest
from inference.memory import MODELS_MEMORY_ENV, limit_setting
from inference.model_registry import ModelRegistry
from inference.multi_model import ModelsApp
from inference.predictor import Predictor
from inference.settings import (
    ERRORS_AS_RESULTS_ENV,
    MAX_PEOPLE_ENV,
    TRACKING_PASSES_ENV,
    errors_as_results_setting,
    max_people_setting,
    tracking_passes_setting,
)
from inference.worker import run_worker

log = logging.getLogger(__name__)

# SIGKILL follows SIGTERM after 30 s on SageMaker; leave time to exit cleanly.
GRACEFUL_TIMEOUT_SECONDS = 25
# How long a request waits for its worker's model to finish loading before a 503.
MODEL_WAIT_SECONDS = 30
# What Batch Transform asks GET /execution-parameters for: one request per photo, the endpoint's
# payload limit, as many requests in flight as the server has workers.
# https://docs.aws.amazon.com/sagemaker/latest/dg/your-algorithms-batch-code.html
MAX_PAYLOAD_MB = 6


@dataclass(frozen=True)
class ServerOptions:
    model_dir: Path
    host: str = "0.0.0.0"
    port: int = 8080
    workers: int = 1
    threads_per_worker: int = 1
    max_people: int = DEFAULT_MAX_PEOPLE
    errors_as_results: bool = False
    # SageMaker sets SAGEMAKER_MULTI_MODEL=true on a multi-model endpoint: no model at start,
    # models loaded and unloaded through /models (model_dir is not read).
    multi_model: bool = False
    models_memory_bytes: int | None = None  # POSE_MODELS_MEMORY_MB: a cap on the models' memory


class PoseApp:
    """The WSGI application of one worker; it loads its own model on a background thread."""

    def __init__(
        self,
        model_dir: Path,
        threads: int = 1,
        model_wait_seconds: float = MODEL_WAIT_SECONDS,
        on_loaded: Callable[[bytes], object] | None = None,
        max_people: int = DEFAULT_MAX_PEOPLE,
        workers: int = 1,
        errors_as_results: bool = False,
    ) -> None:
        self._model_wait_seconds = model_wait_seconds
        self._settings = InvokeSettings(max_people, errors_as_results)
        self._workers = workers
        self._on_loaded = on_loaded
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
            report = LOADED + json.dumps(self._predictor.model_info).encode()
        except ModelError as error:
            self._load_error = str(error)
            log.error("worker %d cannot load the model: %s", os.getpid(), error)
            report = FAILED + self._load_error.encode()
        if self._on_loaded:
            self._on_loaded(report)

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
        if path == "/execution-parameters":
            if method != "GET":
                return _reply(
                    start_response, 405, {"error": "use GET /execution-parameters"}, [("Allow", "GET")]
                )
            parameters = {
                "MaxConcurrentTransforms": self._workers,
                "BatchStrategy": "SINGLE_RECORD",
                "MaxPayloadInMB": MAX_PAYLOAD_MB,
            }
            return _reply(start_response, 200, parameters)
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
        return invoke(environ, start_response, self._predictor, self._settings)


def _listen(host: str, port: int) -> socket.socket:
    listener = socket.create_server((host, port), backlog=2048, reuse_port=False)
    listener.set_inheritable(False)
    return listener


def _spawner(options: ServerOptions) -> Callable:
    """Fork a worker that loads the model (or, multi-model, none yet) and serves what the front
    hands it on `channel`."""

    def spawn(channel: socket.socket, close_front_sockets: Callable[[], None]) -> int:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid:
            return pid
        exit_code = 0
        try:
            close_front_sockets()
            if options.multi_model:
                app = ModelsApp(channel, InvokeSettings(options.max_people), options.threads_per_worker)
                channel.send(LOADED + b"{}")  # ready: models come later, through /models
                run_worker(channel, app, app.on_message)
            else:
                run_worker(channel, _single_model_app(options, channel))
        except BaseException:  # a worker must never return into the front's loop
            log.exception("worker %d failed", os.getpid())
            exit_code = 1
        finally:
            logging.shutdown()
            os._exit(exit_code)

    return spawn


def _single_model_app(options: ServerOptions, channel: socket.socket) -> PoseApp:
    return PoseApp(
        options.model_dir,
        options.threads_per_worker,
        on_loaded=channel.send,
        max_people=options.max_people,
        workers=options.workers,
        errors_as_results=options.errors_as_results,
    )


def serve(options: ServerOptions) -> None:
    """Check the model directory and settings up front (fail fast with a clear line), then serve until SIGTERM."""
    options = replace(
        options,
        max_people=max_people_setting(os.environ.get(MAX_PEOPLE_ENV)),
        errors_as_results=errors_as_results_setting(os.environ.get(ERRORS_AS_RESULTS_ENV)),
        models_memory_bytes=limit_setting(os.environ.get(MODELS_MEMORY_ENV)),
    )
    tracking_passes_setting(os.environ.get(TRACKING_PASSES_ENV))  # every worker reads it: checked once here
    where = f"on {options.host}:{options.port} with {options.workers} workers"
    registry = None
    if options.multi_model:
        registry = ModelRegistry(options.workers, options.models_memory_bytes)
        log.info("serving models loaded through /models (multi-model endpoint) %s", where)
    else:
        manifest = ModelManifest.read(options.model_dir)
        log.info("serving %s (%s) from %s %s", manifest.name, manifest.family, options.model_dir, where)
    try:
        listener = _listen(options.host, options.port)
    except OSError as error:
        raise ModelError(f"cannot listen on {options.host}:{options.port} ({error.strerror})") from error
    Front(listener, options.workers, _spawner(options), GRACEFUL_TIMEOUT_SECONDS, registry).run()
