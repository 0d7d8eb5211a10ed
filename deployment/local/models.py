"""What SageMaker does in front of a multi-model endpoint's container, played locally.

InvokeEndpoint names its model with TargetModel (`{name}.tar.gz`, relative to the Model's S3
prefix). SageMaker finds that artifact, loads it into the container (POST /models) when it is not
loaded, unloading the least recently used models while the container answers 507, then calls
POST /models/{name}/invoke. Here the artifacts are already unpacked in the local model folder.
https://docs.aws.amazon.com/sagemaker/latest/dg/invoke-multi-model-endpoint.html
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

from deployment.multi_model import ARTIFACT_SUFFIX

log = logging.getLogger(__name__)

# (method, path, body, headers) -> (status, content type, body): one request to the container.
Send = Callable[[str, str, bytes | None, dict[str, str]], tuple[int, str, bytes]]


class LoadFailed(Exception):
    """The container would not load the model: its status and answer, as SageMaker passes them on."""

    def __init__(self, status: int, answer: bytes) -> None:
        super().__init__(f"{status}: {answer[:200]!r}")
        self.status = status
        self.answer = answer


class LocalModels:
    """The models of a local multi-model endpoint: each one's unpacked artifact, and which the
    container has loaded as far as this stand-in knows (most recently used last)."""

    def __init__(self, directories: Mapping[str, Path]) -> None:
        self._directories = dict(directories)
        self._loaded: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()  # one load at a time, as the 507 loop must see its own unloads

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._directories)

    def name_of(self, target_model: str) -> str | None:
        """The model TargetModel names (`blazepose-lite.tar.gz`), or None when no such artifact exists."""
        name = target_model.removesuffix(ARTIFACT_SUFFIX)
        return name if target_model.endswith(ARTIFACT_SUFFIX) and name in self._directories else None

    def used(self, name: str) -> None:
        with self._lock:
            self._loaded[name] = None
            self._loaded.move_to_end(name)

    def load(self, name: str, send: Send) -> None:
        """POST /models until it fits: each 507 unloads the least recently used other model."""
        body = json.dumps({"model_name": name, "url": str(self._directories[name])}).encode()
        with self._lock:
            while True:
                status, _, answer = send("POST", "/models", body, {"Content-Type": "application/json"})
                if status in (
                    200,
                    409,
                ):  # 409: loaded meanwhile (by another request, or before a restart of ours)
                    self._loaded[name] = None
                    return
                victim = next((loaded for loaded in self._loaded if loaded != name), None)
                if status != 507 or victim is None:
                    raise LoadFailed(status, answer)
                log.info("the model server is short of memory for %s: unloading %s", name, victim)
                send("DELETE", f"/models/{victim}", None, {})  # 404 too: it is not loaded either way
                del self._loaded[victim]
