"""The local stand-in for InvokeEndpoint on a multi-model endpoint, against a real multi-model
server: TargetModel picks the model, a model not loaded is loaded first, and a 507 makes it
unload the least recently used one and load again, as SageMaker does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from deployment.local.function import LocalRuntime
from deployment.local.models import LocalModels
from deployment.local.supervisor import Upstream
from tests.conftest import free_port
from tests.e2e.server_client import HOST, Server, model_info, ping_status, request, running_server, wait_for


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Room for MoveNet or BlazePose full (estimated 35 and 84 MiB a worker), not both."""
    port = free_port()
    args = ["--multi-model", "--host", HOST, "--port", str(port), "--workers", "1"]
    with running_server(
        tmp_path_factory.mktemp("small"), args, port, {"POSE_MODELS_MEMORY_MB": "100"}
    ) as server:
        wait_for(lambda: ping_status(port) == 200, "/ping 200", server)
        yield server


@pytest.fixture
def models(blazepose_dir: Path, movenet_dir: Path) -> LocalModels:
    return LocalModels({"blazepose-full": blazepose_dir, "movenet-lightning": movenet_dir})


def invoke(server: Server, models: LocalModels, target: str | None, photo: bytes) -> dict:
    runtime = LocalRuntime(Upstream(HOST, server.port), 30, models)
    answer = runtime.invoke_endpoint(
        EndpointName="local",
        Body=photo,
        ContentType="image/jpeg",
        Accept="application/json",
        TargetModel=target,
    )
    return json.loads(answer["Body"].read())


def loaded_names(server: Server) -> list[str]:
    return [model["modelName"] for model in request(server.port, "GET", "/models").json()["models"]]


def test_each_model_loads_on_first_use_and_507_unloads_the_least_recently_used(
    small_server: Server, models: LocalModels, blazepose_dir: Path, movenet_dir: Path, photo_785: bytes
):
    assert invoke(small_server, models, "movenet-lightning.tar.gz", photo_785)["model"] == model_info(
        movenet_dir
    )
    assert loaded_names(small_server) == ["movenet-lightning"]
    assert invoke(small_server, models, "blazepose-full.tar.gz", photo_785)["model"] == model_info(
        blazepose_dir
    )
    assert loaded_names(small_server) == ["blazepose-full"]  # MoveNet made room after a 507
    assert invoke(small_server, models, "movenet-lightning.tar.gz", photo_785)["model"] == model_info(
        movenet_dir
    )
    log = small_server.log()
    assert re.findall(r'"(POST /models|DELETE /models/[\w-]+) HTTP/1.1" (\d+)', log) == [
        ("POST /models", "200"),
        ("POST /models", "507"),
        ("DELETE /models/movenet-lightning", "200"),
        ("POST /models", "200"),
        ("POST /models", "507"),
        ("DELETE /models/blazepose-full", "200"),
        ("POST /models", "200"),
    ]


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("blazepose-heavy.tar.gz", "Failed to download model data for TargetModel 'blazepose-heavy.tar.gz'"),
        ("movenet-lightning", "Failed to download model data for TargetModel 'movenet-lightning'"),
        (None, "this is a multi-model endpoint: name the model with TargetModel"),
    ],
)
def test_a_target_model_that_is_not_there_is_a_validation_error(
    small_server: Server, models: LocalModels, target, message, photo_785: bytes
):
    with pytest.raises(ClientError) as raised:
        invoke(small_server, models, target, photo_785)
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("ValidationError", 400)
    assert error["Error"]["Message"].startswith(message)


def test_a_model_that_cannot_load_is_the_containers_error(
    small_server: Server, tmp_path: Path, photo_785: bytes
):
    broken = LocalModels({"broken": tmp_path})
    with pytest.raises(ClientError) as raised:
        invoke(small_server, broken, "broken.tar.gz", photo_785)
    error = raised.value.response
    assert (error["Error"]["Code"], error["OriginalStatusCode"]) == ("ModelError", 500)
    assert "no model.json in the model directory" in error["OriginalMessage"]
