import json
import tarfile

from inference.artifact import package
from inference.manifest import ModelManifest


def test_artifact_unpacks_to_a_servable_model_dir_and_is_reproducible(movenet_dir, tmp_path):
    first = package(movenet_dir, tmp_path / "a" / "model.tar.gz")
    second = package(movenet_dir, tmp_path / "b" / "model.tar.gz")
    assert first.read_bytes() == second.read_bytes()  # content-addressable uploads depend on it

    with tarfile.open(first) as archive:
        names = sorted(archive.getnames())
        archive.extractall(tmp_path / "opt-ml-model", filter="data")
    manifest = ModelManifest.read(tmp_path / "opt-ml-model")
    assert names == sorted(["model.json", *manifest.files.values()])
    document = json.loads((tmp_path / "opt-ml-model" / "model.json").read_text())
    assert {"family", "input_size", "keypoints", "source", "sha256"} <= document.keys()
    assert (document["family"], document["input_size"]) == ("movenet", [192, 192])
