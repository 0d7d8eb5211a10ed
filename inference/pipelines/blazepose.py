"""BlazePose GHUM: MediaPipe's two stages, a person detector and a landmark model on the person's crop.

The landmark model was trained on person-centred, upright crops (pose_landmark_by_roi_cpu.pbtxt),
and its presence flag says whether the crop holds a person at all; given only a landmark model
file (a user's local .tflite) the whole photo is letterboxed instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import ModelError
from inference.images import DecodedImage, letterbox
from inference.keypoints import BLAZEPOSE_LANDMARKS, BLAZEPOSE_TO_COCO
from inference.pipelines.blazepose_detector import PoseDetector
from inference.pipelines.pose import Pose, keypoints_from, load_interpreter, sigmoid, to_input_tensor
from inference.pipelines.roi import roi_from_alignment, warp_crop

# MediaPipe's default min_pose_presence_confidence (min_tracking_confidence in the Python solution).
PRESENCE_THRESHOLD = 0.5
VALUES_PER_LANDMARK = 5  # x, y, z, visibility logit, presence logit
MODEL_LANDMARKS = 39  # the 33 landmarks plus 6 auxiliary points
# RefineLandmarksFromHeatmapCalculator options in pose_landmark_by_roi_cpu's post-processing graph.
HEATMAP_KERNEL = 7
HEATMAP_MIN_CONFIDENCE = 0.5
# Decoded this large on its shorter side (a 12 MP JPEG at 1/4), a photo has a pixel for each pixel
# of the 256 px crop of a person about a quarter of its height (the smallest the 224 px detector
# finds); warp_crop decodes a smaller person's region again, sharper (DecodedImage.view). Decoding
# for the detector alone, then each region, costs more (benchmarks/decode_bench.py measures both).
TWO_STAGE_DECODE_SIDE = 512
# pose_detection_to_roi.pbtxt: the full-body ROI runs from detector keypoint 0 to keypoint 1.
HIP_CENTRE, FULL_BODY_SCALE_POINT = 0, 1

NO_PERSON = Pose(keypoints=(), landmarks=(), score=0.0, person_detected=False)


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
    rows, cols, _ = heatmap.shape
    refined = points.copy()
    offset = (HEATMAP_KERNEL - 1) // 2
    for index, (x, y) in enumerate(points):
        col, row = int(x / input_size[0] * cols), int(y / input_size[1] * rows)
        if not (0 <= col < cols and 0 <= row < rows):
            continue
        row_span = slice(max(0, row - offset), min(rows, row + offset + 1))
        col_span = slice(max(0, col - offset), min(cols, col + offset + 1))
        confidence = sigmoid(heatmap[row_span, col_span, index].astype(float))
        if confidence.max() < HEATMAP_MIN_CONFIDENCE:
            continue
        grid_rows, grid_cols = np.mgrid[row_span, col_span]
        total = confidence.sum()
        refined[index] = (
            (grid_cols * confidence).sum() / total / cols * input_size[0],
            (grid_rows * confidence).sum() / total / rows * input_size[1],
        )
    return refined


class BlazePosePipeline:
    """Detect the most confident person, crop them upright, find their 33 landmarks in that crop."""

    def __init__(
        self, landmark_model_path: Path, threads: int = 1, detector_path: Path | None = None
    ) -> None:
        self.landmark_model = LandmarkModel(landmark_model_path, threads)
        self._detector = PoseDetector(detector_path, threads) if detector_path else None
        if self._detector:
            self.decode_side = TWO_STAGE_DECODE_SIDE
        else:
            self.decode_side = max(self.landmark_model.width, self.landmark_model.height)

    def __call__(self, image: DecodedImage) -> Pose:
        if self._detector is None:
            return self._whole_photo(image)
        people = self._detector(image)
        if not people:
            return NO_PERSON
        # Best first, as MediaPipe's graph takes the first detection; its presence flag decides.
        alignment = people[0].keypoints
        roi = roi_from_alignment(alignment[HIP_CENTRE], alignment[FULL_BODY_SCALE_POINT])
        crop, transform = warp_crop(image, roi, self.landmark_model.width)
        output = self.landmark_model(crop)
        x, y = transform.to_original(output.points[:, 0], output.points[:, 1])
        return _pose(output, x, y, image)

    @property
    def interpreters(self) -> tuple:
        """The TFLite interpreters one call runs (benchmarks time their bare invokes)."""
        landmark = self.landmark_model._interpreter
        return (self._detector._interpreter, landmark) if self._detector else (landmark,)

    def _whole_photo(self, image: DecodedImage) -> Pose:
        canvas, box = letterbox(image, self.landmark_model.width, self.landmark_model.height)
        output = self.landmark_model(canvas)
        x, y = box.to_original(output.points[:, 0], output.points[:, 1])
        return _pose(output, x, y, image)


def _pose(output: LandmarkOutput, x: np.ndarray, y: np.ndarray, image: DecodedImage) -> Pose:
    """The first 33 of the model's points as landmarks, or no person when the model says so."""
    if output.presence < PRESENCE_THRESHOLD:
        return NO_PERSON
    count = len(BLAZEPOSE_LANDMARKS)
    landmarks = keypoints_from(
        BLAZEPOSE_LANDMARKS, x[:count], y[:count], output.visibility[:count], (image.width, image.height)
    )
    return Pose(
        keypoints=tuple(landmarks[i] for i in BLAZEPOSE_TO_COCO),
        landmarks=landmarks,
        score=round(output.presence, 4),
        person_detected=True,
    )
