"""BlazePose's person detector: SSD anchors, box and alignment-keypoint decoding, weighted NMS.

Every constant is MediaPipe's own, from `mediapipe/modules/pose_detection/pose_detection_cpu.pbtxt`
(SsdAnchorsCalculator, TensorsToDetectionsCalculator, NonMaxSuppressionCalculator), so the
detector is decoded exactly as it was trained, not fitted to any photo set. Two additions: when no
detection reaches the threshold, `find_people` still proposes the best few for the landmark
model's presence flag to accept or reject; and the detector can look at one region of the photo
(a tile), so people too small for the whole photo's 224 px letterbox can be found.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.errors import ModelError
from inference.images import DecodedImage
from inference.pipelines.pose import load_interpreter, sigmoid, to_input_tensor
from inference.pipelines.roi import CropTransform, RotatedRect, warp_crop, whole_photo

# SsdAnchorsCalculator: 224x224 input, 5 layers; layers sharing a stride share one grid.
ANCHOR_STRIDES = (8, 16, 32, 32, 32)
ANCHOR_OFFSET = 0.5
# One aspect ratio (1.0) plus the interpolated-scale anchor: two anchors per cell per layer.
ANCHORS_PER_LAYER = 2
# TensorsToDetectionsCalculator: 12 values per box (x, y, w, h, then 4 keypoints as x, y).
NUM_COORDS = 12
KEYPOINT_OFFSET = 4
NUM_KEYPOINTS = 4
SCORE_CLIPPING = 100.0
# The Python solution and the Tasks API both default min_detection_confidence to 0.5.
MIN_DETECTION_SCORE = 0.5
# NonMaxSuppressionCalculator: weighted NMS over intersection-over-union.
MIN_SUPPRESSION_IOU = 0.3
# Proposed when nobody reaches MIN_DETECTION_SCORE: the landmark model's presence flag judges each.
UNSURE_PROPOSALS = 3


@dataclass(frozen=True)
class Detection:
    """One person: box (x_min, y_min, x_max, y_max) and 4 alignment keypoints, in one coordinate frame.

    Keypoint 0 is the mid-hip centre, 1 encodes the full-body size and rotation, 2 and 3 the same
    for the upper body.
    """

    score: float
    box: np.ndarray  # (4,)
    keypoints: np.ndarray  # (4, 2) x, y


@dataclass(frozen=True)
class Candidates:
    """Every anchor's decoded detection, as arrays (N of each), before suppression."""

    scores: np.ndarray  # (N,)
    boxes: np.ndarray  # (N, 4)
    keypoints: np.ndarray  # (N, 4, 2)


def ssd_anchors(input_size: int = 224, strides: tuple[int, ...] = ANCHOR_STRIDES) -> np.ndarray:
    """Anchor centres (N, 2) as x, y in [0, 1], in the model's output order (row, column, anchor)."""
    centres = []
    layer = 0
    while layer < len(strides):
        same_stride = sum(1 for stride in strides[layer:] if stride == strides[layer])
        cells = int(np.ceil(input_size / strides[layer]))
        grid = (np.arange(cells) + ANCHOR_OFFSET) / cells
        y, x = np.meshgrid(grid, grid, indexing="ij")
        per_cell = np.stack([x.ravel(), y.ravel()], axis=1)
        centres.append(np.repeat(per_cell, ANCHORS_PER_LAYER * same_stride, axis=0))
        layer += same_stride
    return np.concatenate(centres)


def decode_candidates(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int
) -> Candidates:
    """Raw [N,12] regressions and [N,1] logits to one detection per anchor, in [0, 1] input units.

    With fixed-size anchors a regression is an offset in input pixels from the anchor centre.
    """
    scores = sigmoid(np.clip(raw_scores.reshape(-1), -SCORE_CLIPPING, SCORE_CLIPPING))
    values = raw_boxes.reshape(-1, NUM_COORDS).astype(np.float64) / input_size
    box_centre = values[:, 0:2] + anchors
    half_size = values[:, 2:4] / 2.0
    boxes = np.concatenate([box_centre - half_size, box_centre + half_size], axis=1)
    keypoints = values[:, KEYPOINT_OFFSET:].reshape(-1, NUM_KEYPOINTS, 2) + anchors[:, None, :]
    return Candidates(scores, boxes, keypoints)


def intersection_over_union(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) box with each of (N, 4) boxes; an empty union counts as no overlap."""
    low = np.maximum(box[:2], boxes[:, :2])
    high = np.minimum(box[2:], boxes[:, 2:])
    intersection = np.prod(np.clip(high - low, 0.0, None), axis=1)
    area = np.prod(np.clip(box[2:] - box[:2], 0.0, None))
    areas = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 0.0, None), axis=1)
    union = area + areas - intersection
    return np.divide(intersection, union, out=np.zeros_like(union), where=union > 0)


def weighted_nms(
    candidates: Candidates, threshold: float = MIN_SUPPRESSION_IOU, limit: int | None = None
) -> list[Detection]:
    """MediaPipe's WEIGHTED algorithm: each cluster becomes the score-weighted mean of its members.

    The cluster keeps its best member's score; the result is ordered best first, at most `limit` long.
    """
    remaining = np.argsort(-candidates.scores, kind="stable")
    merged: list[Detection] = []
    while remaining.size and (limit is None or len(merged) < limit):
        best = remaining[0]
        overlap = intersection_over_union(candidates.boxes[best], candidates.boxes[remaining])
        overlap[0] = 1.0  # a degenerate (empty) best box still forms its own cluster
        members, remaining = remaining[overlap > threshold], remaining[overlap <= threshold]
        weights = candidates.scores[members] / candidates.scores[members].sum()
        box = (candidates.boxes[members] * weights[:, None]).sum(axis=0)
        keypoints = (candidates.keypoints[members] * weights[:, None, None]).sum(axis=0)
        merged.append(Detection(float(candidates.scores[best]), box, keypoints))
    return merged


def find_people(
    candidates: Candidates,
    min_score: float = MIN_DETECTION_SCORE,
    unsure: int = UNSURE_PROPOSALS,
    below: int = 0,
) -> list[Detection]:
    """Everyone at or above `min_score`, best first; else the `unsure` best candidates below it.

    The landmark model's presence flag has the last word, so a person the face-based detector is
    unsure of (a helmet, a turned head) is still tried rather than silently dropped. `below`: also
    the best few candidates under `min_score` after the confident ones (someone beside a person
    found, less sure), for the caller to try when it wants more people.
    """
    confident = candidates.scores >= min_score
    if not confident.any():
        return weighted_nms(candidates, limit=max(unsure, below))
    people = weighted_nms(_subset(candidates, confident))
    return people + (weighted_nms(_subset(candidates, ~confident), limit=below) if below else [])


def _subset(candidates: Candidates, chosen: np.ndarray) -> Candidates:
    return Candidates(candidates.scores[chosen], candidates.boxes[chosen], candidates.keypoints[chosen])


class PoseDetector:
    """pose_detection.tflite on the letterboxed photo; detections come back in original-image pixels."""

    def __init__(self, model_path: Path, threads: int = 1) -> None:
        self._interpreter = load_interpreter(model_path, threads)
        self._input = self._interpreter.get_input_details()[0]
        _, self.input_size, width, _ = (int(v) for v in self._input["shape"])
        self.anchors = ssd_anchors(self.input_size)
        outputs = {tuple(d["shape"]): d["index"] for d in self._interpreter.get_output_details()}
        boxes, scores = (1, len(self.anchors), NUM_COORDS), (1, len(self.anchors), 1)
        if width != self.input_size or boxes not in outputs or scores not in outputs:
            raise ModelError(
                f"no square input with {list(boxes)} box and {list(scores)} score outputs;"
                " is this MediaPipe's pose_detection model?",
                where=str(model_path),
            )
        self._boxes_index, self._scores_index = outputs[boxes], outputs[scores]

    def __call__(
        self,
        image: DecodedImage,
        region: RotatedRect | None = None,
        unsure: int = UNSURE_PROPOSALS,
        below: int = 0,
    ) -> list[Detection]:
        """People in `region` (default: the whole photo) best first; else the `unsure` best candidates."""
        # pose_detection_cpu.pbtxt: the whole photo, letterboxed (keep_aspect_ratio, BORDER_ZERO).
        canvas, transform = warp_crop(image, region or whole_photo(image), self.input_size)
        # ... as float in [-1, 1] (output_tensor_float_range).
        self._interpreter.set_tensor(self._input["index"], to_input_tensor(canvas, self._input, (-1.0, 1.0)))
        self._interpreter.invoke()
        raw_boxes = self._interpreter.get_tensor(self._boxes_index)[0]
        raw_scores = self._interpreter.get_tensor(self._scores_index)[0]
        candidates = decode_candidates(raw_boxes, raw_scores, self.anchors, self.input_size)
        people = find_people(candidates, unsure=unsure, below=below)
        return [_to_original(person, transform, self.input_size) for person in people]


def _to_original(detection: Detection, transform: CropTransform, input_size: int) -> Detection:
    """From [0, 1] units of the letterboxed input to original-image pixels."""
    points = np.concatenate([detection.box.reshape(2, 2), detection.keypoints]) * input_size
    x, y = transform.to_original(points[:, 0], points[:, 1])
    original = np.stack([x, y], axis=1)
    return Detection(detection.score, original[:2].ravel(), original[2:])
