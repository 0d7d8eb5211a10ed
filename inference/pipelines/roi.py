"""The rotated, person-aligned square the landmark model sees, and the affine warp in and out of it.

MediaPipe's pose_detection_to_roi.pbtxt: AlignmentPointsRectsCalculator (centre at the mid-hip
keypoint, side twice its distance to the size/rotation keypoint, rotated so that vector points up)
then RectTransformationCalculator (square_long, scale 1.25). Coordinates are continuous pixels:
pixel (i, j) covers [i, i+1) x [j, j+1), the convention PIL's transform samples with.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image

from inference.images import DecodedImage

# rotation_vector_target_angle_degrees: the hip-to-head vector is turned to point straight up.
TARGET_ANGLE = math.pi / 2
# RectTransformationCalculator scale_x / scale_y: the margin the landmark model was trained with.
ROI_SCALE = 1.25
# Bilinear sampling (MediaPipe's ImageToTensor) aliases when it shrinks a lot: past twice this
# factor the photo is box-averaged first, so the bilinear step always shrinks by 2x to 4x.
BILINEAR_SHRINK = 2


@dataclass(frozen=True)
class RotatedRect:
    """A square in original-image pixels; `rotation` is clockwise on screen, in radians."""

    x_center: float
    y_center: float
    size: float
    rotation: float


@dataclass(frozen=True)
class CropTransform:
    """Crop pixels to original-image pixels: original = matrix @ (x, y) + offset."""

    matrix: np.ndarray  # (2, 2)
    offset: np.ndarray  # (2,)

    def to_original(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        points = self.matrix @ np.stack([np.asarray(x, float), np.asarray(y, float)]) + self.offset[:, None]
        return points[0], points[1]

    def to_crop(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        points = np.stack([np.asarray(x, float), np.asarray(y, float)]) - self.offset[:, None]
        crop = np.linalg.solve(self.matrix, points)
        return crop[0], crop[1]


def normalize_radians(angle: float) -> float:
    """Wrap to [-pi, pi), as MediaPipe's NormalizeRadians does."""
    return angle - 2 * math.pi * math.floor((angle + math.pi) / (2 * math.pi))


def roi_from_alignment(center: np.ndarray, scale_point: np.ndarray, scale: float = ROI_SCALE) -> RotatedRect:
    """The landmark model's region from two alignment keypoints given in original-image pixels."""
    dx, dy = (float(v) for v in np.asarray(scale_point) - np.asarray(center))
    # The y axis points down on screen, so it is flipped before measuring the angle.
    rotation = normalize_radians(TARGET_ANGLE - math.atan2(-dy, dx))
    size = 2.0 * math.hypot(dx, dy) * scale
    return RotatedRect(float(center[0]), float(center[1]), size, rotation)


def whole_photo(image: DecodedImage) -> RotatedRect:
    """The square around the whole photo: warping it to a square input is a centred letterbox."""
    return RotatedRect(image.width / 2, image.height / 2, float(max(image.width, image.height)), 0.0)


def crop_transform(roi: RotatedRect, side: int) -> CropTransform:
    """Map a `side` x `side` crop onto `roi`: the crop's centre is the ROI's, its up is the ROI's up."""
    cos, sin = math.cos(roi.rotation), math.sin(roi.rotation)
    rotation = np.array([[cos, -sin], [sin, cos]])
    matrix = rotation * (roi.size / side)
    offset = np.array([roi.x_center, roi.y_center]) - rotation @ np.array([roi.size / 2, roi.size / 2])
    return CropTransform(matrix, offset)


def warp_crop(image: DecodedImage, roi: RotatedRect, side: int) -> tuple[np.ndarray, CropTransform]:
    """The ROI resampled to `side` x `side` uint8 RGB, zero outside the photo, and its transform."""
    transform = crop_transform(roi, side)
    # The coarsest decode with BILINEAR_SHRINK pixels for each crop pixel: a person small in a large
    # JPEG gets it decoded again at a finer DCT scale (in stored orientation: the view maps there).
    corners = (
        transform.matrix @ np.array([[0, side, 0, side], [0, 0, side, side]]) + transform.offset[:, None]
    )
    view = image.view(BILINEAR_SHRINK * side / roi.size if roi.size > 0 else 0.0, corners)
    pixels = view.pixels
    matrix, offset = view.matrix @ transform.matrix, view.matrix @ transform.offset + view.offset
    factor = int(math.hypot(*matrix[:, 0]) // BILINEAR_SHRINK)
    if factor > 1:
        pixels, matrix, offset = _box_reduced(pixels, matrix, offset, side, factor)
    coefficients = (matrix[0, 0], matrix[0, 1], offset[0], matrix[1, 0], matrix[1, 1], offset[1])
    crop = pixels.transform(
        (side, side), Image.Transform.AFFINE, coefficients, resample=Image.Resampling.BILINEAR, fillcolor=0
    )
    return np.asarray(crop, dtype=np.uint8), transform


def _box_reduced(
    pixels: Image.Image, matrix: np.ndarray, offset: np.ndarray, side: int, factor: int
) -> tuple[Image.Image, np.ndarray, np.ndarray]:
    """Average `factor` x `factor` blocks of the part of the photo the crop covers, and re-aim the warp."""
    corners = matrix @ np.array([[0, side, 0, side], [0, 0, side, side]]) + offset[:, None]
    left, top = (max(0, math.floor(v) - factor) for v in corners.min(axis=1))
    right = min(pixels.width, math.ceil(corners[0].max()) + factor)
    bottom = min(pixels.height, math.ceil(corners[1].max()) + factor)
    if right <= left or bottom <= top:  # the crop lies wholly outside the photo: all zeros anyway
        return pixels, matrix, offset
    region = pixels.reduce(factor, box=(left, top, right, bottom))
    return region, matrix / factor, (offset - np.array([left, top])) / factor
