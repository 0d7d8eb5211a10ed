"""The SageMaker model artifact: a `model.tar.gz` that unpacks to a model directory at /opt/ml/model."""

from __future__ import annotations

import gzip
import tarfile
from pathlib import Path

from inference.manifest import MANIFEST_NAME, ModelManifest


def package(model_dir: Path, output: Path) -> Path:
    """Write the model files and model.json flat at the archive root, reproducibly.

    Fixed owners, modes and mtimes (and no gzip timestamp) make the archive's bytes depend only on
    its contents, so the deployment engine can name uploads by content hash.
    """
    manifest = ModelManifest.read(model_dir)
    names = sorted({MANIFEST_NAME, *manifest.files.values()})
    output.parent.mkdir(parents=True, exist_ok=True)
    with (
        open(output, "wb") as raw,
        gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as zipped,
        tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
    ):
        for name in names:
            info = archive.gettarinfo(str(model_dir / name), arcname=name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = 0
            info.mode = 0o644
            with open(model_dir / name, "rb") as stream:
                archive.addfile(info, stream)
    return output
