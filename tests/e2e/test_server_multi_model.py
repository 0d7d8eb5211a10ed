"""SageMaker's multi-model contract for custom containers, against a real server process:
load, list, describe, invoke, unload, and the errors the contract names.

https://docs.aws.amazon.com/sagemaker/latest/dg/mms-container-apis.html
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import EVAL_DIR, free_port
from tests.e2e.server_client import (
    HOST,
    JPEG,
    Reply,
    Server,
    check_document,
    check_error,
    image_size,
    model_info,
    ping_status,
    request,
    running_server,
    wait_for,
)

WORKERS = 2
PHOTO = "000000000785.jpg"
BLAZEPOSE_LANDMARKS = 33


def multi_model_args(port: int) -> list[str]:
    return ["--host", HOST, "--port", str(port), "--workers", str(WORKERS)]


@pytest.fixture(scope="module")
def models_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """SageMaker's way in: SAGEMAKER_MULTI_MODEL=true and no /opt/ml/model."""
    port = free_port()
    environment = {"SAGEMAKER_MULTI_MODEL": "true", "MODEL_DIR": "/nonexistent"}
    with running_server(
        tmp_path_factory.mktemp("models"), multi_model_args(port), port, environment
    ) as server:
        wait_for(lambda: ping_status(port) == 200, "/ping 200", server)
        yield server


@pytest.fixture
def loaded(models_server: Server) -> Iterator[Callable[[str, Path], Reply]]:
    """Load models by name for one test; every one still loaded is unloaded after it."""
    names: list[str] = []

    def load(name: str, url: Path) -> Reply:
        names.append(name)
        return load_model(models_server.port, name, url)

    yield load
    for name in names:
        request(models_server.port, "DELETE", f"/models/{name}")


def load_model(port: int, name: str, url: Path | str) -> Reply:
    body = json.dumps({"model_name": name, "url": str(url)}).encode()
    return request(port, "POST", "/models", body, {"Content-Type": "application/json"})


def invoke_model(port: int, name: str, photo: bytes, **headers: str) -> Reply:
    return request(port, "POST", f"/models/{name}/invoke", photo, {**JPEG, **headers})


def loads_by_worker(server: Server, name: str) -> Counter:
    return Counter(re.findall(rf"worker (\d+) loaded model {re.escape(name)} ", server.log()))


def test_ping_is_ready_with_no_model_loaded(models_server: Server):
    reply = request(models_server.port, "GET", "/ping")
    assert (reply.status, reply.json()) == (200, {"status": "ready", "models_loaded": 0})


def test_load_list_describe_invoke_unload(models_server: Server, blazepose_dir: Path, photo_785: bytes):
    port = models_server.port
    loaded = load_model(port, "full", blazepose_dir)
    assert (loaded.status, loaded.json()) == (
        200,
        {"modelName": "full", "modelUrl": str(blazepose_dir), "model": model_info(blazepose_dir)},
    )
    described = {"modelName": "full", "modelUrl": str(blazepose_dir)}
    assert request(port, "GET", "/models").json() == {"models": [described]}
    assert request(port, "GET", "/models/full").json() == described
    answer = invoke_model(
        port, "full", photo_785, **{"X-Amzn-SageMaker-Target-Model": "blazepose-full.tar.gz"}
    )
    assert answer.status == 200
    size = image_size(EVAL_DIR / PHOTO)
    check_document(answer.json(), model_info(blazepose_dir), size, BLAZEPOSE_LANDMARKS)
    unloaded = request(port, "DELETE", "/models/full")
    assert (unloaded.status, unloaded.json()) == (200, {"modelName": "full", "status": "unloaded"})
    assert request(port, "GET", "/models").json() == {"models": []}
    for method, path in (
        ("GET", "/models/full"),
        ("POST", "/models/full/invoke"),
        ("DELETE", "/models/full"),
    ):
        reply = request(port, method, path, photo_785 if method == "POST" else None, JPEG)
        check_error(reply, 404)
        assert reply.json()["error"] == "model 'full' is not loaded; load it with POST /models"


def test_loading_a_loaded_name_again_is_409(loaded, movenet_dir: Path, blazepose_dir: Path):
    assert loaded("twice", movenet_dir).status == 200
    again = loaded("twice", blazepose_dir)
    check_error(again, 409)
    assert again.json()["error"] == "model 'twice' is already loaded"


def test_custom_attributes_and_request_errors_apply_per_model(
    models_server: Server, loaded, movenet_dir: Path, photo_785: bytes
):
    assert loaded("movenet", movenet_dir).status == 200
    answer = invoke_model(
        models_server.port, "movenet", photo_785, **{"X-Amzn-SageMaker-Custom-Attributes": "max_people=1"}
    )
    assert answer.status == 200 and len(answer.json()["people"]) <= 1
    assert answer.json()["model"] == model_info(movenet_dir)
    gif = request(
        models_server.port, "POST", "/models/movenet/invoke", b"GIF89a", {"Content-Type": "image/gif"}
    )
    check_error(gif, 415)


def test_a_model_that_fails_to_load_is_500_and_the_others_keep_serving(
    models_server: Server, loaded, movenet_dir: Path, tmp_path: Path, photo_785: bytes
):
    assert loaded("good", movenet_dir).status == 200
    no_manifest = loaded("empty", tmp_path)
    check_error(no_manifest, 500)
    assert (
        no_manifest.json()["error"]
        == f"model 'empty' cannot be loaded from {tmp_path}: no model.json in the model directory"
    )
    corrupt = tmp_path / "corrupt"
    shutil.copytree(movenet_dir, corrupt)
    for weights in corrupt.glob("*.tflite"):
        weights.write_bytes(b"not a tflite model" * 100)
    broken = loaded("corrupt", corrupt)
    check_error(broken, 500)
    assert broken.json()["error"].startswith(
        f"model 'corrupt' cannot be loaded from {corrupt}: cannot load the TFLite model"
    )
    names = [model["modelName"] for model in request(models_server.port, "GET", "/models").json()["models"]]
    assert names == ["good"]
    assert invoke_model(models_server.port, "good", photo_785).status == 200
    assert loaded("corrupt", movenet_dir).status == 200  # a failed load leaves the name free


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"{", "the body must be JSON"),
        (b"[]", "the body must be a JSON object"),
        (b'{"url": "/opt/ml/models/x/model"}', "model_name must be 1 to 256 printable characters"),
        (b'{"model_name": "a/b", "url": "/x"}', "model_name must be 1 to 256 printable characters"),
        (b'{"model_name": "x"}', "url must be the path of the model's directory"),
    ],
)
def test_a_malformed_load_request_is_400(models_server: Server, body: bytes, error: str):
    reply = request(models_server.port, "POST", "/models", body, {"Content-Type": "application/json"})
    check_error(reply, 400)
    assert reply.json()["error"].startswith(error)


def test_routes_and_methods(models_server: Server, photo_785: bytes):
    port = models_server.port
    wrong = request(port, "PUT", "/models/x")
    check_error(wrong, 405)
    assert wrong.headers["allow"] == "GET, DELETE"
    assert request(port, "GET", "/models/x/invoke").headers["allow"] == "POST"
    single = request(port, "POST", "/invocations", photo_785, JPEG)
    check_error(single, 404)
    assert "POST /models/{name}/invoke" in single.json()["error"]


def test_list_pages_with_next_page_token(
    models_server: Server, loaded, movenet_dir: Path, blazepose_dir: Path
):
    assert loaded("b-full", blazepose_dir).status == 200 and loaded("a-movenet", movenet_dir).status == 200
    first = request(models_server.port, "GET", "/models?limit=1").json()
    assert first["models"] == [{"modelName": "a-movenet", "modelUrl": str(movenet_dir)}]
    rest = request(
        models_server.port, "GET", f"/models?limit=1&next_page_token={first['nextPageToken']}"
    ).json()
    assert rest == {"models": [{"modelName": "b-full", "modelUrl": str(blazepose_dir)}]}
    check_error(request(models_server.port, "GET", "/models?next_page_token=%25%25"), 400)
    check_error(request(models_server.port, "GET", "/models?limit=0"), 400)


def test_concurrent_first_requests_load_once_per_worker_and_unload_frees_every_worker(
    models_server: Server, loaded, movenet_dir: Path, photo_785: bytes
):
    """Four requests at once over two workers: every worker loads the model once, however many
    of the requests it serves; the unload answers after each worker has dropped its copy."""
    assert loaded("shared", movenet_dir).status == 200
    start, replies = threading.Barrier(4), []

    def call() -> None:
        start.wait()
        replies.append(invoke_model(models_server.port, "shared", photo_785))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [reply.status for reply in replies] == [200] * 4
    assert list(loads_by_worker(models_server, "shared").values()) == [1] * WORKERS
    assert request(models_server.port, "DELETE", "/models/shared").status == 200
    # Read as soon as the answer is in: each worker logs its drop before it tells the front.
    assert len(set(re.findall(r"worker (\d+) dropped model shared", models_server.log()))) == WORKERS


def test_concurrent_loads_of_one_name_load_it_once(models_server: Server, loaded, movenet_dir: Path):
    start, statuses = threading.Barrier(3), []

    def call() -> None:
        start.wait()
        statuses.append(loaded("race", movenet_dir).status)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409, 409]


def test_507_when_the_model_does_not_fit_until_another_is_unloaded(
    movenet_dir: Path, blazepose_dir: Path, tmp_path: Path
):
    """POSE_MODELS_MEMORY_MB=200 holds MoveNet (2 workers x 35 MiB estimated) or BlazePose full
    (2 x 84 MiB), not both: SageMaker hears 507, unloads one, and loads again."""
    port = free_port()
    environment = {"SAGEMAKER_MULTI_MODEL": "true", "POSE_MODELS_MEMORY_MB": "200"}
    with running_server(tmp_path, multi_model_args(port), port, environment) as server:
        wait_for(lambda: ping_status(port) == 200, "/ping 200", server)
        assert load_model(port, "movenet", movenet_dir).status == 200
        full = load_model(port, "full", blazepose_dir)
        check_error(full, 507)
        assert re.fullmatch(
            r"not enough memory to load model 'full': it needs about 16\d MiB \(2 workers x 8\d MiB\), "
            r"and 1[23]\d MiB are left of the models' 200 MiB",
            full.json()["error"],
        ), full.json()["error"]
        assert request(port, "DELETE", "/models/movenet").status == 200
        assert load_model(port, "full", blazepose_dir).status == 200


def test_single_model_server_has_no_models_routes(blazepose_server: Server):
    check_error(request(blazepose_server.port, "GET", "/models"), 404)
