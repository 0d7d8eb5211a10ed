"""BlazePose GHUM: MediaPipe's two stages, a person detector and a landmark model on each person's crop.

The landmark model was trained on person-centred, upright crops (pose_landmark_by_roi_cpu.pbtxt),
and its presence flag says whether the crop holds a person at all; given only a landmark model
file (a user's local .tflite) the whole photo is letterboxed instead. As MediaPipe tracks a person
between video frames, the landmarks' own alignment points give a better region than the detector's;
the model runs again there, and again, until that region settles.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from inference.codec import DEFAULT_MAX_PEOPLE
from inference.errors import ModelError
from inference.images import DecodedImage
from inference.keypoints import BLAZEPOSE_LANDMARKS, BLAZEPOSE_TO_COCO
from inference.pipelines.blazepose_detector import (
    MIN_DETECTION_SCORE,
    UNSURE_PROPOSALS,
    Detection,
    PoseDetector,
)
from inference.pipelines.pose import (
    Box,
    Person,
    Pose,
    keypoints_from,
    load_interpreter,
    sigmoid,
    to_input_tensor,
)
from inference.pipelines.regions import differs, same_region, tiles
from inference.pipelines.roi import RotatedRect, roi_from_alignment, warp_crop, whole_photo

# MediaPipe's default min_pose_presence_confidence (min_tracking_confidence in the Python solution).
PRESENCE_THRESHOLD = 0.5
VALUES_PER_LANDMARK = 5  # x, y, z, visibility logit, presence logit
MODEL_LANDMARKS = 39  # the 33 landmarks plus 6 auxiliary points
# RefineLandmarksFromHeatmapCalculator options in pose_landmark_by_roi_cpu's post-processing graph.
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
# Decoded this large on its shorter side (a 12 MP JPEG at 1/4), a photo holds two pixels for each
# pixel of the 256 px crop of a person about half its height, and more than the 224 px detector
# needs; warp_crop decodes a smaller person's region again, sharper (DecodedImage.view). Decoding
# for the detector alone, then each region, costs more and scores worse (benchmarks/decode_bench.py).
TWO_STAGE_DECODE_SIDE = 512
# pose_detection_to_roi.pbtxt: the full-body ROI runs from detector keypoint 0 to keypoint 1;
# pose_landmarks_to_roi.pbtxt: from the landmark model's auxiliary points 33 to 34, the same way.
HIP_CENTRE, FULL_BODY_SCALE_POINT = 0, 1
AUX_HIP_CENTRE, AUX_FULL_BODY_SCALE_POINT = 33, 34
# Landmark passes per person at most: the detector's region, then the landmarks' own until it
# settles. On the eval photos a third pass still paid and a fourth did not (benchmarks/accuracy.py).
TRACKING_PASSES = 3
# Two landmark results are one person when half their points lie this close, in sides of the region.
SAME_PERSON = 0.1
# Landmark passes spent on detections that turn out to hold nobody, beyond the people wanted.
SPARE_PASSES = 3
# Candidates under the detector's threshold tried (each confirmed in its own region) when some
# people were found but fewer than wanted: at most this many, so one person costs a bounded amount.
BELOW_PROPOSALS = 2
# The detector looks at tiles of a photo at least this many times its input's side when it found
# fewer people than wanted and none of them large: each under this fraction of the photo's longer
# side, which the whole photo's 224 px letterbox scales by (such people fill under 112 px of it).
TILE_FROM = 2
SMALL_PERSON = 0.5


@dataclass(frozen=True)
class LandmarkOutput:
    points: np.ndarray  # (39, 2) x, y in model-input pixels
    visibility: np.ndarray  # (39,) 0..1
    presence: float  # 0..1: is there a person in the crop at all


class LandmarkModel:
    """pose_landmark_*.tflite on one square RGB crop."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        self._interpreter = load_interpreter(model_path, threads)
        self._input = self._interpreter.get_input_details()[0]
        _, self.height, self.width, _ = (int(v) for v in self._input["shape"])
        by_shape = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        landmarks = (1, MODEL_LANDMARKS * VALUES_PER_LANDMARK)
        if landmarks not in by_shape or (1, 1) not in by_shape:
            raise ModelError(
                "no [1,195] landmark and [1,1] presence outputs; is this a BlazePose landmark model?",
                where=str(model_path),
            )
        self._landmarks_index = by_shape[landmarks]
        self._presence_index = by_shape[(1, 1)]
        heatmaps = [shape for shape in by_shape if len(shape) == 4 and shape[-1] == MODEL_LANDMARKS]
        self._heatmap_index = by_shape[heatmaps[0]] if heatmaps else None

    def __call__(self, canvas: np.ndarray) -> LandmarkOutput:
        # pose_landmark_by_roi_cpu.pbtxt: output_tensor_float_range [0, 1].
        self._interpreter.set_tensor(self._input["index"], to_input_tensor(canvas, self._input, (0.0, 1.0)))
        self.invoke()
        raw = self._interpreter.get_tensor(self._landmarks_index).reshape(-1, VALUES_PER_LANDMARK)
        points = raw[:, :2].astype(float)
        if self._heatmap_index is not None:
            heatmap = self._interpreter.get_tensor(self._heatmap_index)[0]
            points = refine_from_heatmap(points, heatmap, (self.width, self.height))
        # The pose flag is already a probability: MediaPipe thresholds it with no activation.
        presence = float(self._interpreter.get_tensor(self._presence_index).ravel()[0])
        return LandmarkOutput(points, sigmoid(raw[:, 3]), presence)

    def invoke(self) -> None:
        """The model alone on its current input: the unit the benchmark measures pipeline cost in."""
        self._interpreter.invoke()


def refine_from_heatmap(points: np.ndarray, heatmap: np.ndarray, input_size: tuple[int, int]) -> np.ndarray:
    """MediaPipe's RefineLandmarksFromHeatmapCalculator: the sigmoid-weighted mean cell in a window.

    Only where the heatmap is confident (its peak in the window >= 0.5); like MediaPipe, a cell
    stands for its index, so the result is the weighted mean index over the heatmap size.
    """
    rows, cols, count = heatmap.shape
    offset = (HEATMAP_KERNEL - 1) // 2
    # Each point's cell (truncated toward zero, as MediaPipe's int cast), then its window's cells.
    col = np.trunc(points[:, 0] / input_size[0] * cols).astype(int)
    row = np.trunc(points[:, 1] / input_size[1] * rows).astype(int)
    inside = (col >= 0) & (col < cols) & (row >= 0) & (row < rows)
    steps = np.arange(-offset, offset + 1)
    window_rows = (row[:, None] + steps)[:, :, None]  # (N, K, 1)
    window_cols = (col[:, None] + steps)[:, None, :]  # (N, 1, K)
    in_map = (window_rows >= 0) & (window_rows < rows) & (window_cols >= 0) & (window_cols < cols)
    values = heatmap[
        np.clip(window_rows, 0, rows - 1), np.clip(window_cols, 0, cols - 1), np.arange(count)[:, None, None]
    ]
    confidence = np.where(in_map, sigmoid(values), 0.0)
    confident = inside & (confidence.max(axis=(1, 2)) >= HEATMAP_MIN_CONFIDENCE)
    total = np.where(confident, confidence.sum(axis=(1, 2)), 1.0)
    mean_col = (confidence * window_cols).sum(axis=(1, 2)) / total
    mean_row = (confidence * window_rows).sum(axis=(1, 2)) / total
    refined = points.copy()
    refined[confident, 0] = mean_col[confident] / cols * input_size[0]
    refined[confident, 1] = mean_row[confident] / rows * input_size[1]
    return refined


@dataclass(frozen=True)
class Tracked:
    """One person's landmark pass, in original-image pixels, and the region those landmarks imply."""

    points: np.ndarray  # (39, 2)
    visibility: np.ndarray  # (39,)
    presence: float
    roi: RotatedRect  # from the auxiliary alignment points: where to look for this person again
    region: RotatedRect  # where this pass looked
    passes: int = 1  # landmark passes on this person so far
    unsure: bool = False  # found from a detection under the detector's threshold

    def same_person(self, other: Tracked) -> bool:
        """Half their landmarks coincide: two readings of one person (two people never share that much)."""
        count = len(BLAZEPOSE_LANDMARKS)
        apart = np.linalg.norm(self.points[:count] - other.points[:count], axis=1)
        return bool(np.median(apart) <= SAME_PERSON * min(self.roi.size, other.roi.size))


class BlazePosePipeline:
    """Detect people, crop each upright, find their 33 landmarks there; the best again in their own region."""

    def __init__(
        self, landmark_model_path: Path, threads: int = 1, detector_path: Path | None = None
    ) -> None:
        self.landmark_model = LandmarkModel(landmark_model_path, threads)
        self._detector = PoseDetector(detector_path, threads) if detector_path else None
        self.passes = TRACKING_PASSES  # landmark passes per person at most (1: MediaPipe's single pass)
        self.tile = True  # the detector on tiles of large photos where it found only small people
        self.unsure = UNSURE_PROPOSALS  # candidates under the threshold tried when nobody is found
        self.confirm = True  # ... each counted only when their own region holds them too
        self.below = BELOW_PROPOSALS  # candidates under the threshold tried when fewer than wanted
        if self._detector:
            self.decode_side = TWO_STAGE_DECODE_SIDE
        else:
            self.decode_side = max(self.landmark_model.width, self.landmark_model.height)

    def __call__(self, image: DecodedImage, max_people: int = DEFAULT_MAX_PEOPLE) -> Pose:
        if self._detector is None:
            tracked = self._landmarks(image, whole_photo(image))
            found = [tracked] if tracked.presence >= PRESENCE_THRESHOLD else []
        else:
            found = self._find(image, max_people)
        # Those the detector was sure of lead, best first; people it was unsure of follow.
        sure = [index for index, tracked in enumerate(found) if not tracked.unsure]
        if sure:  # the person the response leads with is tracked until their region settles
            best = max(sure, key=lambda index: found[index].presence)
            found[best] = self._settle(image, found[best])
        ordered = sorted(found, key=lambda tracked: (tracked.unsure, -tracked.presence))
        return Pose.of(tuple(_person(tracked, image) for tracked in ordered))

    def _find(self, image: DecodedImage, max_people: int) -> list[Tracked]:
        """Everyone the detector and the landmark model agree on, each from one landmark pass."""
        found: list[Tracked] = []
        detections = self._detector(image, unsure=self.unsure, below=self.below)
        sure = [d for d in detections if d.score >= MIN_DETECTION_SCORE]
        self._search(image, sure, found, max_people)
        if self.tile and self._worth_tiling(image, found, max_people):
            in_tiles = [
                d for tile in tiles(image.width, image.height) for d in self._detector(image, tile, unsure=0)
            ]
            self._search(image, sorted(in_tiles, key=lambda d: -d.score), found, max_people)
        unsure = [d for d in detections if d.score < MIN_DETECTION_SCORE]
        if not found:  # the last resort: candidates under the threshold, for the presence flag to judge
            self._search(image, unsure[: self.unsure], found, 1, confirm=self.confirm)
        elif self.below and len(found) < max_people:  # someone beside those found, less sure
            more: list[Tracked] = list(found)
            self._search(image, unsure[: self.below], more, max_people, confirm=True, budget=self.below)
            found += [replace(tracked, unsure=True) for tracked in more[len(found) :]]
        return found

    @property
    def interpreters(self) -> tuple:
        """The TFLite interpreters one call runs (benchmarks time their bare invokes)."""
        landmark = self.landmark_model._interpreter
        return (self._detector._interpreter, landmark) if self._detector else (landmark,)

    def _search(
        self,
        image: DecodedImage,
        detections: list[Detection],
        found: list[Tracked],
        wanted: int,
        confirm: bool = False,
        budget: int | None = None,
    ) -> None:
        """Add to `found` each detection the landmark model confirms, best first, until `wanted`.

        `confirm`: the detector was unsure, so the person must also be in the region their own
        landmarks give (a texture the model half-reads as a body rarely holds up a second time).
        """
        passes = 0
        for detection in detections:
            if len(found) >= wanted or passes >= (wanted + SPARE_PASSES if budget is None else budget):
                return
            points = detection.keypoints
            roi = roi_from_alignment(points[HIP_CENTRE], points[FULL_BODY_SCALE_POINT])
            if any(same_region(roi, person.roi) for person in found):
                continue
            passes += 1
            tracked = self._landmarks(image, roi)
            if tracked.presence >= PRESENCE_THRESHOLD and confirm:
                tracked = self._landmarks(image, tracked.roi, tracked.passes)
            if tracked.presence < PRESENCE_THRESHOLD:
                continue
            if not any(tracked.same_person(person) for person in found):
                found.append(tracked)

    def _settle(self, image: DecodedImage, tracked: Tracked) -> Tracked:
        """Track the person in their own region until it settles (MediaPipe's tracking between frames)."""
        while tracked.passes < self.passes and differs(tracked.roi, tracked.region):
            again = self._landmarks(image, tracked.roi, tracked.passes)
            if again.presence < PRESENCE_THRESHOLD:
                break
            tracked = again
        return tracked

    def _landmarks(self, image: DecodedImage, roi: RotatedRect, passes_before: int = 0) -> Tracked:
        crop, transform = warp_crop(image, roi, self.landmark_model.width)
        output = self.landmark_model(crop)
        x, y = transform.to_original(output.points[:, 0], output.points[:, 1])
        points = np.stack([x, y], axis=1)
        own = roi_from_alignment(points[AUX_HIP_CENTRE], points[AUX_FULL_BODY_SCALE_POINT])
        return Tracked(points, output.visibility, output.presence, own, roi, passes_before + 1)

    def _worth_tiling(self, image: DecodedImage, found: list[Tracked], wanted: int) -> bool:
        """A photo much larger than the detector's input, where fewer than wanted and only small people were found."""
        if len(found) >= wanted or max(image.width, image.height) < TILE_FROM * self._detector.input_size:
            return False
        small = SMALL_PERSON * max(image.width, image.height)
        return all(
            max(_extent(person.points).width, _extent(person.points).height) < small for person in found
        )


def _extent(points: np.ndarray) -> Box:
    """The box around the 33 landmarks (not clipped to the photo)."""
    low, high = points[: len(BLAZEPOSE_LANDMARKS)].min(axis=0), points[: len(BLAZEPOSE_LANDMARKS)].max(axis=0)
    return Box(float(low[0]), float(low[1]), float(high[0] - low[0]), float(high[1] - low[1]))


def _person(tracked: Tracked, image: DecodedImage) -> Person:
    """The first 33 of the model's points as landmarks, in the photo."""
    count = len(BLAZEPOSE_LANDMARKS)
    x, y = tracked.points[:count, 0], tracked.points[:count, 1]
    size = (image.width, image.height)
    landmarks = keypoints_from(BLAZEPOSE_LANDMARKS, x, y, tracked.visibility[:count], size)
    return Person(
        keypoints=tuple(landmarks[i] for i in BLAZEPOSE_TO_COCO),
        landmarks=landmarks,
        score=round(tracked.presence, 4),
        box=Box.around(landmarks),
    )
