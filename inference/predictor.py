"""One request body in, one response document out: the work behind `/invocations`.

Kept apart from HTTP so the benchmark can call exactly what the server calls, in-process.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict
from pathlib import Path

from inference import codec, images
from inference.codec import DEFAULT_MAX_PEOPLE
from inference.manifest import ModelManifest
from inference.pipelines import load_pipeline
from inference.pipelines.pose import Person, Pose
from inference.settings import TRACKING_PASSES_ENV, tracking_passes_setting


class Predictor:
    def __init__(self, model_dir: Path, threads: int = 1, max_people: int = DEFAULT_MAX_PEOPLE) -> None:
        self.max_people = max_people  # a request may ask for another number (codec.max_people)
        self.manifest = ModelManifest.read(model_dir)
        self.pipeline = load_pipeline(Path(model_dir), self.manifest, threads=threads)
        passes = tracking_passes_setting(os.environ.get(TRACKING_PASSES_ENV))
        if passes is not None and hasattr(self.pipeline, "passes"):  # BlazePose's; MoveNet has one pass
            self.pipeline.passes = passes
        # A TFLite interpreter is not thread-safe; decoding (which releases the GIL) may overlap.
        self._model_lock = threading.Lock()

    @property
    def model_info(self) -> dict:
        return {"name": self.manifest.name, "family": self.manifest.family, "version": self.manifest.version}

    def predict(self, body: bytes, content_type: str | None, max_people: int | None = None) -> dict:
        """Raises RequestError for anything a client sent wrong; lists at most `max_people` people."""
        started = time.perf_counter()
        codec.check_body_size(len(body))
        image = images.decode(codec.image_bytes(content_type, body), self.pipeline.decode_side)
        decode_seconds = time.perf_counter() - started
        with self._model_lock:  # inference time excludes waiting for the other request's turn
            model_started = time.perf_counter()
            pose = self.pipeline(image, max_people or self.max_people)
            inference_seconds = time.perf_counter() - model_started
        # A person's region decoded again at a finer scale, inside the pipeline, is decode time too.
        decode_seconds += image.region_decode_seconds
        inference_seconds -= image.region_decode_seconds
        return self._response(pose, image, started, decode_seconds, inference_seconds)

    def _response(
        self,
        pose: Pose,
        image: images.DecodedImage,
        started: float,
        decode_seconds: float,
        inference_seconds: float,
    ) -> dict:
        document = {
            "model": self.model_info,
            "image": {"width": image.width, "height": image.height},
            "person_detected": pose.person_detected,
            "score": pose.score,
            "keypoints": [asdict(keypoint) for keypoint in pose.keypoints],
        }
        if pose.landmarks:
            document["landmarks"] = [asdict(landmark) for landmark in pose.landmarks]
        document["people"] = [_person(person) for person in pose.people]
        # The monitoring job reads timing.inference_ms from captured responses: keep the path stable.
        document["timing"] = {
            "decode_ms": _ms(decode_seconds),
            "inference_ms": _ms(inference_seconds),
            "total_ms": _ms(time.perf_counter() - started),
        }
        return document


def _person(person: Person) -> dict:
    """One person as the response lists it: landmarks only where the model has them (BlazePose)."""
    document = {
        "score": person.score,
        "box": asdict(person.box),
        "keypoints": [asdict(keypoint) for keypoint in person.keypoints],
    }
    if person.landmarks:
        document["landmarks"] = [asdict(landmark) for landmark in person.landmarks]
    return document


def _ms(seconds: float) -> float:
    return round(seconds * 1000.0, 3)
