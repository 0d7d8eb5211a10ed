"""Packaged models whose model.json names a measured catalog model's files, without its weights:
the deploy reads only model.json to find a model's metrics."""

from __future__ import annotations

from pathlib import Path

from deployment.metrics import Measurement, load_results
from inference.artifact import package
from inference.catalog import CATALOG
from inference.keypoints import COCO_KEYPOINTS
from inference.manifest import ModelManifest


def measured(name: str | None = None) -> Measurement:
    """A model of the committed results (the first, unless named)."""
    entries = load_results()
    return next(entry for entry in entries if name in (None, entry.name))


def packaged(directory: Path, name: str, digests: dict[str, str] | None = None) -> Path:
    """`{name}.tar.gz` as inference/artifact.py packages it, model.json claiming `digests` (default:
    the catalog's sha256 for each of the model's files)."""
    spec = CATALOG[name]
    model_dir = directory / name
    model_dir.mkdir(parents=True, exist_ok=True)
    for model_file in spec.files:
        (model_dir / model_file.filename).write_bytes(b"TFL3 a stand-in for " + model_file.filename.encode())
    ModelManifest(
        name=spec.name,
        family=spec.family,
        version=spec.version,
        files={model_file.role: model_file.filename for model_file in spec.files},
        sha256=digests or {model_file.filename: model_file.sha256 for model_file in spec.files},
        input_size=(256, 256),
        keypoints=COCO_KEYPOINTS,
        landmarks=(),
        source="a test",
    ).write(model_dir)
    return package(model_dir, directory / f"{name}.tar.gz")
