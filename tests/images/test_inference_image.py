"""The inference image run exactly as SageMaker runs it: `IMAGE serve`, the unpacked model.tar.gz
read-only at /opt/ml/model, SAGEMAKER_BIND_TO_PORT, then SIGTERM from `stop`."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from inference.predictor import Predictor
from tests.conftest import REPO, free_port
from tests.images.engine import Engine

START_DEADLINE_SECONDS = 60
UID = "10001"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What SageMaker mounts: the artifact `python -m inference package` writes, unpacked."""
    scratch = tmp_path_factory.mktemp("artifact")
    artifact = scratch / "model.tar.gz"
    subprocess.run(
        [sys.executable, "-m", "inference", "package", "blazepose-full", "--output", str(artifact)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    unpacked = scratch / "model"
    with tarfile.open(artifact) as archive:
        archive.extractall(unpacked, filter="data")
    unpacked.chmod(0o755)
    for path in unpacked.iterdir():
        path.chmod(0o644)  # readable by the image's unprivileged user, as SageMaker's mount is
    return unpacked


@pytest.fixture(scope="module")
def container(engine: Engine, inference_image: str, model_dir: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    name = f"pose-inference-test-{port}"
    engine.run(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--volume", f"{model_dir}:/opt/ml/model:ro", "--publish", f"127.0.0.1:{port}:8080",
        "--env", "SAGEMAKER_BIND_TO_PORT=8080", inference_image, "serve",
    )  # fmt: skip
    try:
        _wait_for_ping(engine, name, port)
        yield name, port
    finally:
        engine.run("rm", "--force", name, check=False)


def _wait_for_ping(engine: Engine, name: str, port: int) -> None:
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    logs = engine.run("logs", name, check=False)
    pytest.fail(
        f"/ping not 200 within {START_DEADLINE_SECONDS} s:\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}"
    )


def post(port: int, body: bytes, content_type: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations", data=body, headers={"Content-Type": content_type}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_ping_names_the_packaged_model(container, model_dir):
    _, port = container
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=5) as response:
        document = json.loads(response.read())
    manifest = json.loads((model_dir / "model.json").read_text())
    assert document["status"] == "ready" and document["model"]["name"] == manifest["name"]


def test_a_real_photo_gets_the_same_keypoints_as_the_in_process_server(container, model_dir, photo_785):
    _, port = container
    status, document = post(port, photo_785, "image/jpeg")
    expected = Predictor(model_dir).predict(photo_785, "image/jpeg")
    assert status == 200 and document["person_detected"] == expected["person_detected"]
    for got, want in zip(document["keypoints"], expected["keypoints"], strict=True):
        assert got["name"] == want["name"]
        assert abs(got["x"] - want["x"]) < 0.01 and abs(got["y"] - want["y"]) < 0.01


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [(b"not a photo", "image/jpeg", 400), (b"{}", "application/json", 400), (b"x", "text/plain", 415)],
)
def test_a_bad_body_gets_its_4xx(container, body, content_type, status):
    _, port = container
    code, document = post(port, body, content_type)
    assert code == status and document["error"]


def test_it_runs_unprivileged_on_a_read_only_root(engine, container):
    name, _ = container
    assert engine.run("exec", name, "id", "-u").stdout.strip() == UID
    assert engine.run("exec", name, "touch", "/opt/program/written", check=False).returncode != 0
    assert engine.run("exec", name, "touch", "/tmp/written", check=False).returncode == 0
    inspected = json.loads(engine.run("inspect", name).stdout)[0]
    assert inspected["HostConfig"]["ReadonlyRootfs"] is True


def test_sigterm_ends_it_cleanly_within_30_seconds(engine, inference_image, model_dir):
    port = free_port()
    name = f"pose-inference-stop-{port}"
    engine.run(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--volume", f"{model_dir}:/opt/ml/model:ro", "--publish", f"127.0.0.1:{port}:8080",
        inference_image, "serve",
    )  # fmt: skip
    try:
        _wait_for_ping(engine, name, port)
        engine.run("stop", "--time", "30", name, timeout=60)  # SIGTERM, then SIGKILL after 30 s
        state = json.loads(engine.run("inspect", name).stdout)[0]["State"]
        assert (state["Status"], state["ExitCode"]) == ("exited", 0)  # 137 would mean it was killed
    finally:
        engine.run("rm", "--force", name, check=False)


def test_batch_transform_finds_its_execution_parameters(container):
    _, port = container
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/execution-parameters", timeout=5) as response:
        parameters = json.loads(response.read())
    assert parameters["BatchStrategy"] == "SINGLE_RECORD" and parameters["MaxPayloadInMB"] == 6
    assert parameters["MaxConcurrentTransforms"] >= 1


def test_the_image_says_it_serves_multi_model_endpoints(engine, inference_image):
    labels = json.loads(engine.run("image", "inspect", inference_image).stdout)[0]["Labels"]
    assert labels["com.amazonaws.sagemaker.capabilities.multi-models"] == "true"


def test_multi_model_run_as_sagemaker_does(engine, inference_image, model_dir, photo_785):
    """SAGEMAKER_MULTI_MODEL=true, the model unpacked under /opt/ml/models/{name}/model, then the
    contract's load, invoke and unload."""
    port = free_port()
    name = f"pose-inference-mme-{port}"
    url = "/opt/ml/models/0123abcd/model"
    engine.run(
        "run", "--detach", "--name", name, "--read-only", "--tmpfs", "/tmp",
        "--volume", f"{model_dir}:{url}:ro", "--publish", f"127.0.0.1:{port}:8080",
        "--env", "SAGEMAKER_MULTI_MODEL=true", inference_image, "serve",
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for_ping(engine, name, port)
        load = json.dumps({"model_name": "0123abcd", "url": url}).encode()
        assert _call(f"{base}/models", load, "POST")[0] == 200
        status, document = _call(f"{base}/models/0123abcd/invoke", photo_785, "POST", "image/jpeg")
        manifest = json.loads((model_dir / "model.json").read_text())
        assert status == 200 and document["model"]["name"] == manifest["name"]
        assert _call(f"{base}/models/0123abcd", None, "DELETE")[0] == 200
        assert _call(f"{base}/models", None, "GET") == (200, {"models": []})
    finally:
        engine.run("rm", "--force", name, check=False)


def _call(
    url: str, body: bytes | None, method: str, content_type: str = "application/json"
) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=body, method=method, headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
