"""Pose pipelines: a decoded photo in, keypoints in original-image pixels out.

Each family module is pure computation around one or two TFLite interpreters; no HTTP,
no files beyond the model weights, so the same object serves the server and the benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from inference.images import DecodedImage
from inference.manifest import DETECTOR, KEYPOINTS, LANDMARKS, Family, ModelManifest
from inference.pipelines.pose import Pose


class Pipeline(Protocol):
    # The shorter image side the pipeline needs; a JPEG is decoded down to no less than this.
    decode_side: int

    @property
    def interpreters(self) -> tuple: ...

    def __call__(self, image: DecodedImage, max_people: int = ...) -> Pose: ...


def load_pipeline(model_dir: Path, manifest: ModelManifest, threads: int = 1) -> Pipeline:
    """Build the pipeline for the model directory's family."""
    if manifest.family is Family.MOVENET:
        from inference.pipelines.movenet import MoveNetPipeline

        return MoveNetPipeline(manifest.path_of(model_dir, KEYPOINTS), threads=threads)
    from inference.pipelines.blazepose import BlazePosePipeline

    # A BlazePose directory without the detector (a user's own landmark .tflite) runs single-stage.
    detector = manifest.path_of(model_dir, DETECTOR) if DETECTOR in manifest.files else None
    return BlazePosePipeline(manifest.path_of(model_dir, LANDMARKS), threads=threads, detector_path=detector)
