"""`model.json`: what a model directory holds, so the server needs nothing but that directory.

The same directory layout is the fetch cache entry, the contents of `model.tar.gz`, and what
SageMaker unpacks into `/opt/ml/model`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from pathlib import Path

from inference.errors import ModelError

MANIFEST_NAME = "model.json"
MANIFEST_VERSION = 1
# A file's role in model.json's "files": MoveNet has keypoints, BlazePose landmarks and maybe a detector.
KEYPOINTS = "keypoints"
LANDMARKS = "landmarks"
DETECTOR = "detector"


class Family(StrEnum):
    """A model family, spelled as config.yml, model.json and `--family` spell it."""

    MOVENET = "movenet"
    BLAZEPOSE = "blazepose"

    @property
    def main_role(self) -> str:
        """The role of the file that sees the whole image, and sets the input size."""
        return KEYPOINTS if self is Family.MOVENET else LANDMARKS

    @classmethod
    def listed(cls) -> str:
        return ", ".join(cls)


@dataclass(frozen=True)
class ModelManifest:
    """Everything the server must know about a model directory, written next to the weights."""

    name: str
    family: Family
    version: str
    files: dict[str, str]  # role (KEYPOINTS, LANDMARKS, DETECTOR) -> file name
    sha256: dict[str, str]  # file name -> hex digest
    input_size: tuple[int, int]  # (width, height) of the main model's input
    keypoints: tuple[str, ...]
    landmarks: tuple[str, ...]
    source: str

    def path_of(self, model_dir: Path, role: str) -> Path:
        return model_dir / self.files[role]

    def write(self, model_dir: Path) -> Path:
        path = model_dir / MANIFEST_NAME
        document = {"manifest_version": MANIFEST_VERSION, **asdict(self)}
        path.write_text(json.dumps(document, indent=2) + "\n")
        return path

    @classmethod
    def read(cls, model_dir: Path) -> ModelManifest:
        path = Path(model_dir) / MANIFEST_NAME
        hint = "point MODEL_DIR at a directory made by `python -m inference fetch` or unpacked from `package`"
        if not path.is_file():
            raise ModelError(f"no {MANIFEST_NAME} in the model directory", where=str(model_dir), hint=hint)
        try:
            document = json.loads(path.read_text())
            document.pop("manifest_version", None)
            manifest = cls(
                **{
                    **document,
                    "input_size": tuple(document["input_size"]),
                    "keypoints": tuple(document["keypoints"]),
                    "landmarks": tuple(document["landmarks"]),
                }
            )
        except (ValueError, TypeError, KeyError) as error:
            raise ModelError(f"unreadable manifest ({error})", where=str(path), hint=hint) from error
        if manifest.family not in tuple(Family):
            raise ModelError(
                f"unknown family {manifest.family!r}; expected one of {Family.listed()}", where=str(path)
            )
        manifest = replace(manifest, family=Family(manifest.family))
        for role in manifest.files:
            if not manifest.path_of(model_dir, role).is_file():
                raise ModelError(f"the {role} file {manifest.files[role]} is missing", where=str(model_dir))
        return manifest


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
